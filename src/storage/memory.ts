// In-memory RaftStorage with crash semantics, for tests and the deterministic
// simulator.
//
// A "disk" object holds what is durable. A MemoryStorage is a handle on it,
// like a process that has the data directory open. persist() plans (and
// validates) at once but reaches the disk only later, on a scheduled callback,
// and resolves in that same callback: "reported durable" and "on the disk" are
// one event, exactly the guarantee a real fsync gives.
//
// crash() models kill -9: every write not yet reported durable is lost, its
// promise never settles (a dead process runs no continuation, and a
// simulator must not either), and the handle refuses all further calls.
// reopen() is the restart: a fresh handle over the durable state only.
//
// Like LevelStorage it keeps a durable watermark (watermark.ts) beside the
// disk, and it can model LevelDB's recovery dropping a record:
// reopen({ lose: 'tail' | 'middle' }) rebuilds the disk from its recent
// batches without one of them, so the watermark check is exercised exactly
// as a flipped bit in a LevelDB log would exercise it.
//
// Like LevelStorage it writes a batch that only moves the commit index
// without an fsync (plan.ts, mustSync): "written but not synced". A crash
// keeps it once it was reported; reopen({ lose: 'power' }) is a power loss,
// which also drops every landed write after the last synced batch.

import type { Entry, HardState, InitialState, Snapshot } from '../raft/types.js';
import { StorageClosedError } from './errors.js';
import type { mustSync } from './plan.js';
import {
  assembleInitialState,
  EMPTY_BOUNDS,
  planPersist,
  planSync,
  ZERO_HARD_STATE,
  type LogBounds,
  type StorageOp,
  type SyncState,
} from './plan.js';
import type { PersistBatch, RaftStorage } from './storage.js';
import { checkWatermark, type Watermark } from './watermark.js';

/** What a batch leaves on the disk (also what history replays). */
interface DiskState {
  snapshot: Snapshot | null;
  hardState: HardState | null;
  entries: Map<number, Entry>;
  bounds: LogBounds;
  /** Sequence number of the last batch applied (0: none). */
  seq: number;
}

interface Disk extends DiskState {
  meta: Map<string, Uint8Array>;
  /** The watermark, outside the engine (it survives whatever the engine loses). */
  watermark: Watermark | null;
  /** The state before the oldest batch in `history`, and the recent batches after it. */
  base: DiskState;
  history: Landed[];
}

/** A batch that reached the disk; `synced: false` for a commit-only one (mustSync). */
interface Landed {
  seq: number;
  ops: readonly StorageOp[];
  bounds: LogBounds;
  synced: boolean;
}

/** How many recent batches a disk keeps, so that recovery can lose one of them. */
const HISTORY = 32;

interface Pending {
  write(disk: Disk): void;
  resolve(): void;
}

export interface MemoryStorageOptions {
  /** Label used in error messages (like a data directory path). */
  name?: string;
  /**
   * When a write completes. Default setImmediate; a simulator passes its own
   * event queue. Completions are applied in call order whatever it does.
   * `synced` is false for a write made without an fsync (a commit-only batch).
   */
  schedule?: (complete: () => void, synced: boolean) => void;
  /**
   * The start-up check against the watermark; default checkWatermark. The
   * node simulator's "start behind the watermark" mutant passes a no-op.
   */
  checkDurable?: typeof checkWatermark;
  /**
   * Which batches are written with an fsync; default mustSync (plan.ts). A
   * node simulator mutant passes one that syncs nothing.
   */
  mustSync?: typeof mustSync;
}

export class MemoryStorage implements RaftStorage {
  private state: 'open' | 'closed' | 'crashed' = 'open';
  private readonly queue: Pending[] = [];
  /** Bounds once every queued write has landed; the next persist plans on these. */
  private plannedBounds: LogBounds;
  readonly name: string;
  private readonly schedule: (complete: () => void, synced: boolean) => void;

  static create(options: MemoryStorageOptions = {}): MemoryStorage {
    const empty = (): DiskState => ({
      snapshot: null,
      hardState: null,
      entries: new Map(),
      bounds: EMPTY_BOUNDS,
      seq: 0,
    });
    const disk: Disk = { ...empty(), meta: new Map(), watermark: null, base: empty(), history: [] };
    return new MemoryStorage(disk, options);
  }

  private constructor(
    private readonly disk: Disk,
    private readonly options: MemoryStorageOptions,
  ) {
    this.name = options.name ?? 'memory';
    this.schedule = options.schedule ?? ((f) => setImmediate(f));
    this.plannedBounds = disk.bounds;
    this.plannedSeq = disk.seq;
    this.plannedSync = { hardState: disk.hardState, unsynced: false };
  }

