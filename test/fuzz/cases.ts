// What the fuzzer sends: one generated case is one call to one node, as one
// identity, carrying raw request bytes that reach the server's deserializer.
//
// Every case is malformed: bytes that do not decode, names that are not
// UTF-8 or not allowed, counts and values past every limit, Raft messages
// with absurd terms and indexes from a certified stranger, streams cut short.
// A generated request that would be *valid* and act (take values, add a
// member, advance a sequence, move leadership) is filtered out, because
// acting is then the right answer; wouldAct() decides with the server's own
// decoder and validation rules, and the runner counts what it skipped.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { raftseqApi } from '../../src/proto/load.js';
import {
  hostPortProblem,
  memberIdProblem,
  parseSequenceValue,
  sequenceNameProblem,
} from '../../src/common/validate.js';
import { WIRE_FORMAT } from '../../src/transport/formats.js';
import { absurdU32, absurdU64, badName, encode, mutated, randomBytes, type Field } from './wire.js';

export type Identity = 'admin' | 'member' | 'none';
/** How the call ends: normally, cancelled by us, or cut inside a message (then closed or reset). */
export type Ending = 'half-close' | 'cancel' | 'truncate' | 'reset';
export type Streaming = 'unary' | 'client' | 'bidi';

export interface FuzzCase {
  service: string;
  method: string;
  path: string;
  streaming: Streaming;
  as: Identity;
  /** Index of the node called. */
  target: number;
  messages: Buffer[];
  end: Ending;
  metadata: [string, string][];
  /** Which generator made it: random, mutated, struct, oversize. */
  gen: string;
  /** When set, the only acceptable answers (else any clean code). */
  expect?: grpc.status[];
}

/** What the generators know of the cluster under test. */
export interface FuzzContext {
  /** Member ids, by node index. */
  ids: string[];
  /** The fuzzing peer's member id: certified by the CA, not in the cluster. */
  peerId: string;
  knownSequence: string;
  term: number;
  lastIndex: number;
  commit: number;
  /** The server's --max-count. */
  maxCount: number;
}

const S = grpc.status;
/** The client API's request limit (src/api/server.ts MAX_API_REQUEST_BYTES). */
const API_LIMIT = 64 * 1024;

interface MethodSpec {
  service: string;
  method: string;
  path: string;
  streaming: Streaming;
  /** Needs an admin identity (UNAUTHENTICATED without one, PERMISSION_DENIED with another). */
  adminMutation?: boolean;
  /** Needs a member certificate. */
  peer?: boolean;
  /** Valid-looking messages, mutated by the 'mutated' generator. */
  valid: (ctx: FuzzContext) => fc.Arbitrary<Buffer>;
  /** Well-formed messages with malformed contents. */
  struct: (ctx: FuzzContext) => fc.Arbitrary<Buffer>;
}

const str = (n: number, b: Uint8Array | string): Field => ({ n, b });
const num = (n: number, v: bigint | number | boolean): Field => ({ n, v });

const address = fc.oneof(
  fc.constantFrom('127.0.0.1:7001', 'x', ':1', '127.0.0.1:99999', 'a:b:c', '[::1]:', ''),
  badName(),
);

function nameOrKnown(ctx: FuzzContext): fc.Arbitrary<Uint8Array | string> {
  return fc.oneof({ weight: 4, arbitrary: badName() }, fc.constant(ctx.knownSequence));
}

function memberIdLike(ctx: FuzzContext): fc.Arbitrary<Uint8Array | string> {
  return fc.oneof(badName(), fc.constantFrom(...ctx.ids, ctx.peerId, 'n-9', ''));
}

const API = 'raftseq.v1';

