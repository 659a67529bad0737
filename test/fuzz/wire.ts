// Protobuf bytes written by hand, so that the fuzzer can put on the wire what
// no encoder would: strings that are not UTF-8, uint32 fields carrying 64-bit
// varints, 2^64-1 in a uint64. Plus fast-check generators of such values and
// of mutations of valid messages.
import fc from 'fast-check';

/** One field: a varint (wire type 0) or length-delimited bytes (wire type 2). */
export type Field =
  { n: number; v: bigint | number | boolean } | { n: number; b: Uint8Array | string | Buffer };

function varint(v: bigint, out: number[]): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** The fields as one message, in the order given (repeated fields repeat). */
export function encode(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    const head: number[] = [];
    if ('v' in f) {
      varint(BigInt(f.n) << 3n, head);
      varint(typeof f.v === 'boolean' ? (f.v ? 1n : 0n) : BigInt(f.v), head);
      parts.push(Buffer.from(head));
    } else {
      const body = typeof f.b === 'string' ? Buffer.from(f.b, 'utf8') : Buffer.from(f.b);
      varint((BigInt(f.n) << 3n) | 2n, head);
      varint(BigInt(body.length), head);
      parts.push(Buffer.from(head), body);
    }
  }
  return Buffer.concat(parts);
}

const U64_EDGES = [
  0n,
  1n,
  2n ** 31n - 1n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

/** A uint64 on the wire: an edge, anything, or near one of `near` (current term, index). */
export function absurdU64(near: readonly number[] = []): fc.Arbitrary<bigint> {
  const around =
    near.length === 0
      ? fc.constant(0n)
      : fc
          .tuple(fc.constantFrom(...near), fc.integer({ min: -2, max: 2 }))
          .map(([v, d]) => BigInt(Math.max(0, v + d)));
  return fc.oneof(
    fc.constantFrom(...U64_EDGES),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    around,
  );
}

/** A uint32 field's value: legal, just over a limit, or a 64-bit varint the field cannot hold. */
export function absurdU32(): fc.Arbitrary<bigint> {
  return fc.oneof(
    fc.constantFrom(
      0n,
      1n,
      100_000n,
      100_001n,
      2n ** 31n,
      2n ** 32n - 1n,
      2n ** 32n,
      2n ** 64n - 1n,
    ),
    fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
  );
}

/**
 * Names that no validator should accept, as raw bytes: not UTF-8 (lone
 * continuation bytes, overlong forms, surrogates, 0xff), too long, empty, or
 * with characters outside [A-Za-z0-9._:/-]. A valid-looking one now and then
 * keeps the validator honest (the caller filters what would act).
 */
export function badName(): fc.Arbitrary<Uint8Array> {
  const invalidUtf8 = fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...'abcXYZ09._:/-'), maxLength: 20 }),
      fc.constantFrom(
        [0xff],
        [0x80],
        [0xc0, 0xaf],
        [0xe0, 0x80, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xc3],
        [0xf0, 0x9f, 0x98],
      ),
      fc.string({ unit: fc.constantFrom(...'abc'), maxLength: 5 }),
    )
    .map(([a, bad, b]) => Buffer.concat([Buffer.from(a), Buffer.from(bad), Buffer.from(b)]));
  return fc.oneof(
    invalidUtf8,
    fc.integer({ min: 201, max: 70_000 }).map((n) => Buffer.alloc(n, 'a')),
    fc.constant(Buffer.alloc(0)),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ minLength: 1, maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(...'ab.-'), minLength: 1, maxLength: 8 }).map(Buffer.from),
  );
}

/** Random bytes, mostly short (where the decoder's branches are), sometimes large. */
export function randomBytes(): fc.Arbitrary<Buffer> {
  return fc
    .oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
    )
    .map((u) => Buffer.from(u));
}

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'repeat'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0x7f, 0x80, 0xff),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 16 }),
  }),
);

function apply(buf: Buffer, m: Mutation): Buffer {
  if (buf.length === 0) return m.op === 'insert' ? Buffer.from(m.bytes) : buf;
  const at = m.at % buf.length;
  const out = Buffer.from(buf);
  switch (m.op) {
    case 'flip':
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    case 'set':
      out[at] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
    case 'repeat':
      return Buffer.concat([out.subarray(0, at + m.len), out.subarray(at)]);
  }
}

/** `base` with one to four mutations applied. */
export function mutated(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(base, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([b, ms]) => ms.reduce(apply, b));
}
