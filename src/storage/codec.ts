// Binary codec for what the storage keeps: Entry, HardState, Snapshot and
// opaque metadata blobs. Hand-rolled on DataView so the format is ours and
// stable (no dependency can change it under us).
//
// Record:  [format version u8][crc32 u32 BE over payload][payload]
// Payload: [kind u8][fields]
// Fields:  [count u32 BE] then count × [length u32 BE][bytes]
//
// Every field is length-prefixed and the count is stored, so a later record
// format can append fields: its decoder sees fewer fields in old records and
// defaults them, while this decoder refuses the newer version outright rather
// than silently dropping what it does not understand. Nested values (ConfState,
// ConfChange, lists of ids) are fields encoded the same way.

import { crc32 } from 'node:zlib';
import type {
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  HardState,
  Snapshot,
} from '../raft/types.js';
import { RECORD_FORMAT } from './formats.js';

export type CodecErrorKind = 'version' | 'checksum' | 'truncated' | 'malformed';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(
    readonly kind: CodecErrorKind,
    message: string,
    /** For kind 'version': the record format found. */
    readonly version: number | null = null,
  ) {
    super(message);
  }
}

const HEADER = 5;

const Kind = { Entry: 1, HardState: 2, Snapshot: 3, Blob: 4 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];
const KIND_NAMES: Record<number, string> = {
  1: 'entry',
  2: 'hard state',
  3: 'snapshot',
  4: 'blob',
};

const ENTRY_TYPES = ['normal', 'conf'] as const;
const CHANGE_TYPES: readonly ConfChangeType[] = ['add-learner', 'promote', 'remove'];

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

// ---- encoding -------------------------------------------------------------

