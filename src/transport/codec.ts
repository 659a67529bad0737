// Raft core messages <-> the plain objects of raft.proto (as proto-loader
// serialises and deserialises them). Snapshots do not travel as one
// RaftMessage: snapshotChunks() cuts them up, SnapshotAssembler puts them back.

import type {
  ConfChange,
  ConfChangeType,
  Entry,
  Message,
  MessageType,
  SnapshotRequest,
} from '../raft/types.js';
import {
  ConfChangeTypePb,
  EntryTypePb,
  FORMAT_VERSION,
  MessageTypePb,
  u64,
  type U64,
  type ConfChangePb,
  type EntryPb,
  type RaftBatchPb,
  type RaftMessagePb,
  type SnapshotChunkPb,
  type SnapshotHeaderPb,
} from './proto.js';
import { FEATURES, formatVersionError } from './formats.js';

/** SnapshotHeader.compression: the chunks carry the snapshot deflated (wire format 2). */
export const COMPRESSION_DEFLATE = 1;

export { formatVersionError } from './formats.js';

/** A message or chunk that cannot be decoded (corrupt, or from a newer sender). */
export class CodecError extends Error {
  override name = 'CodecError';
}

const TYPE_TO_PB: Record<MessageType, number> = {
  vote: MessageTypePb.VOTE,
  'pre-vote': MessageTypePb.PRE_VOTE,
  'vote-resp': MessageTypePb.VOTE_RESP,
  'pre-vote-resp': MessageTypePb.PRE_VOTE_RESP,
  append: MessageTypePb.APPEND,
  'append-resp': MessageTypePb.APPEND_RESP,
  heartbeat: MessageTypePb.HEARTBEAT,
  'heartbeat-resp': MessageTypePb.HEARTBEAT_RESP,
  snapshot: MessageTypePb.SNAPSHOT,
  'timeout-now': MessageTypePb.TIMEOUT_NOW,
};
const PB_TO_TYPE = new Map<number, MessageType>(
  Object.entries(TYPE_TO_PB).map(([k, v]) => [v, k as MessageType]),
);

const CONF_TO_PB: Record<ConfChangeType, number> = {
  'add-learner': ConfChangeTypePb.ADD_LEARNER,
  promote: ConfChangeTypePb.PROMOTE,
  remove: ConfChangeTypePb.REMOVE,
};
const PB_TO_CONF = new Map<number, ConfChangeType>(
  Object.entries(CONF_TO_PB).map(([k, v]) => [v, k as ConfChangeType]),
);

/**
 * A decoded uint64 as a number, refused beyond 2^53-1: terms, indexes and
 * ticks are JS numbers, and a larger one would silently lose its low bits
 * (term + 1 === term). No cluster gets there; only a corrupt or hostile
 * sender does.
 */
function num(v: U64 | null | undefined): number {
  const n = u64(v);
  if (!Number.isSafeInteger(n)) throw new CodecError(`integer ${String(v)} is beyond 2^53-1`);
  return n;
}

/** Zero bytes, shared (a zero-length array cannot be written to). */
const EMPTY = new Uint8Array(0);

/**
 * Decoded bytes as a Uint8Array: raftServices() decoders hand out plain
 * Uint8Array views into the received message, or a plain empty array for an
 * absent field.
 */
function view(b: Uint8Array | readonly number[] | null | undefined): Uint8Array {
  if (!b || b.length === 0) return EMPTY;
  return b instanceof Uint8Array ? b : Uint8Array.from(b);
}

export function encodeEntry(e: Entry): EntryPb {
  const pb: EntryPb = {
    index: e.index,
    term: e.term,
    type: e.type === 'conf' ? EntryTypePb.CONF : EntryTypePb.NORMAL,
    data: e.data,
  };
  if (e.type === 'conf') {
    if (!e.change) throw new CodecError(`conf entry ${e.index} has no change`);
    pb.change = encodeConfChange(e.change);
  }
  return pb;
}

function encodeConfChange(c: ConfChange): ConfChangePb {
  return { type: CONF_TO_PB[c.type], id: c.id, context: c.context };
}

export function decodeEntry(pb: EntryPb): Entry {
  const data = view(pb.data);
  if (pb.type === EntryTypePb.NORMAL) {
    return { index: num(pb.index), term: num(pb.term), type: 'normal', data };
  }
  if (pb.type === EntryTypePb.CONF) {
    if (!pb.change) throw new CodecError(`conf entry ${num(pb.index)} without a change`);
    const type = PB_TO_CONF.get(pb.change.type);
    if (!type) throw new CodecError(`unknown conf change type ${String(pb.change.type)}`);
    return {
      index: num(pb.index),
      term: num(pb.term),
      type: 'conf',
      data,
      change: { type, id: pb.change.id, context: view(pb.change.context) },
    };
  }
  throw new CodecError(`unknown entry type ${pb.type} at index ${num(pb.index)}`);
}