const SPECS: MethodSpec[] = [
  {
    service: 'Sequencer',
    method: 'Next',
    path: `/${API}.Sequencer/Next`,
    streaming: 'unary',
    valid: (ctx) => fc.nat(10).map((c) => encode([str(1, ctx.knownSequence), num(2, c)])),
    struct: (ctx) =>
      fc.tuple(nameOrKnown(ctx), absurdU32()).map(([n, c]) => encode([str(1, n), num(2, c)])),
  },
  {
    service: 'Sequencer',
    method: 'NextStream',
    path: `/${API}.Sequencer/NextStream`,
    streaming: 'bidi',
    valid: (ctx) =>
      fc
        .tuple(fc.nat(1000), fc.nat(10))
        .map(([id, c]) => encode([num(1, id), str(2, ctx.knownSequence), num(3, c)])),
    struct: (ctx) =>
      fc
        .tuple(absurdU64(), nameOrKnown(ctx), absurdU32(), absurdU32())
        .map(([id, n, c, t]) => encode([num(1, id), str(2, n), num(3, c), num(4, t)])),
  },
  {
    service: 'Cluster',
    method: 'Status',
    path: `/${API}.Cluster/Status`,
    streaming: 'unary',
    valid: () => fc.constant(Buffer.alloc(0)),
    struct: () =>
      fc.tuple(fc.integer({ min: 1, max: 99 }), badName()).map(([n, b]) => encode([str(n, b)])),
  },
  {
    service: 'Cluster',
    method: 'ListSequences',
    path: `/${API}.Cluster/ListSequences`,
    streaming: 'unary',
    valid: () => fc.nat(100).map((l) => encode([str(1, ''), num(2, l)])),
    struct: () => fc.tuple(badName(), absurdU32()).map(([a, l]) => encode([str(1, a), num(2, l)])),
  },
  {
    service: 'Cluster',
    method: 'GetSequence',
    path: `/${API}.Cluster/GetSequence`,
    streaming: 'unary',
    valid: (ctx) => fc.constant(encode([str(1, ctx.knownSequence)])),
    struct: (ctx) => nameOrKnown(ctx).map((n) => encode([str(1, n)])),
  },
  {
    service: 'Cluster',
    method: 'AddMember',
    path: `/${API}.Cluster/AddMember`,
    streaming: 'unary',
    adminMutation: true,
    valid: () => fc.constant(encode([str(1, 'n7'), str(2, '127.0.0.1:1')])),
    struct: (ctx) =>
      fc
        .tuple(memberIdLike(ctx), address, address)
        .map(([id, a, adv]) => encode([str(1, id), str(2, a), str(3, adv)])),
  },
  {
    service: 'Cluster',
    method: 'RemoveMember',
    path: `/${API}.Cluster/RemoveMember`,
    streaming: 'unary',
    adminMutation: true,
    valid: (ctx) => fc.constant(encode([str(1, ctx.ids[2]!)])),
    struct: (ctx) =>
      fc.tuple(memberIdLike(ctx), fc.boolean()).map(([id, f]) => encode([str(1, id), num(2, f)])),
  },
  {
    service: 'Cluster',
    method: 'TransferLeadership',
    path: `/${API}.Cluster/TransferLeadership`,
    streaming: 'unary',
    adminMutation: true,
    valid: (ctx) => fc.constant(encode([str(1, ctx.ids[1]!)])),
    struct: (ctx) => memberIdLike(ctx).map((id) => encode([str(1, id)])),
  },
  {
    service: 'Cluster',
    method: 'AdvanceSequence',
    path: `/${API}.Cluster/AdvanceSequence`,
    streaming: 'unary',
    adminMutation: true,
    valid: (ctx) => fc.constant(encode([str(1, ctx.knownSequence), num(2, 1_000_000)])),
    struct: (ctx) =>
      fc.tuple(nameOrKnown(ctx), absurdU64()).map(([n, to]) => encode([str(1, n), num(2, to)])),
  },
  {
    service: 'Cluster',
    method: 'RegisterMember',
    path: `/${API}.Cluster/RegisterMember`,
    streaming: 'unary',
    peer: true,
    valid: (ctx) => fc.constant(encode([str(1, ctx.peerId), str(2, 'abc'), str(3, '127.0.0.1:1')])),
    struct: (ctx) =>
      fc
        .tuple(memberIdLike(ctx), badName(), address)
        .map(([id, inc, adv]) => encode([str(1, id), str(2, inc), str(3, adv)])),
  },
  {
    service: 'Raft',
    method: 'Send',
    path: `/${API}.Raft/Send`,
    streaming: 'client',
    peer: true,
    valid: (ctx) => raftBatch(ctx, 'tame'),
    struct: (ctx) =>
      fc.oneof({ weight: 3, arbitrary: raftBatch(ctx, 'absurd') }, raftBatch(ctx, 'wild')),
  },
  {
    service: 'Raft',
    method: 'InstallSnapshot',
    path: `/${API}.Raft/InstallSnapshot`,
    streaming: 'client',
    peer: true,
    valid: (ctx) => snapshotChunk(ctx, true),
    struct: (ctx) => fc.oneof(snapshotChunk(ctx, false, true), snapshotChunk(ctx, false)),
  },
  {
    service: 'Health',
    method: 'Check',
    path: '/grpc.health.v1.Health/Check',
    streaming: 'unary',
    valid: () => fc.constantFrom(encode([str(1, '')]), encode([str(1, `${API}.Sequencer`)])),
    struct: () => badName().map((n) => encode([str(1, n)])),
  },
  {
    service: 'Ops',
    method: 'Overview',
    path: `/${API}.Ops/Overview`,
    streaming: 'unary',
    valid: () => fc.constant(Buffer.alloc(0)),
    struct: () => badName().map((n) => encode([str(1, n)])),
  },
];