  /** Sequence number of the last planned synced batch. */
  private plannedSeq: number;
  /** Hard state as of the last planned batch, and whether it awaits a sync. */
  private plannedSync: SyncState;

  /** Writes accepted but not yet durable. */
  get pendingWrites(): number {
    return this.queue.length;
  }

  // ---- async API (RaftStorage) ----

  async load(): Promise<InitialState | null> {
    return this.loadSync();
  }

  persist(batches: PersistBatch[]): Promise<void> {
    try {
      this.checkOpen();
      // Copy now: the caller may reuse its buffers before the write lands.
      const { landed, mark } = this.plan(this.plannedBounds, structuredClone(batches));
      return this.enqueue(landed.synced, (disk) => land(disk, landed, mark));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Plans a persist on `bounds`: the batch as it lands, and the watermark it
   * writes once durable (null for a commit-only batch, which has no sequence
   * number of its own; see plan.ts).
   */
  private plan(
    bounds: LogBounds,
    batches: PersistBatch[],
  ): { landed: Landed; mark: Watermark | null } {
    const plan = planPersist(bounds, batches);
    const how = planSync(plan.ops, this.plannedSync, this.options.mustSync);
    this.plannedBounds = plan.bounds;
    this.plannedSync = how.state;
    const seq = how.sync ? ++this.plannedSeq : this.plannedSeq;
    const landed = { seq, ops: how.ops, bounds: plan.bounds, synced: how.sync };
    if (!how.sync) return { landed, mark: null };
    const mark: Watermark = {
      seq,
      hardState: { ...(how.state.hardState ?? ZERO_HARD_STATE) },
      lastIndex: plan.bounds.lastIndex,
    };
    return { landed, mark };
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    return this.getMetaSync(key);
  }

  setMeta(key: string, value: Uint8Array): Promise<void> {
    try {
      this.checkOpen();
      const v = new Uint8Array(value);
      return this.enqueue(true, (disk) => void disk.meta.set(key, v));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Refuses new writes at once (as LevelStorage does), waits for the queued
   * ones to land, then releases the handle.
   */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    const drained = this.queue.length > 0 ? this.enqueue(true, () => {}) : Promise.resolve();
    this.state = 'closed';
    await drained;
  }

  // ---- crash semantics ----

  /** kill -9: drops every write not yet reported durable; the handle is dead. */
  crash(): void {
    this.state = 'crashed';
    this.queue.length = 0;
  }

  /**
   * A restarted process: a new handle over the durable state. Crashes this
   * one if still open. `lose` models the engine's recovery dropping one of
   * its recent records: the last one, or one before it (loses nothing when
   * there is no such record); or 'power', a power loss: every batch that
   * landed without an fsync after the last synced one is gone (those still
   * in the recent history; an older one has been folded into the base).
   * Returns the new handle.
   */
  reopen(
    opts: { lose?: 'tail' | 'middle' | 'power'; pick?: (n: number) => number } = {},
  ): MemoryStorage {
    if (this.state === 'open') this.crash();
    if (opts.lose === 'power') losePower(this.disk);
    else if (opts.lose !== undefined) loseRecord(this.disk, opts.lose, opts.pick ?? ((n) => n - 1));
    return new MemoryStorage(this.disk, this.options);
  }

  /** How many landed batches a power loss would drop now (see reopen). */
  get unsyncedTail(): number {
    const h = this.disk.history;
    let n = 0;
    while (n < h.length && !h[h.length - 1 - n]!.synced) n++;
    return n;
  }

  /**
   * What the default start-up checks (log invariants, watermark) would refuse
   * in the durable state, or null. For a simulator that needs to know whether
   * a damaged store should have refused to start.
   */
  durableProblem(): string | null {
    const d = this.disk;
    try {
      assembleInitialState(this.name, {
        snapshot: d.snapshot,
        hardState: d.hardState,
        entries: [...d.entries.values()].sort((a, b) => a.index - b.index),
      });
      checkWatermark(
        this.name,
        { seq: d.seq, hardState: d.hardState, lastIndex: d.bounds.lastIndex },
        d.watermark,
      );
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  // ---- synchronous API, for a deterministic simulator ----
  // Durable on return. Do not mix with async writes still in flight: the
  // order between them would be undefined, so that is refused.

  loadSync(): InitialState | null {
    this.checkOpen();
    const d = this.disk;
    const entries = [...d.entries.values()].sort((a, b) => a.index - b.index);
    const state = assembleInitialState(this.name, {
      snapshot: d.snapshot,
      hardState: d.hardState,
      entries,
    });
    (this.options.checkDurable ?? checkWatermark)(
      this.name,
      { seq: d.seq, hardState: d.hardState, lastIndex: d.bounds.lastIndex },
      d.watermark,
    );
    // The core owns what it loads; it must not be able to edit the "disk".
    return state && structuredClone(state);
  }

  persistSync(batches: PersistBatch[]): void {
    this.checkSync();
    const { landed, mark } = this.plan(this.disk.bounds, structuredClone(batches));
    land(this.disk, landed, mark);
  }

  getMetaSync(key: string): Uint8Array | null {
    this.checkOpen();
    const v = this.disk.meta.get(key);
    return v ? new Uint8Array(v) : null;
  }

  setMetaSync(key: string, value: Uint8Array): void {
    this.checkSync();
    this.disk.meta.set(key, new Uint8Array(value));
  }

  // ---- internals ----

  private enqueue(synced: boolean, write: (disk: Disk) => void): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ write, resolve });
      this.schedule(() => {
        // After a crash the queue is empty: the write never lands, never resolves.
        const head = this.queue.shift();
        if (!head) return;
        head.write(this.disk);
        head.resolve();
      }, synced);
    });
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new StorageClosedError(this.state);
  }

