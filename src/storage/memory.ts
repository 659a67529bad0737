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

import type { Entry, HardState, InitialState, Snapshot } from '../raft/types.js';
import { StorageClosedError } from './errors.js';
import {
  assembleInitialState,
  EMPTY_BOUNDS,
  planPersist,
  type LogBounds,
  type StorageOp,
} from './plan.js';
import type { PersistBatch, RaftStorage } from './storage.js';

interface Disk {
  snapshot: Snapshot | null;
  hardState: HardState | null;
  entries: Map<number, Entry>;
  bounds: LogBounds;
  meta: Map<string, Uint8Array>;
}

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
   */
  schedule?: (complete: () => void) => void;
}

export class MemoryStorage implements RaftStorage {
  private state: 'open' | 'closed' | 'crashed' = 'open';
  private readonly queue: Pending[] = [];
  /** Bounds once every queued write has landed; the next persist plans on these. */
  private plannedBounds: LogBounds;
  readonly name: string;
  private readonly schedule: (complete: () => void) => void;

  static create(options: MemoryStorageOptions = {}): MemoryStorage {
    const disk: Disk = {
      snapshot: null,
      hardState: null,
      entries: new Map(),
      bounds: EMPTY_BOUNDS,
      meta: new Map(),
    };
    return new MemoryStorage(disk, options);
  }

  private constructor(
    private readonly disk: Disk,
    private readonly options: MemoryStorageOptions,
  ) {
    this.name = options.name ?? 'memory';
    this.schedule = options.schedule ?? ((f) => setImmediate(f));
    this.plannedBounds = disk.bounds;
  }

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
      const { ops, bounds } = planPersist(this.plannedBounds, structuredClone(batches));
      this.plannedBounds = bounds;
      return this.enqueue((disk) => applyOps(disk, ops, bounds));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    return this.getMetaSync(key);
  }

  setMeta(key: string, value: Uint8Array): Promise<void> {
    try {
      this.checkOpen();
      const v = new Uint8Array(value);
      return this.enqueue((disk) => void disk.meta.set(key, v));
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
    const drained = this.queue.length > 0 ? this.enqueue(() => {}) : Promise.resolve();
    this.state = 'closed';
    await drained;
  }

  // ---- crash semantics ----

  /** kill -9: drops every write not yet reported durable; the handle is dead. */
  crash(): void {
    this.state = 'crashed';
    this.queue.length = 0;
  }

  /** A restarted process: a new handle over the durable state. Crashes this one if still open. */
  reopen(): MemoryStorage {
    if (this.state === 'open') this.crash();
    return new MemoryStorage(this.disk, this.options);
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
    // The core owns what it loads; it must not be able to edit the "disk".
    return state && structuredClone(state);
  }

  persistSync(batches: PersistBatch[]): void {
    this.checkSync();
    const { ops, bounds } = planPersist(this.disk.bounds, structuredClone(batches));
    applyOps(this.disk, ops, bounds);
    this.plannedBounds = bounds;
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

  private enqueue(write: (disk: Disk) => void): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ write, resolve });
      this.schedule(() => {
        // After a crash the queue is empty: the write never lands, never resolves.
        const head = this.queue.shift();
        if (!head) return;
        head.write(this.disk);
        head.resolve();
      });
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

function applyOps(disk: Disk, ops: readonly StorageOp[], bounds: LogBounds): void {
  for (const o of ops) {
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
  disk.bounds = bounds;
}