// ----------------------------------------------------------------- Raft

/**
 * How wild a Raft message is: `tame` (the fuzzing peer's own, near the
 * cluster's term and indexes: the base of mutations), `absurd` (decodable:
 * known types, from the peer, integers up to 2^53-1 but absurd, so that it
 * reaches the Raft core), `wild` (anything, 64-bit values included).
 */
type RaftMode = 'tame' | 'absurd' | 'wild';

function raftU64(ctx: FuzzContext, mode: RaftMode): fc.Arbitrary<bigint> {
  const near = [ctx.term, ctx.lastIndex, ctx.commit];
  if (mode === 'tame') return fc.constantFrom(...near.map(BigInt));
  if (mode === 'wild') return absurdU64(near);
  return fc.oneof(
    fc
      .tuple(fc.constantFrom(...near), fc.integer({ min: -2, max: 3 }))
      .map(([v, d]) => BigInt(Math.max(0, v + d))),
    fc.constantFrom(0n, 2n ** 31n, 2n ** 32n, 2n ** 40n, 2n ** 53n - 1n),
    fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
  );
}

/** One RaftMessage. */
function raftMessage(ctx: FuzzContext, mode: RaftMode): fc.Arbitrary<Buffer> {
  const u64 = raftU64(ctx, mode);
  const entry = fc
    .tuple(
      u64,
      u64,
      mode === 'wild' ? fc.nat(3) : fc.integer({ min: 1, max: 2 }),
      fc.uint8Array({ maxLength: 32 }),
      mode === 'wild' ? fc.nat(4) : fc.integer({ min: 1, max: 3 }),
      mode === 'wild' ? memberIdLike(ctx) : fc.constantFrom(...ctx.ids, ctx.peerId, 'n7'),
    )
    .map(([i, t, type, data, ct, id]) =>
      encode([
        num(1, i),
        num(2, t),
        num(3, type),
        str(4, data),
        ...(type === 2 ? [str(5, encode([num(1, ct), str(2, id)]))] : []),
      ]),
    );
  return fc
    .record({
      // Snapshots (9) never travel in a RaftBatch: absurd ones use the other types.
      type: mode === 'wild' ? fc.nat(12) : fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8, 10),
      from:
        mode === 'wild'
          ? fc.oneof(fc.constant(ctx.peerId), memberIdLike(ctx))
          : fc.constant(ctx.peerId),
      to:
        mode === 'wild'
          ? fc.oneof(fc.constantFrom(...ctx.ids), memberIdLike(ctx))
          : fc.constantFrom(...ctx.ids),
      term: u64,
      logIndex: u64,
      logTerm: u64,
      entries: fc.array(entry, { maxLength: 3 }),
      commit: u64,
      sentTick: u64,
      flags: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    })
    .map((m) =>
      encode([
        num(1, m.type),
        str(2, m.from),
        str(3, m.to),
        num(4, m.term),
        num(5, m.logIndex),
        num(6, m.logTerm),
        ...m.entries.map((e) => str(7, e)),
        num(8, m.commit),
        num(9, m.sentTick),
        ...m.flags.map((f, i) => num(10 + i, f)),
      ]),
    );
}