  private checkSync(): void {
    this.checkOpen();
    if (this.queue.length > 0)
      throw new Error('MemoryStorage: synchronous write while async writes are in flight');
  }
}

/** A batch reaches the disk; then, if it was synced, its watermark is written. */
function land(disk: Disk, b: Landed, mark: Watermark | null): void {
  applyOps(disk, b);
  disk.history.push(b);
  if (disk.history.length > HISTORY) {
    const oldest = disk.history.shift()!;
    applyOps(disk.base, oldest);
  }
  // Durable now; the watermark follows (see watermark.ts).
  if (mark !== null) disk.watermark = mark;
}

/** Rebuilds the disk from its base and history without one recent batch. */
function loseRecord(disk: Disk, which: 'tail' | 'middle', pick: (n: number) => number): void {
  const h = disk.history;
  if (h.length === 0 || (which === 'middle' && h.length < 2)) return;
  // 'middle': any batch but the last (pick chooses among them).
  const drop = which === 'tail' ? h.length - 1 : pick(h.length - 1);
  rebuild(disk, h.length, drop);
}

/** Power loss: drops the batches that landed without an fsync after the last synced one. */
function losePower(disk: Disk): void {
  const h = disk.history;
  let keep = h.length;
  while (keep > 0 && !h[keep - 1]!.synced) keep--;
  if (keep < h.length) rebuild(disk, keep, -1);
}

/** Rebuilds the disk from its base and its first `keep` recent batches but `drop`. */
function rebuild(disk: Disk, keep: number, drop: number): void {
  const h = disk.history;
  const state: DiskState = {
    snapshot: disk.base.snapshot,
    hardState: disk.base.hardState,
    entries: new Map(disk.base.entries),
    bounds: disk.base.bounds,
    seq: disk.base.seq,
  };
  h.slice(0, keep).forEach((b, i) => {
    if (i !== drop) applyOps(state, b);
  });
  h.length = keep;
  if (drop >= 0) h.splice(drop, 1);
  // What the store reads back at start (LevelStorage's readBounds), not what
  // the last batch planned on a disk that still held the lost one.
  const snapshotIndex = state.snapshot?.meta.index ?? 0;
  state.bounds = {
    snapshotIndex,
    lastIndex: [...state.entries.keys()].reduce((a, b) => Math.max(a, b), snapshotIndex),
    commit: state.hardState?.commit ?? 0,
  };
  disk.snapshot = state.snapshot;
  disk.hardState = state.hardState;
  disk.entries = state.entries;
  disk.bounds = state.bounds;
  disk.seq = state.seq;
}

/** A batch's ops; a commit-only (unsynced) one writes no sequence number, as in LevelStorage. */
function applyOps(disk: DiskState, b: Landed): void {
  for (const o of b.ops) {
    switch (o.op) {
      case 'snapshot':
        disk.snapshot = o.snapshot;
        break;
      case 'delete':
        for (let i = o.from; i <= o.to; i++) disk.entries.delete(i);
        break;
      case 'entries':
        for (const e of o.entries) disk.entries.set(e.index, e);
        break;
      case 'hardState':
        disk.hardState = o.hardState;
        break;
    }
  }
  disk.bounds = b.bounds;
  if (b.synced) disk.seq = b.seq;
}