/** One message as a RaftMessage. Snapshots are refused: use snapshotChunks(). */
export function encodeMessage(m: Message): RaftMessagePb {
  // Plain literals, no spreads: this runs for every message sent.
  const type = TYPE_TO_PB[m.type];
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      return {
        type,
        from: m.from,
        to: m.to,
        term: m.term,
        logIndex: m.lastLogIndex,
        logTerm: m.lastLogTerm,
        transfer: m.transfer,
      };
    case 'vote-resp':
    case 'pre-vote-resp':
      return {
        type,
        from: m.from,
        to: m.to,
        term: m.term,
        granted: m.granted,
        unverified: m.unverified === true,
      };
    case 'append': {
      const entries: EntryPb[] = new Array<EntryPb>(m.entries.length);
      for (let i = 0; i < entries.length; i++) entries[i] = encodeEntry(m.entries[i]!);
      return {
        type,
        from: m.from,
        to: m.to,
        term: m.term,
        logIndex: m.prevLogIndex,
        logTerm: m.prevLogTerm,
        entries,
        commit: m.commit,
        sentTick: m.sentTick,
      };
    }
    case 'append-resp':
      return {
        type,
        from: m.from,
        to: m.to,
        term: m.term,
        success: m.success,
        logIndex: m.index,
        hintIndex: m.hintIndex,
        hintTerm: m.hintTerm,
        sentTick: m.sentTick,
      };
    case 'heartbeat':
      return { type, from: m.from, to: m.to, term: m.term, commit: m.commit, sentTick: m.sentTick };
    case 'heartbeat-resp':
      return { type, from: m.from, to: m.to, term: m.term, sentTick: m.sentTick };
    case 'timeout-now':
      return { type, from: m.from, to: m.to, term: m.term };
    case 'snapshot':
      throw new CodecError('snapshot messages travel through InstallSnapshot, not RaftMessage');
  }
}

export function decodeMessage(pb: RaftMessagePb): Message {
  const type = PB_TO_TYPE.get(pb.type);
  if (!type) throw new CodecError(`unknown message type ${String(pb.type)}`);
  const from = pb.from;
  const to = pb.to;
  const term = num(pb.term);
  switch (type) {
    case 'vote':
    case 'pre-vote':
      return {
        type,
        from,
        to,
        term,
        lastLogIndex: num(pb.logIndex),
        lastLogTerm: num(pb.logTerm),
        transfer: pb.transfer === true,
      };
    case 'vote-resp':
    case 'pre-vote-resp':
      return pb.unverified === true
        ? { type, from, to, term, granted: pb.granted === true, unverified: true }
        : { type, from, to, term, granted: pb.granted === true };
    case 'append': {
      const list = pb.entries ?? [];
      const entries: Entry[] = new Array<Entry>(list.length);
      for (let i = 0; i < entries.length; i++) entries[i] = decodeEntry(list[i]!);
      return {
        type,
        from,
        to,
        term,
        prevLogIndex: num(pb.logIndex),
        prevLogTerm: num(pb.logTerm),
        entries,
        commit: num(pb.commit),
        sentTick: num(pb.sentTick),
      };
    }
    case 'append-resp':
      return {
        type,
        from,
        to,
        term,
        success: pb.success === true,
        index: num(pb.logIndex),
        hintIndex: num(pb.hintIndex),
        hintTerm: num(pb.hintTerm),
        sentTick: num(pb.sentTick),
      };
    case 'heartbeat':
      return { type, from, to, term, commit: num(pb.commit), sentTick: num(pb.sentTick) };
    case 'heartbeat-resp':
      return { type, from, to, term, sentTick: num(pb.sentTick) };
    case 'timeout-now':
      return { type, from, to, term };
    case 'snapshot':
      throw new CodecError('a snapshot message inside a RaftBatch');
  }
}

/** A batch in wire format `format` (the link's: see formats.ts). */
export function encodeBatch(
  from: string,
  messages: readonly Message[],
  format: number = FORMAT_VERSION,
): RaftBatchPb {
  return { formatVersion: format, from, messages: messages.map(encodeMessage) };
}

