// The backup file `raftseq snapshot save` writes and `snapshot restore`
// reads: what a new cluster needs to start above everything the old one can
// have handed out, and nothing else (members, hand-overs and epochs belong
// to the old cluster and die with it).
//
// Layout (big-endian), format version 1:
//
//   8   magic "RSQSNAP\n"
//   u16 format version
//   u32 header length, header: UTF-8 JSON (SnapshotHeader below, minus `format`)
//   u32 n, n x { name sequence, u64 reserved, f64 rate }
//   32  SHA-256 of every byte before it
//
// name = u16 length + UTF-8. `reserved` is the sequence's highest committed
// reservation at the snapshot's index; `rate` the growth of that reservation
// in values per second as the leader measured it (src/state/rates.ts). The
// header is JSON so that fields can be added without a new version; the
// records are binary because a million of them must stay small and fast.
// Any flipped or missing byte fails the SHA-256, so a file is read whole or
// refused, never half-trusted.

import { createHash } from 'node:crypto';
import { DecodeError, Reader, Writer } from '../state/binary.js';

export const SNAPSHOT_FILE_VERSION = 1;
const MAGIC = new TextEncoder().encode('RSQSNAP\n');
const DIGEST_BYTES = 32;
/** Smallest possible file: magic, version, header length, count, digest. */
const MIN_BYTES = MAGIC.length + 2 + 4 + 4 + DIGEST_BYTES;

export interface SnapshotHeader {
  format: number;
  /** The id of the cluster the snapshot was taken from ('' if it had none). */
  clusterId: string;
  /** Raft index and term of the state the snapshot holds. */
  index: number;
  term: number;
  /** When the leader captured the state (ISO 8601, its wall clock). */
  savedAt: string;
  /** Number of sequences in the file. */
  sequences: number;
  /** The member that produced it (the leader then). */
  member: string;
  /** The raftseq release that wrote it. */
  version: string;
}

export interface SnapshotSequence {
  name: string;
  /** Highest committed reservation: every value served before the snapshot is <= it. */
  reserved: bigint;
  /** Growth of the reservation, values per second (0: unknown or idle). */
  rate: number;
}

export interface SnapshotContents {
  header: SnapshotHeader;
  sequences: SnapshotSequence[];
}

/** A snapshot file that is not one, is damaged, or is of a format this build cannot read. */
export class SnapshotFileError extends Error {
  override name = 'SnapshotFileError';
}

/** Records encoded between two pauses of encodeSnapshotFileYielding. */
const ENCODE_CHUNK = 50_000;

/** The encoder, pausing (yield) every ENCODE_CHUNK records; returns the file's bytes. */
function* encodeSteps(
  header: Omit<SnapshotHeader, 'format' | 'sequences'>,
  sequences: readonly SnapshotSequence[],
): Generator<void, Uint8Array> {
  const full: SnapshotHeader = {
    format: SNAPSHOT_FILE_VERSION,
    ...header,
    sequences: sequences.length,
  };
  const json = new TextEncoder().encode(JSON.stringify(full));
  const w = new Writer(64 + json.length + sequences.length * 36);
  w.bytes(MAGIC);
  w.u16(SNAPSHOT_FILE_VERSION);
  w.u32(json.length);
  w.bytes(json);
  w.u32(sequences.length);
  let i = 0;
  for (const s of sequences) {
    if (++i % ENCODE_CHUNK === 0) yield;
    w.name(s.name);
    w.u64(s.reserved);
    w.f64(Number.isFinite(s.rate) && s.rate > 0 ? s.rate : 0);
  }
  w.bytes(sha256(w.peek()));
  return w.finish();
}

/** The file's bytes, digest included. */
export function encodeSnapshotFile(
  header: Omit<SnapshotHeader, 'format' | 'sequences'>,
  sequences: readonly SnapshotSequence[],
): Uint8Array {
  const steps = encodeSteps(header, sequences);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * encodeSnapshotFile that awaits `pause()` every few tens of thousands of
 * records, so that a leader encoding a million keeps its event loop (and
 * its heartbeats) going.
 */
export async function encodeSnapshotFileYielding(
  header: Omit<SnapshotHeader, 'format' | 'sequences'>,
  sequences: readonly SnapshotSequence[],
  pause: () => Promise<void>,
): Promise<Uint8Array> {
  const steps = encodeSteps(header, sequences);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await pause();
  }
}

/** The SHA-256 a file carries in its last 32 bytes (hex), without checking it. */
export function storedDigest(data: Uint8Array): string {
  return Buffer.from(data.subarray(data.length - DIGEST_BYTES)).toString('hex');
}

/**
 * Checks the magic, the version and the SHA-256, then decodes. Throws
 * SnapshotFileError with one line saying what is wrong.
 */
export function decodeSnapshotFile(data: Uint8Array): SnapshotContents {
  if (data.length < MIN_BYTES) {
    throw new SnapshotFileError(
      `not a raftseq snapshot or truncated: ${data.length} bytes, a snapshot has at least ${MIN_BYTES}`,
    );
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (data[i] !== MAGIC[i]) throw new SnapshotFileError('not a raftseq snapshot (bad magic)');
  }
  const version = (data[MAGIC.length]! << 8) | data[MAGIC.length + 1]!;
  if (version !== SNAPSHOT_FILE_VERSION) {
    throw new SnapshotFileError(
      `snapshot format version ${version} is not supported (this build reads version ${SNAPSHOT_FILE_VERSION})`,
    );
  }
  const body = data.subarray(0, data.length - DIGEST_BYTES);
  const actual = Buffer.from(sha256(body)).toString('hex');
  if (actual !== storedDigest(data)) {
    throw new SnapshotFileError(
      'checksum mismatch: the file is corrupt or truncated (SHA-256 of the contents differs from the one stored)',
    );
  }
  try {
    return decodeBody(body);
  } catch (e) {
    // The digest matched, so the writer itself wrote this: say so.
    const why = e instanceof DecodeError || e instanceof Error ? e.message : String(e);
    throw new SnapshotFileError(`malformed snapshot despite a valid checksum: ${why}`);
  }
}

function decodeBody(body: Uint8Array): SnapshotContents {
  const r = new Reader(body, 'snapshot file');
  r.bytes(MAGIC.length);
  r.u16();
  const headerBytes = r.bytes(r.u32());
  const header = parseHeader(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  const n = r.count(2 + 8 + 8);
  if (n !== header.sequences) {
    throw new SnapshotFileError(`header says ${header.sequences} sequences, the file holds ${n}`);
  }
  const sequences: SnapshotSequence[] = new Array<SnapshotSequence>(n);
  for (let i = 0; i < n; i++) {
    sequences[i] = { name: r.name(), reserved: r.u64(), rate: r.f64() };
  }
  r.end();
  return { header, sequences };
}

function parseHeader(text: string): SnapshotHeader {
  const h = JSON.parse(text) as Record<string, unknown>;
  const str = (k: string): string => {
    if (typeof h[k] !== 'string') throw new SnapshotFileError(`header field ${k} missing`);
    return h[k];
  };
  const num = (k: string): number => {
    const v = h[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new SnapshotFileError(`header field ${k} missing or not a count`);
    }
    return v;
  };
  return {
    format: num('format'),
    clusterId: str('clusterId'),
    index: num('index'),
    term: num('term'),
    savedAt: str('savedAt'),
    sequences: num('sequences'),
    member: str('member'),
    version: str('version'),
  };
}

function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}
