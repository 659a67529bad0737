// The semantics of persist and load, shared by every RaftStorage so that the
// in-memory store and the LevelDB store cannot drift apart.
//
// planPersist turns PersistBatch[] into a flat list of primitive operations
// against a log known only by its bounds: stored entries are exactly
// (snapshotIndex, lastIndex]. That is all LevelStorage knows without reading
// the log, and it is enough to emit an explicit delete for every key a
// truncation or compaction removes, inside the same atomic batch.

import type { Entry, HardState, InitialState, Snapshot } from '../raft/types.js';
import { InvalidPersistError, StorageCorruptError } from './errors.js';
import type { PersistBatch } from './storage.js';

export interface LogBounds {
  /** Index of the stored snapshot (0: none). */
  snapshotIndex: number;
  /** Last stored entry's index, or snapshotIndex when there are no entries. */
  lastIndex: number;
  /** Commit index of the stored hard state (0: none). */
  commit: number;
}

export const EMPTY_BOUNDS: LogBounds = { snapshotIndex: 0, lastIndex: 0, commit: 0 };

export type StorageOp =
  | { op: 'snapshot'; snapshot: Snapshot }
  /** Remove the stored entries from..to (inclusive); every one of them exists. */
  | { op: 'delete'; from: number; to: number }
  | { op: 'entries'; entries: Entry[] }
  | { op: 'hardState'; hardState: HardState };

/** Plans `batches` against `bounds`; throws InvalidPersistError without side effects. */
export function planPersist(
  bounds: LogBounds,
  batches: readonly PersistBatch[],
): { ops: StorageOp[]; bounds: LogBounds } {
  let { snapshotIndex, lastIndex, commit } = bounds;
  const ops: StorageOp[] = [];
  const drop = (from: number, to: number): void => {
    if (from <= to) ops.push({ op: 'delete', from, to });
  };
  for (const b of batches) {
    if (b.snapshot) {
      drop(snapshotIndex + 1, lastIndex);
      ops.push({ op: 'snapshot', snapshot: b.snapshot });
      snapshotIndex = lastIndex = b.snapshot.meta.index;
    }
    // A compaction at or below the stored snapshot would move it backwards;
    // there is nothing to drop, so it is a no-op rather than a regression.
    if (b.compacted && b.compacted.meta.index > snapshotIndex) {
      const at = b.compacted.meta.index;
      drop(snapshotIndex + 1, Math.min(at, lastIndex));
      ops.push({ op: 'snapshot', snapshot: b.compacted });
      snapshotIndex = at;
      lastIndex = Math.max(lastIndex, at);
    }
    if (b.entries.length > 0) {
      const first = b.entries[0]!.index;
      const last = checkRun(b.entries);
      if (first <= snapshotIndex) {
        throw new InvalidPersistError(
          `entry ${first} is covered by the snapshot at ${snapshotIndex}`,
        );
      }
      if (first > lastIndex + 1) {
        throw new InvalidPersistError(`entries start at ${first} but the log ends at ${lastIndex}`);
      }
      // Keys first..last are overwritten by puts; only the tail beyond needs deleting.
      drop(last + 1, lastIndex);
      ops.push({ op: 'entries', entries: b.entries });
      lastIndex = last;
    }
    if (b.hardState) {
      ops.push({ op: 'hardState', hardState: b.hardState });
      commit = b.hardState.commit;
    }
    if (commit > lastIndex) {
      throw new InvalidPersistError(
        `commit ${commit} would be beyond the last log index ${lastIndex}`,
      );
    }
  }
  return { ops, bounds: { snapshotIndex, lastIndex, commit } };
}

/** Checks entries are consecutive with non-decreasing terms; returns the last index. */
function checkRun(entries: readonly Entry[]): number {
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1]!;
    const e = entries[i]!;
    if (e.index !== prev.index + 1) {
      throw new InvalidPersistError(`entry ${e.index} follows entry ${prev.index}`);
    }
    if (e.term < prev.term) {
      throw new InvalidPersistError(`entry ${e.index} has term ${e.term} after term ${prev.term}`);
    }
  }
  return entries[entries.length - 1]!.index;
}

export const ZERO_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });

export function zeroSnapshot(): Snapshot {
  return {
    meta: { index: 0, term: 0, conf: { voters: [], learners: [] } },
    data: new Uint8Array(0),
  };
}

/**
 * Assembles what load returns and checks the Raft log invariants on it:
 * entries contiguous from snapshot.meta.index + 1, terms non-decreasing
 * (starting from the snapshot's term), hardState.commit <= last index.
 * Returns null for a store holding nothing.
 */
export function assembleInitialState(
  dir: string,
  parts: { snapshot: Snapshot | null; hardState: HardState | null; entries: Entry[] },
): InitialState | null {
  if (!parts.snapshot && !parts.hardState && parts.entries.length === 0) return null;
  const snapshot = parts.snapshot ?? zeroSnapshot();
  const hardState = parts.hardState ?? { ...ZERO_HARD_STATE };
  let prevIndex = snapshot.meta.index;
  let prevTerm = snapshot.meta.term;
  for (const e of parts.entries) {
    if (e.index !== prevIndex + 1) {
      const reason =
        e.index <= prevIndex
          ? `entry ${e.index} is not after index ${prevIndex}`
          : `entries ${prevIndex + 1}..${e.index - 1} are missing`;
      throw new StorageCorruptError(dir, prevIndex + 1, reason);
    }
    if (e.term < prevTerm) {
      throw new StorageCorruptError(dir, e.index, `term ${e.term} follows term ${prevTerm}`);
    }
    prevIndex = e.index;
    prevTerm = e.term;
  }
  if (hardState.commit > prevIndex) {
    throw new StorageCorruptError(
      dir,
      hardState.commit,
      `hard state commit ${hardState.commit} is beyond the last log index ${prevIndex}`,
    );
  }
  return { hardState, snapshot, entries: parts.entries };
}
