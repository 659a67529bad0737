// The durable watermark: an account of what the storage engine has reported
// durable, kept outside the engine, so that a store which lost records on
// recovery refuses to start instead of silently forgetting acknowledged
// entries or a vote.
//
// Why: LevelDB recovers its write-ahead log by skipping records whose
// checksum fails (its paranoid checks are off, and classic-level cannot turn
// them on), so one flipped bit can drop the last write (the tail) or one in
// the middle, and raftseq's own record checksums never see a record that is
// simply gone. A node that restarts like that may vote twice, or count toward
// a commit it no longer holds.
//
// How: every synced persist batch carries a batch sequence number, written
// inside the same atomic engine batch. After each batch is durable the store
// writes the watermark: that sequence number, the hard state and the last
// index as of it. A batch that only moves the commit index is written without
// an fsync, takes no sequence number and writes no watermark (plan.ts,
// mustSync): the watermark never claims it, and a power loss that drops it
// leaves the engine at the watermark's sequence with the watermark's hard
// state, as if it had never been written. No extra fsync: the watermark is written to the page cache, which
// survives a crashed process, and synced lazily (power loss can only make it
// older, never newer than the engine). At start:
//   - engine sequence < watermark sequence: the tail was lost;
//   - equal sequences but a different term, vote or last index, or a lower
//     commit: a record in the middle was lost (the hard state of a later
//     batch survived, not the one it superseded) – or the watermark itself is
//     wrong; either way the node cannot know what it acknowledged. A HIGHER
//     commit at an equal sequence is normal: an unsynced commit-only write
//     after the watermark's batch survived (a commit never goes back within
//     a run, so a lost record cannot leave a higher one behind);
//   - a gap in the entries (checked by assembleInitialState): a record in the
//     middle was lost.
// An engine ahead of its watermark is normal (the process died between the
// batch and the watermark write).

import { crc32 } from 'node:zlib';
import type { HardState } from '../raft/types.js';
import { StorageCorruptError } from './errors.js';
import { ZERO_HARD_STATE } from './plan.js';

export interface Watermark {
  /** Sequence number of the last batch the engine reported durable. */
  seq: number;
  hardState: HardState;
  lastIndex: number;
}

/** What the engine holds at start, as the watermark describes it. */
export interface EngineMark {
  /** The engine's batch sequence number (0: none written yet, e.g. an old directory). */
  seq: number;
  hardState: HardState | null;
  lastIndex: number;
}

/** Throws StorageCorruptError naming what is missing if `engine` is behind `wm`. */
export function checkWatermark(dir: string, engine: EngineMark, wm: Watermark | null): void {
  if (wm === null || engine.seq > wm.seq) return;
  if (engine.seq < wm.seq) {
    throw new StorageCorruptError(
      dir,
      null,
      `the storage engine lost its last ${wm.seq - engine.seq} write(s): it holds batch ${engine.seq} ` +
        `but batch ${wm.seq} was reported durable (log up to ${wm.lastIndex}, term ${wm.hardState.term}); ` +
        'this member may have acknowledged entries or a vote it no longer has',
    );
  }
  const hs = engine.hardState ?? ZERO_HARD_STATE;
  const same =
    hs.term === wm.hardState.term &&
    hs.vote === wm.hardState.vote &&
    hs.commit >= wm.hardState.commit &&
    engine.lastIndex === wm.lastIndex;
  if (!same) {
    throw new StorageCorruptError(
      dir,
      null,
      `the storage engine lost a write: after batch ${wm.seq} it should hold log up to ` +
        `${wm.lastIndex}, term ${wm.hardState.term}, vote ${wm.hardState.vote ?? 'none'}, commit ` +
        `${wm.hardState.commit}, but holds log up to ${engine.lastIndex}, ` +
        `term ${hs.term}, vote ${hs.vote ?? 'none'}, commit ${hs.commit}`,
    );
  }
}

// ---------------------------------------------------------------- encoding
//
// A slot is 256 bytes: "RSWM", u8 version, u8 pad[3], u64 seq, u64 term,
// u64 commit, u64 lastIndex, u16 voteLength, vote (UTF-8, at most 200 bytes),
// then crc32 of everything before it. Two slots alternate (by seq), so a torn
// write leaves the other slot readable.

export const WATERMARK_SLOT_BYTES = 256;
const MAGIC = [0x52, 0x53, 0x57, 0x4d]; // "RSWM"
const VERSION = 1;
const MAX_VOTE_BYTES = 200;

export function encodeWatermark(wm: Watermark): Uint8Array {
  const vote = new TextEncoder().encode(wm.hardState.vote ?? '');
  if (vote.length > MAX_VOTE_BYTES) throw new RangeError('vote id too long for the watermark');
  const out = new Uint8Array(WATERMARK_SLOT_BYTES);
  const v = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  v.setBigUint64(8, BigInt(wm.seq));
  v.setBigUint64(16, BigInt(wm.hardState.term));
  v.setBigUint64(24, BigInt(wm.hardState.commit));
  v.setBigUint64(32, BigInt(wm.lastIndex));
  v.setUint16(40, wm.hardState.vote === null ? 0xffff : vote.length);
  out.set(vote, 42);
  const end = 42 + vote.length;
  v.setUint32(end, crc32(out.subarray(0, end)));
  return out;
}

/** The slot's watermark, or null if it is empty, torn or not a watermark. */
export function decodeWatermark(slot: Uint8Array): Watermark | null {
  if (slot.length < 46) return null;
  for (let i = 0; i < MAGIC.length; i++) if (slot[i] !== MAGIC[i]) return null;
  if (slot[4] !== VERSION) return null;
  const v = new DataView(slot.buffer, slot.byteOffset, slot.length);
  const voteLength = v.getUint16(40);
  const bytes = voteLength === 0xffff ? 0 : voteLength;
  if (bytes > MAX_VOTE_BYTES || 42 + bytes + 4 > slot.length) return null;
  const end = 42 + bytes;
  if (crc32(slot.subarray(0, end)) !== v.getUint32(end)) return null;
  const num = (at: number): number => Number(v.getBigUint64(at));
  return {
    seq: num(8),
    hardState: {
      term: num(16),
      commit: num(24),
      vote: voteLength === 0xffff ? null : new TextDecoder().decode(slot.subarray(42, end)),
    },
    lastIndex: num(32),
  };
}

/** The newer of the two slots' watermarks (either may be torn or empty). */
export function newestWatermark(a: Watermark | null, b: Watermark | null): Watermark | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.seq >= b.seq ? a : b;
}