function raftBatch(ctx: FuzzContext, mode: RaftMode): fc.Arbitrary<Buffer> {
  const format =
    mode !== 'wild'
      ? fc.constant(BigInt(WIRE_FORMAT))
      : fc.oneof(fc.constant(BigInt(WIRE_FORMAT)), absurdU32());
  const from =
    mode !== 'wild'
      ? fc.constant(ctx.peerId)
      : fc.oneof(fc.constant(ctx.peerId), memberIdLike(ctx));
  return fc
    .tuple(format, from, fc.array(raftMessage(ctx, mode), { minLength: 1, maxLength: 4 }))
    .map(([f, fr, ms]) => encode([num(1, f), str(2, fr), ...ms.map((m) => str(3, m))]));
}

/**
 * One SnapshotChunk. `whole`: a complete one-chunk snapshot from the fuzzing
 * peer (header size = data length, offset 0, raw), so that it reaches the Raft
 * core; otherwise anything, with absurd sizes, offsets and compressions.
 */
function snapshotChunk(ctx: FuzzContext, tame: boolean, whole = false): fc.Arbitrary<Buffer> {
  const u64 = raftU64(ctx, tame ? 'tame' : 'absurd');
  const ids = fc.array(memberIdLike(ctx), { maxLength: 4 });
  const sized = <T>(wild: fc.Arbitrary<T>, exact: T): fc.Arbitrary<T> =>
    whole ? fc.constant(exact) : wild;
  return fc.uint8Array({ maxLength: 64 }).chain((data) => {
    const header = fc
      .record({
        from: whole
          ? fc.constant(ctx.peerId)
          : fc.oneof(fc.constant(ctx.peerId), memberIdLike(ctx)),
        to: whole
          ? fc.constantFrom(...ctx.ids)
          : fc.oneof(fc.constantFrom(...ctx.ids), memberIdLike(ctx)),
        term: u64,
        tick: u64,
        index: u64,
        sterm: u64,
        voters: ids,
        learners: ids,
        size: sized(fc.oneof(fc.nat(64).map(BigInt), absurdU64()), BigInt(data.length)),
        compression: sized(fc.oneof(fc.constantFrom(0n, 1n), absurdU32()), 0n),
        raw: fc.oneof(fc.nat(64).map(BigInt), absurdU64()),
      })
      .map((h) =>
        encode([
          str(1, h.from),
          str(2, h.to),
          num(3, h.term),
          num(4, h.tick),
          num(5, h.index),
          num(6, h.sterm),
          ...h.voters.map((v) => str(7, v)),
          ...h.learners.map((v) => str(8, v)),
          num(9, h.size),
          num(10, h.compression),
          num(11, h.raw),
        ]),
      );
    return fc
      .tuple(
        tame || whole ? fc.constant(BigInt(WIRE_FORMAT)) : absurdU32(),
        whole ? header : fc.option(header, { nil: undefined }),
        sized(fc.oneof(fc.nat(64).map(BigInt), absurdU64()), 0n),
      )
      .map(([f, h, off]) =>
        encode([num(1, f), ...(h !== undefined ? [str(2, h)] : []), num(3, off), str(4, data)]),
      );
  });
}

// ------------------------------------------------------------ the filter

const apiDef = raftseqApi();
const decoders: Record<string, (b: Buffer) => unknown> = {};
for (const def of [apiDef.Sequencer.service, apiDef.Cluster.service]) {
  for (const m of Object.values(def)) decoders[m.path] = (b) => m.requestDeserialize(b);
}

type Decoded = { ok: true; value: Record<string, unknown> } | { ok: false };

/** The request as the server decodes it, or not at all (Sequencer and Cluster only). */
export function decodeApi(path: string, bytes: Buffer): Decoded | null {
  const decode = decoders[path];
  if (decode === undefined) return null;
  try {
    return { ok: true, value: decode(bytes) as Record<string, unknown> };
  } catch {
    return { ok: false };
  }
}