/** A rough upper bound of a message's encoded size, for queue and batch limits. */
export function estimateSize(m: Message): number {
  if (m.type === 'append') {
    let n = 64;
    for (const e of m.entries)
      n +=
        32 +
        e.data.byteLength +
        (e.change ? 16 + e.change.id.length + e.change.context.byteLength : 0);
    return n;
  }
  if (m.type === 'snapshot') return 128 + m.snapshot.data.byteLength;
  return 64;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** The first buffer of a snapshot being received; it doubles as chunks come in. */
const INITIAL_SNAPSHOT_BUFFER = 4 << 20;

/** How a snapshot travels: the link's wire format, and its data deflated (format 2) or not. */
export interface SnapshotWire {
  format: number;
  /** The deflated snapshot data (needs format 2), instead of the raw data. */
  deflated?: Uint8Array;
}

/** The chunks of a snapshot message: the header in the first, the data as views (no copy). */
export function* snapshotChunks(
  m: SnapshotRequest,
  chunkSize: number = DEFAULT_CHUNK_SIZE,
  wire: SnapshotWire = { format: FORMAT_VERSION },
): Generator<SnapshotChunkPb> {
  if (!(chunkSize > 0)) throw new RangeError('chunkSize must be positive');
  if (wire.deflated !== undefined && wire.format < FEATURES.snapshotCompression) {
    throw new CodecError(`a deflated snapshot needs wire format ${FEATURES.snapshotCompression}`);
  }
  const meta = m.snapshot.meta;
  const data = wire.deflated ?? m.snapshot.data;
  const header: SnapshotHeaderPb = {
    from: m.from,
    to: m.to,
    term: m.term,
    sentTick: m.sentTick,
    index: meta.index,
    snapshotTerm: meta.term,
    voters: [...meta.conf.voters],
    learners: [...meta.conf.learners],
    size: data.byteLength,
    ...(wire.deflated !== undefined
      ? { compression: COMPRESSION_DEFLATE, rawSize: m.snapshot.data.byteLength }
      : {}),
  };
  let offset = 0;
  do {
    const end = Math.min(offset + chunkSize, data.byteLength);
    yield {
      formatVersion: wire.format,
      header: offset === 0 ? header : null,
      offset,
      data: data.subarray(offset, end),
    };
    offset = end;
  } while (offset < data.byteLength);
}

/** Reassembles snapshotChunks() output; throws CodecError on anything out of place. */
export class SnapshotAssembler {
  private header: SnapshotHeaderPb | null = null;
  private buf: Uint8Array | null = null;
  private filled = 0;
  /** The size the header announced. */
  private size = 0;

  constructor(private readonly maxBytes: number = 2 ** 32) {}

  /** The header once the first chunk came in (for early checks: from, to). */
  get meta(): SnapshotHeaderPb | null {
    return this.header;
  }

  push(chunk: SnapshotChunkPb): void {
    const err = formatVersionError(chunk.formatVersion, 'snapshot chunk');
    if (err) throw new CodecError(err);
    if (!this.header) {
      if (!chunk.header) throw new CodecError('first snapshot chunk has no header');
      const size = num(chunk.header.size);
      if (size > this.maxBytes) {
        throw new CodecError(`snapshot of ${size} bytes exceeds the limit of ${this.maxBytes}`);
      }
      checkCompression(chunk.header, chunk.formatVersion, this.maxBytes);
      this.header = chunk.header;
      this.size = size;
      // Grown as data arrives: the header's size is the sender's word, and a
      // stream that announces 4 GiB and sends nothing must not cost 4 GiB.
      this.buf = new Uint8Array(Math.min(size, INITIAL_SNAPSHOT_BUFFER));
    } else if (chunk.header) {
      throw new CodecError('snapshot header repeated after the first chunk');
    }
    const data = view(chunk.data);
    if (num(chunk.offset) !== this.filled) {
      throw new CodecError(
        `snapshot chunk at offset ${num(chunk.offset)}, expected ${this.filled}`,
      );
    }
    const end = this.filled + data.byteLength;
    if (end > this.size) {
      throw new CodecError(`snapshot chunks exceed the announced ${this.size} bytes`);
    }
    if (end > this.buf!.byteLength) {
      const grown = new Uint8Array(Math.min(this.size, Math.max(end, 2 * this.buf!.byteLength)));
      grown.set(this.buf!.subarray(0, this.filled));
      this.buf = grown;
    }
    this.buf!.set(data, this.filled);
    this.filled += data.byteLength;
  }

  /**
   * The snapshot's length once inflated, when its chunks are deflated (the
   * data finish() returns must then go through inflateSnapshot()); else null.
   */
  get deflatedRawSize(): number | null {
    const h = this.header;
    return h !== null && (h.compression ?? 0) === COMPRESSION_DEFLATE ? num(h.rawSize ?? 0) : null;
  }

  finish(): SnapshotRequest {
    const h = this.header;
    if (!h || !this.buf) throw new CodecError('snapshot stream ended before any chunk');
    if (this.filled !== this.size) {
      throw new CodecError(`snapshot ended at ${this.filled} of ${this.size} bytes`);
    }
    return {
      type: 'snapshot',
      from: h.from,
      to: h.to,
      term: num(h.term),
      sentTick: num(h.sentTick),
      snapshot: {
        meta: {
          index: num(h.index),
          term: num(h.snapshotTerm),
          conf: { voters: [...(h.voters ?? [])], learners: [...(h.learners ?? [])] },
        },
        data: this.buf,
      },
    };
  }
}

/** Refuses a compression the chunk's format does not allow, or an inflated size over the limit. */
function checkCompression(h: SnapshotHeaderPb, format: number, maxBytes: number): void {
  const compression = h.compression ?? 0;
  if (compression === 0) return;
  if (compression !== COMPRESSION_DEFLATE) {
    throw new CodecError(`unknown snapshot compression ${compression}`);
  }
  if (format < FEATURES.snapshotCompression) {
    throw new CodecError(
      `a deflated snapshot in wire format ${format} (needs ${FEATURES.snapshotCompression})`,
    );
  }
  const raw = num(h.rawSize ?? 0);
  if (raw > maxBytes) {
    throw new CodecError(`snapshot of ${raw} bytes (inflated) exceeds the limit of ${maxBytes}`);
  }
}