function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a stored integer: ${n}`);
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, Math.floor(n / 2 ** 32));
  v.setUint32(4, n >>> 0);
  return b;
}

function u8(n: number): Uint8Array {
  return Uint8Array.of(n);
}

/** null and "" must stay distinct, so a presence byte leads. */
function optStr(s: string | null): Uint8Array {
  return s === null ? u8(0) : concat([u8(1), utf8.encode(s)]);
}

const fieldsLength = (parts: readonly Uint8Array[]): number =>
  4 + parts.reduce((n, p) => n + 4 + p.length, 0);

/** Writes the fields block of `parts` into `out` at `at`. */
function writeFields(out: Uint8Array, at: number, parts: readonly Uint8Array[]): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(at, parts.length);
  at += 4;
  for (const p of parts) {
    v.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
}

function fields(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(fieldsLength(parts));
  writeFields(out, 0, parts);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function frame(kind: Kind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + 1 + body.length);
  out.set(body, HEADER + 1);
  return seal(kind, out);
}

/** frame(kind, fields(parts)) with one copy of the parts, not two (snapshots are large). */
function frameFields(kind: Kind, parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(HEADER + 1 + fieldsLength(parts));
  writeFields(out, HEADER + 1, parts);
  return seal(kind, out);
}

/** Fills in the header of a record whose body is already at HEADER + 1. */
function seal(kind: Kind, out: Uint8Array): Uint8Array {
  out[HEADER] = kind;
  const payload = out.subarray(HEADER);
  out[0] = RECORD_FORMAT;
  new DataView(out.buffer).setUint32(1, crc32(payload) >>> 0);
  return out;
}

const strList = (ids: readonly string[]): Uint8Array => fields(ids.map((s) => utf8.encode(s)));
const confState = (c: ConfState): Uint8Array => fields([strList(c.voters), strList(c.learners)]);
const confChange = (c: ConfChange): Uint8Array =>
  fields([u8(CHANGE_TYPES.indexOf(c.type)), utf8.encode(c.id), c.context]);

export function encodeEntry(e: Entry): Uint8Array {
  // An absent change is an empty field; a present one is never empty (its count).
  const change = e.change ? confChange(e.change) : new Uint8Array(0);
  return frame(
    Kind.Entry,
    fields([u64(e.index), u64(e.term), u8(ENTRY_TYPES.indexOf(e.type)), e.data, change]),
  );
}

export function encodeHardState(h: HardState): Uint8Array {
  return frame(Kind.HardState, fields([u64(h.term), optStr(h.vote), u64(h.commit)]));
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const m = s.meta;
  return frameFields(Kind.Snapshot, [u64(m.index), u64(m.term), confState(m.conf), s.data]);
}

export function encodeBlob(b: Uint8Array): Uint8Array {
  return frame(Kind.Blob, fields([b]));
}

// ---- decoding -------------------------------------------------------------

const malformed = (what: string): CodecError =>
  new CodecError('malformed', `malformed record: ${what}`);
const truncated = (): CodecError => new CodecError('truncated', 'truncated record');

/** Reads a fields block; next() returns undefined past the stored count. */
class Fields {
  private readonly view: DataView;
  private readonly count: number;
  private read = 0;
  private at = 4;

  constructor(private readonly bytes: Uint8Array) {
    if (bytes.length < 4) throw truncated();
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.count = this.view.getUint32(0);
  }

  next(): Uint8Array | undefined {
    if (this.read === this.count) return undefined;
    if (this.at + 4 > this.bytes.length) throw truncated();
    const len = this.view.getUint32(this.at);
    const start = this.at + 4;
    if (start + len > this.bytes.length) throw truncated();
    this.at = start + len;
    this.read++;
    return this.bytes.subarray(start, start + len);
  }

  /** A field every record of this format has. */
  need(name: string): Uint8Array {
    const f = this.next();
    if (f === undefined) throw malformed(`missing ${name}`);
    return f;
  }

  all(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let f = this.next(); f !== undefined; f = this.next()) out.push(f);
    return out;
  }
}

function readU64(f: Uint8Array, name: string): number {
  if (f.length !== 8) throw malformed(`${name} is ${f.length} bytes`);
  const v = new DataView(f.buffer, f.byteOffset, 8);
  const n = v.getUint32(0) * 2 ** 32 + v.getUint32(4);
  if (!Number.isSafeInteger(n)) throw malformed(`${name} out of range`);
  return n;
}

function readU8(f: Uint8Array, name: string): number {
  if (f.length !== 1) throw malformed(`${name} is ${f.length} bytes`);
  return f[0]!;
}

function readStr(f: Uint8Array, name: string): string {
  try {
    return fromUtf8.decode(f);
  } catch {
    throw malformed(`${name} is not UTF-8`);
  }
}

function readOptStr(f: Uint8Array, name: string): string | null {
  if (f.length === 1 && f[0] === 0) return null;
  if (f.length >= 1 && f[0] === 1) return readStr(f.subarray(1), name);
  throw malformed(`bad ${name}`);
}

function pick<T>(table: readonly T[], f: Uint8Array, name: string): T {
  const v = table[readU8(f, name)];
  if (v === undefined) throw malformed(`unknown ${name} ${f[0]}`);
  return v;
}

/** A plain Uint8Array copy: decoded values never alias the record (or a Buffer pool). */
const copy = (f: Uint8Array): Uint8Array => new Uint8Array(f);

/**
 * A snapshot's data: a view when it is most of a large buffer (a record
 * read on its own, never a slice of a Buffer pool, which holds a few KB),
 * else a copy. Copying a million sequences' 20 MB costs a restart more than
 * 100 ms of fresh memory. Always a plain Uint8Array, as copies are.
 */
const bulk = (f: Uint8Array): Uint8Array =>
  f.byteLength >= 1 << 16 && f.byteLength * 2 >= f.buffer.byteLength
    ? new Uint8Array(f.buffer, f.byteOffset, f.byteLength) // plain: a Buffer's slice() is a view
    : copy(f);

/** Checks version and checksum; returns the body after the kind byte. */
function unframe(record: Uint8Array, kind: Kind): Fields {
  if (record.length < HEADER + 1) throw truncated();
  const version = record[0]!;
  if (version > RECORD_FORMAT) {
    throw new CodecError(
      'version',
      `written by a newer raftseq (record format ${version})`,
      version,
    );
  }
  if (version !== RECORD_FORMAT) throw malformed(`unknown record format ${version}`);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const payload = record.subarray(HEADER);
  if (view.getUint32(1) !== crc32(payload) >>> 0)
    throw new CodecError('checksum', 'checksum mismatch');
  if (payload[0] !== kind) {
    throw malformed(
      `expected ${KIND_NAMES[kind]}, found ${KIND_NAMES[payload[0]!] ?? `kind ${payload[0]}`}`,
    );
  }
  return new Fields(payload.subarray(1));
}

export function decodeEntry(record: Uint8Array): Entry {
  const f = unframe(record, Kind.Entry);
  const index = readU64(f.need('index'), 'index');
  const term = readU64(f.need('term'), 'term');
  const type = pick(ENTRY_TYPES, f.need('type'), 'entry type');
  const data = copy(f.need('data'));
  const changeBytes = f.need('change');
  const e: Entry = { index, term, type, data };
  if (changeBytes.length > 0) {
    const c = new Fields(changeBytes);
    e.change = {
      type: pick(CHANGE_TYPES, c.need('change type'), 'change type'),
      id: readStr(c.need('change id'), 'change id'),
      context: copy(c.need('change context')),
    };
  }
  if ((type === 'conf') !== (e.change !== undefined))
    throw malformed('conf entry without change, or vice versa');
  return e;
}

export function decodeHardState(record: Uint8Array): HardState {
  const f = unframe(record, Kind.HardState);
  return {
    term: readU64(f.need('term'), 'term'),
    vote: readOptStr(f.need('vote'), 'vote'),
    commit: readU64(f.need('commit'), 'commit'),
  };
}

export function decodeSnapshot(record: Uint8Array): Snapshot {
  const f = unframe(record, Kind.Snapshot);
  const index = readU64(f.need('index'), 'index');
  const term = readU64(f.need('term'), 'term');
  const conf = new Fields(f.need('conf'));
  const ids = (name: string): string[] =>
    new Fields(conf.need(name)).all().map((b) => readStr(b, name));
  const voters = ids('voters');
  const learners = ids('learners');
  return { meta: { index, term, conf: { voters, learners } }, data: bulk(f.need('data')) };
}

export function decodeBlob(record: Uint8Array): Uint8Array {
  return copy(unframe(record, Kind.Blob).need('value'));
}
