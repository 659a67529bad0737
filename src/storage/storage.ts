// The storage seam between the Raft runtime and the disk.
//
// Narrow on purpose (hashicorp/raft's LogStore/StableStore split, collapsed
// into one object because every Ready writes log and hard state together and
// Raft needs that write to be atomic). Implementations: MemoryStorage (tests,
// simulator, with crash and power-loss semantics) and LevelStorage
// (classic-level, fsynced).
// Both run the same conformance suite in test/storage/conformance.ts.

import type { Entry, HardState, InitialState, Snapshot } from '../raft/types.js';

export {
  DataDirInUseError,
  StorageClosedError,
  StorageCorruptError,
  UnsupportedFormatError,
} from './errors.js';

/** One Ready's worth of state to make durable (see Ready in raft/types.ts). */
export interface PersistBatch {
  snapshot: Snapshot | null;
  compacted: Snapshot | null;
  entries: Entry[];
  hardState: HardState | null;
}

export interface RaftStorage {
  /** What is durable now; for an empty store: null. */
  load(): Promise<InitialState | null>;
  /**
   * Write several Readies' worth in ONE atomic batch, fsynced before it
   * resolves, unless all it changes is the commit index of the hard state
   * (mustSync in plan.ts): then written without an fsync (a killed process
   * keeps it, a power loss may drop it; the commit index is volatile). Batches are applied in order, and within a batch: snapshot
   * (replaces everything: all entries dropped, snapshot stored), then
   * compacted (store snapshot, drop entries <= its index), then entries
   * (delete stored entries with index >= entries[0].index, then write them),
   * then hardState. A batch that would leave a state `load` refuses (a gap in
   * the log, commit beyond the last index) is rejected before anything is
   * written. Calls complete in the order they were made.
   */
  persist(batches: PersistBatch[]): Promise<void>;
  /** Small key/value metadata the runtime needs (node id, bootstrap info), also durable. */
  getMeta(key: string): Promise<Uint8Array | null>;
  setMeta(key: string, value: Uint8Array): Promise<void>;
  /** Waits for writes in flight, then releases the store. */
  close(): Promise<void>;
}
