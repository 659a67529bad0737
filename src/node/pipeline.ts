// Group commit: the Readies the core produces while an fsync is running are
// written together by the next one. Persistence completes in order; after each
// write the runtime sends the messages that waited for it and advances the core.

import type { Ready } from '../raft/index.js';
import type { PersistBatch, RaftStorage } from '../storage/storage.js';

function toBatch(rd: Ready): PersistBatch {
  return {
    snapshot: rd.snapshot,
    compacted: rd.compacted,
    entries: rd.entries,
    hardState: rd.hardState,
  };
}

function needsWrite(rd: Ready): boolean {
  return (
    rd.snapshot !== null || rd.compacted !== null || rd.entries.length > 0 || rd.hardState !== null
  );
}

export interface PipelineStats {
  writes: number;
  readies: number;
  entries: number;
  lastWriteMs: number;
}

export class PersistPipeline {
  private queue: Ready[] = [];
  private writing = false;
  private failed: Error | null = null;
  private stopped = false;
  private flushed: (() => void)[] = [];
  readonly stats: PipelineStats = { writes: 0, readies: 0, entries: 0, lastWriteMs: 0 };

  constructor(
    private readonly storage: RaftStorage,
    /** Called in order with every Ready whose state is now durable. */
    private readonly onDurable: (readies: Ready[]) => void,
    /** A failed fsync leaves the disk in an unknown state: the node must stop. */
    private readonly onFatal: (err: Error) => void,
    private readonly now: () => number,
    private readonly observeWrite: (ms: number, entries: number) => void = () => {},
  ) {}

  /**
   * Hands nothing more to the storage (the node stopped): what is queued is
   * dropped, as a stopping process's unflushed state is. The write in flight,
   * if any, still completes.
   */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.settleFlushes();
  }

  submit(rd: Ready): void {
    if (this.failed || this.stopped) return;
    this.queue.push(rd);
    this.kick();
  }

  /** Resolves when everything submitted so far is durable (or the disk failed). */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.flushed.push(resolve));
  }

  private idle(): boolean {
    return this.failed !== null || this.stopped || (!this.writing && this.queue.length === 0);
  }

  private settleFlushes(): void {
    if (!this.idle()) return;
    const waiting = this.flushed;
    this.flushed = [];
    for (const resolve of waiting) resolve();
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0 || this.failed || this.stopped) return;
    const readies = this.queue;
    this.queue = [];
    this.writing = true;
    const writes = readies.filter(needsWrite);
    const started = this.now();
    const done = writes.length > 0 ? this.storage.persist(writes.map(toBatch)) : Promise.resolve();
    done.then(
      () => {
        if (writes.length > 0) {
          const ms = this.now() - started;
          const entries = writes.reduce((n, rd) => n + rd.entries.length, 0);
          this.stats.writes++;
          this.stats.entries += entries;
          this.stats.lastWriteMs = ms;
          this.observeWrite(ms, entries);
        }
        this.stats.readies += readies.length;
        this.writing = false;
        this.onDurable(readies);
        this.kick();
        this.settleFlushes();
      },
      (err: unknown) => {
        this.failed = err instanceof Error ? err : new Error(String(err));
        this.writing = false;
        this.onFatal(this.failed);
        this.settleFlushes();
      },
    );
  }
}
