// The Raft log as the core sees it: a snapshot (everything up to its index,
// compacted) followed by the entries after it, all in memory. Storage is a
// write-behind copy the runtime keeps durable; the core tracks how far that
// copy is known to be durable (`persisted`) and how far it has been handed out
// (`unstableFrom`).

import { invariant } from './invariant.js';
import type { Entry, Snapshot } from './types.js';

export class RaftLog {
  snapshot: Snapshot;
  private entries: Entry[];
  committed: number;
  /** Highest index handed out for application (entries or snapshot). */
  applied: number;
  /** Entries up to here are known durable in local storage. */
  persisted: number;
  /** First index not yet handed to storage in a Ready. */
  unstableFrom: number;
  /** A snapshot received from the leader, not yet handed out. */
  pendingSnapshot: Snapshot | null = null;
  /** A local compaction, not yet handed out. */
  pendingCompacted: Snapshot | null = null;

  constructor(snapshot: Snapshot, entries: Entry[], committed: number) {
    this.snapshot = snapshot;
    this.entries = entries.slice();
    entries.forEach((e, i) =>
      invariant(
        e.index === snapshot.meta.index + 1 + i,
        `log entries not contiguous at ${e.index}`,
      ),
    );
    invariant(committed >= snapshot.meta.index, 'commit index below snapshot');
    invariant(committed <= this.lastIndex(), `commit index ${committed} beyond last index`);
    this.committed = committed;
    this.applied = snapshot.meta.index;
    this.persisted = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.snapshot.meta.index + 1;
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** The term of the entry at `index`, or undefined if compacted or beyond the end. */
  term(index: number): number | undefined {
    const snap = this.snapshot.meta;
    if (index === snap.index) return snap.term;
    if (index < snap.index || index > this.lastIndex()) return undefined;
    return (this.entries[index - snap.index - 1] as Entry).term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapshot.meta.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshot.meta.index - 1];
  }

  /** Entries in [lo, hi] (inclusive), which must not be compacted. */
  slice(lo: number, hi: number): Entry[] {
    invariant(lo > this.snapshot.meta.index, `slice from compacted index ${lo}`);
    if (hi < lo) return [];
    const off = this.snapshot.meta.index + 1;
    return this.entries.slice(lo - off, hi - off + 1);
  }

  /** §5.4.1: is a log ending at (index, term) at least as up to date as ours? */
  isUpToDate(index: number, term: number): boolean {
    const myTerm = this.lastTerm();
    return term > myTerm || (term === myTerm && index >= this.lastIndex());
  }

  /**
   * The largest index <= `index` whose term is <= `term` (or the snapshot
   * index if we cannot look further back). Used for fast back-off.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapshot.meta.index; i--) {
      if ((this.term(i) as number) <= term) return i;
    }
    return i;
  }

  /** Leader append. */
  append(entries: Entry[]): void {
    for (const e of entries) {
      invariant(e.index === this.lastIndex() + 1, `append of ${e.index} after ${this.lastIndex()}`);
      this.entries.push(e);
    }
  }

  /**
   * Follower append (§5.3): if our log contains an entry at prevIndex with
   * prevTerm, delete any conflicting suffix and append the new entries.
   * Returns the index of the last new entry, or null when the logs do not
   * match at prevIndex.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    for (const e of entries) {
      const existing = this.term(e.index);
      if (existing === e.term) continue;
      if (existing !== undefined && !this.dropConflicting(e.index)) continue;
      if (e.index === this.lastIndex() + 1) this.entries.push(e);
    }
    return lastNew;
  }

  /**
   * Our entry at `index` conflicts with the leader's: drop it and all after
   * it, so the leader's entries replace them. Returns whether it did (a
   * test-only subclass keeps the conflict, to prove the checkers notice).
   */
  protected dropConflicting(index: number): boolean {
    invariant(
      index > this.committed,
      `conflicting entry at ${index} would truncate committed ${this.committed}`,
    );
    this.truncateFrom(index);
    return true;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.snapshot.meta.index - 1;
    this.unstableFrom = Math.min(this.unstableFrom, index);
    this.persisted = Math.min(this.persisted, index - 1);
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Entries for the next Ready's storage write. */
  takeUnstable(): Entry[] {
    const last = this.lastIndex();
    if (this.unstableFrom > last) return [];
    const out = this.slice(this.unstableFrom, last);
    this.unstableFrom = last + 1;
    return out;
  }

  hasUnstable(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  /** Committed entries that are durable here and not yet handed out. */
  applicableTo(): number {
    return Math.min(this.committed, this.persisted);
  }

  takeCommitted(): Entry[] {
    const hi = this.applicableTo();
    if (hi <= this.applied) return [];
    const out = this.slice(this.applied + 1, hi);
    this.applied = hi;
    return out;
  }

  /** Storage reports the write that ended at (index, term) durable. */
  persistedTo(index: number, term: number): void {
    if (index <= this.persisted) return;
    // If our log still has that entry, everything before it matches too (log
    // matching); if it was overwritten meanwhile, a later Ready will cover it.
    if (this.term(index) === term || index <= this.snapshot.meta.index) {
      this.persisted = Math.min(index, this.lastIndex());
    }
  }

  /** Replace the whole log with a snapshot from the leader (§7). */
  restore(snapshot: Snapshot): void {
    invariant(snapshot.meta.index > this.committed, 'restoring a snapshot behind the commit index');
    this.snapshot = snapshot;
    this.entries = [];
    this.committed = snapshot.meta.index;
    this.applied = snapshot.meta.index;
    this.persisted = Math.min(this.persisted, snapshot.meta.index);
    this.unstableFrom = snapshot.meta.index + 1;
    this.pendingSnapshot = snapshot;
  }

  /** Drop the applied prefix up to `snapshot.meta.index` (local compaction). */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index;
    invariant(index <= this.applied, `compaction at ${index} beyond applied ${this.applied}`);
    invariant(index >= this.snapshot.meta.index, 'compaction behind the current snapshot');
    this.entries = this.entries.slice(index - this.snapshot.meta.index);
    this.snapshot = snapshot;
    this.pendingCompacted = snapshot;
  }
}