/** The server's own rules: would this (decodable) request act, i.e. change something? */
function wouldAct(
  c: { method: string; as: Identity },
  r: Record<string, unknown>,
  ctx: FuzzContext,
): boolean {
  const count = (v: unknown): boolean => {
    const n = Number(v ?? 0);
    return n <= ctx.maxCount;
  };
  switch (c.method) {
    case 'Next':
      return sequenceNameProblem(r.sequence) === null && count(r.count);
    case 'NextStream':
      return sequenceNameProblem(r.sequence) === null && count(r.count);
    case 'AddMember':
      return (
        c.as === 'admin' && memberIdProblem(r.id) === null && hostPortProblem(r.address) === null
      );
    case 'RemoveMember':
      return c.as === 'admin' && memberIdProblem(r.id) === null;
    case 'TransferLeadership':
      // An empty `to` means "to whichever member is best" (cluster.ts).
      return c.as === 'admin' && (r.to === '' || memberIdProblem(r.to) === null);
    case 'AdvanceSequence':
      return (
        c.as === 'admin' && sequenceNameProblem(r.name) === null && parseSequenceValue(r.to).ok
      );
    default:
      return false;
  }
}

/** True when every message of `c` is malformed (the case may be sent). */
export function malformed(c: FuzzCase, ctx: FuzzContext): boolean {
  if (c.end === 'truncate' || c.end === 'reset') {
    // Only the last message is cut; the ones before it must be malformed too.
    return c.messages.slice(0, -1).every((m) => malformedMessage(c, m, ctx));
  }
  return c.messages.every((m) => malformedMessage(c, m, ctx));
}

function malformedMessage(c: FuzzCase, m: Buffer, ctx: FuzzContext): boolean {
  const d = decodeApi(c.path, m);
  if (d === null || !d.ok) return true;
  return !wouldAct(c, d.value, ctx);
}

/** Identity-based refusals that come before any message is read. */
function refusalFor(spec: MethodSpec, as: Identity): grpc.status[] | undefined {
  if (spec.adminMutation && as !== 'admin') {
    return as === 'none' ? [S.UNAUTHENTICATED] : [S.PERMISSION_DENIED];
  }
  if (spec.peer && as !== 'member')
    return as === 'none' ? [S.UNAUTHENTICATED] : [S.PERMISSION_DENIED];
  return undefined;
}

/** The codes a case must get, where the contract pins them. */
export function expectedCodes(c: FuzzCase, spec: MethodSpec): grpc.status[] | undefined {
  // Cancelled or reset by us: the outcome is ours, only the node's health is checked.
  if (c.end === 'cancel' || c.end === 'reset') return undefined;
  const refusal = refusalFor(spec, c.as);
  if (refusal) return refusal;
  if (c.streaming === 'unary' && c.end === 'truncate') return [S.INVALID_ARGUMENT];
  if (c.end !== 'half-close') return undefined;
  // A follower ends a NextStream with UNAVAILABLE (and the leader's address) before reading it.
  const redirect = c.method === 'NextStream' ? [S.UNAVAILABLE] : [];
  // The first message that cannot be served decides: too large, or undecodable.
  for (const m of c.messages) {
    const d = decodeApi(c.path, m);
    if (d === null) return undefined;
    if (m.length > API_LIMIT) return [S.RESOURCE_EXHAUSTED, ...redirect];
    if (!d.ok) return [S.INVALID_ARGUMENT, ...redirect];
  }
  return undefined;
}

// ----------------------------------------------------------- the cases

function identityFor(spec: MethodSpec): fc.Arbitrary<Identity> {
  const usual: Identity = spec.peer ? 'member' : spec.adminMutation ? 'admin' : 'none';
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(usual) },
    fc.constantFrom<Identity>('admin', 'member', 'none'),
  );
}

