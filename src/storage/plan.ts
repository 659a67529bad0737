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

// ---------------------------------------------------------------- what needs an fsync
//
// etcd-io/raft's MustSync: a write needs an fsync before it is acknowledged
// only if it carries something Raft promises to keep – log entries (and with
// them the snapshot, compactions and truncations), the term, or the vote.
// The commit index is volatile state (Raft paper, Figure 2): a member that
// restarts with an older one learns the rest from the leader again. So a
// persist whose only change is a higher commit is written WITHOUT an fsync.
// The engine still has it once the write returns (a killed process keeps it:
// LevelDB has written it to its log file), only a power loss can drop it.
//
// Such an unsynced write does not take a batch sequence number and writes no
// watermark (watermark.ts): the sequence counts synced batches only, so the
// watermark keeps claiming exactly what was reported durable, and an engine
// that lost a synced batch still holds an older sequence than the watermark
// whatever unsynced writes survived after it. The one unsynced key is the
// hard state, so at the watermark's sequence the engine holds the watermark's
// term, vote and last index, and a commit at least the watermark's (higher
// when an unsynced write after it survived).
//
// A synced batch written after an unsynced one that carries no hard state of
// its own rewrites the current hard state. LevelDB's log is sequential, and
// the fsync of a later record normally makes every earlier one durable too,
// but not across a log switch: the old log file is closed without an fsync,
// so a power loss can drop the unsynced write in it while a synced one in the
// new file survives. Without the rewrite the engine would then hold the
// synced batch's sequence with an older commit than its watermark. With it,
// every synced batch leaves the engine holding exactly the planned hard state.

/** What a store remembers between persists to decide how the next is written. */
export interface SyncState {
  /** Hard state as of the last planned batch, synced or not (null: none yet). */
  hardState: HardState | null;
  /** A batch written without an fsync changed the hard state since the last synced one. */
  unsynced: boolean;
}

/**
 * etcd's MustSync over planned ops: true unless the only change is the
 * commit index of the hard state (`prev` is the last planned hard state).
 */
export function mustSync(ops: readonly StorageOp[], prev: HardState | null): boolean {
  let hard: HardState | null = null;
  for (const o of ops) {
    if (o.op !== 'hardState') return true;
    hard = o.hardState;
  }
  if (hard === null) return false;
  return prev === null || hard.term !== prev.term || hard.vote !== prev.vote;
}

/**
 * How to write `ops`: with an fsync or not (`decide`, mustSync unless a
 * simulator's mutant replaces it), and the ops to write, which gain the
 * current hard state when a synced batch follows an unsynced one without
 * carrying a hard state itself (see above). Returns the state for the next.
 */
export function planSync(
  ops: readonly StorageOp[],
  state: SyncState,
  decide: typeof mustSync = mustSync,
): { sync: boolean; ops: readonly StorageOp[]; state: SyncState } {
  let hardState = state.hardState;
  for (const o of ops) if (o.op === 'hardState') hardState = o.hardState;
  if (ops.length === 0) return { sync: false, ops, state };
  if (!decide(ops, state.hardState))
    return { sync: false, ops, state: { hardState, unsynced: true } };
  const rewrite: StorageOp[] =
    state.unsynced && hardState !== null && !ops.some((o) => o.op === 'hardState')
      ? [{ op: 'hardState', hardState }]
      : [];
  return {
    sync: true,
    ops: [...ops, ...rewrite],
    state: { hardState, unsynced: false },
  };
}