function endingFor(spec: MethodSpec): fc.Arbitrary<Ending> {
  if (spec.streaming === 'unary') {
    return fc.oneof(
      { weight: 18, arbitrary: fc.constant<Ending>('half-close') },
      { weight: 1, arbitrary: fc.constant<Ending>('truncate') },
      { weight: 1, arbitrary: fc.constant<Ending>('reset') },
    );
  }
  return fc.oneof(
    { weight: 14, arbitrary: fc.constant<Ending>('half-close') },
    { weight: 4, arbitrary: fc.constant<Ending>('cancel') },
    { weight: 1, arbitrary: fc.constant<Ending>('truncate') },
    { weight: 1, arbitrary: fc.constant<Ending>('reset') },
  );
}

/** The messages of one call, all from one generator (a stream mixing them mostly ends at the first bad one). */
function messagesFor(
  spec: MethodSpec,
  ctx: FuzzContext,
): fc.Arbitrary<{ gen: string; bytes: Buffer }[]> {
  const max = spec.streaming !== 'unary' ? 4 : 1;
  const of = (gen: string, one: fc.Arbitrary<Buffer>) =>
    fc
      .array(one, { minLength: 1, maxLength: max })
      .map((bs) => bs.map((bytes) => ({ gen, bytes })));
  return fc.oneof(
    { weight: 3, arbitrary: of('random', randomBytes()) },
    { weight: 3, arbitrary: of('mutated', mutated(spec.valid(ctx))) },
    { weight: 4, arbitrary: of('struct', spec.struct(ctx)) },
  );
}

function caseFor(spec: MethodSpec, ctx: FuzzContext): fc.Arbitrary<FuzzCase> {
  const oversize = spec.service === 'Sequencer' || spec.service === 'Cluster';
  const normal = messagesFor(spec, ctx);
  const messages = !oversize
    ? normal
    : fc.oneof(
        { weight: 30, arbitrary: normal },
        {
          weight: 1,
          arbitrary: fc
            .integer({ min: API_LIMIT + 1, max: 4 * API_LIMIT })
            .map((n) => [{ gen: 'oversize', bytes: encode([str(1, Buffer.alloc(n, 'a'))]) }]),
        },
      );
  // Metadata values must be printable ASCII (grpc-js refuses others before sending).
  const metaId = fc.constantFrom(ctx.peerId, ...ctx.ids, '', 'n-9', 'x'.repeat(300));
  const peerMetadata = fc.oneof(
    { weight: 8, arbitrary: fc.constant<[string, string][]>([]) },
    fc.tuple(metaId, metaId).map(([from, to]): [string, string][] => [
      ['raftseq-from', from],
      ['raftseq-to', to],
    ]),
  );
  return fc
    .record({
      as: identityFor(spec),
      target: fc.nat(ctx.ids.length - 1),
      messages,
      end: endingFor(spec),
      peerMeta: peerMetadata,
    })
    .map((r): FuzzCase => {
      const c: FuzzCase = {
        service: spec.service,
        method: spec.method,
        path: spec.path,
        streaming: spec.streaming,
        as: r.as,
        target: r.target,
        messages: r.messages.map((m) => m.bytes),
        end: r.end,
        // A Raft stream names its sender and receiver; by default truthfully.
        metadata:
          spec.service === 'Raft'
            ? r.peerMeta.length > 0
              ? r.peerMeta
              : [
                  ['raftseq-from', ctx.peerId],
                  ['raftseq-to', ctx.ids[r.target]!],
                ]
            : [],
        gen: r.messages.some((m) => m.gen === 'oversize')
          ? 'oversize'
          : r.messages.map((m) => m.gen).sort()[0]!,
      };
      const expect = expectedCodes(c, spec);
      return expect !== undefined ? { ...c, expect } : c;
    });
}

/** Every case the fuzzer may send (some filtered out by the runner: see malformed()). */
export function fuzzCases(ctx: FuzzContext): fc.Arbitrary<FuzzCase> {
  const weight = (s: MethodSpec): number =>
    s.service === 'Raft' ? 12 : s.service === 'Sequencer' ? 10 : s.service === 'Cluster' ? 4 : 2;
  return fc.oneof(...SPECS.map((s) => ({ weight: weight(s), arbitrary: caseFor(s, ctx) })));
}

/** The service names the fuzzer covers. */
export const FUZZED_SERVICES = [...new Set(SPECS.map((s) => s.service))];
