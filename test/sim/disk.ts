// A simulated node's durable image: what its disk holds after the fsyncs
// that completed. A crash keeps exactly this; a restart hands it to the core
// as its InitialState. Every change goes through the checkers (log matching,
// committed entries, durable term/vote/commit).

import type {
  Entry,
  HardState,
  InitialState,
  NodeId,
  Ready,
  Snapshot,
} from '../../src/raft/types.js';
import { entryHash, prefixHash } from './hash.js';
import type { Checker } from './invariants.js';
import { Violation } from './invariants.js';

export class DiskImage {
  hardState: HardState;
  snapshot: Snapshot;
  /** Entries after snapshot.meta.index, contiguous. */
  entries: Entry[];
  /** Prefix hash of each entry (log matching); NaN when the base is unknown. */
  private prefix: number[] = [];
  /** Prefix hash at the snapshot index. */
  private base: number;

  constructor(
    readonly node: NodeId,
    init: InitialState,
    private readonly checker: Checker,
  ) {
    this.hardState = { ...init.hardState };
    this.snapshot = init.snapshot;
    this.entries = [];
    this.base = checker.prefixAt(init.snapshot.meta.index, init.snapshot.meta.term);
    this.appendFrom(init.entries);
  }

  get snapIndex(): number {
    return this.snapshot.meta.index;
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.snapshot.meta.index - 1];
  }

  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapshot.meta.term;
    return this.entry(index)?.term;
  }

  /** Copies, so the core can never alias the disk. */
  toInitialState(): InitialState {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: this.entries.slice(),
    };
  }

  /** Makes one Ready's persistent part durable, as one atomic batch. */
  persist(rd: Ready): void {
    const oldCommit = this.hardState.commit;
    if (rd.snapshot !== null) {
      const s = rd.snapshot;
      if (s.meta.index < this.hardState.commit) {
        throw new Violation(
          'storage-contract',
          `${this.node} asked to persist snapshot ${s.meta.index}/${s.meta.term} below its durable commit ${this.hardState.commit}`,
        );
      }
      this.snapshot = s;
      this.entries = [];
      this.prefix = [];
      this.base = this.checker.prefixAt(s.meta.index, s.meta.term);
    }
    if (rd.compacted !== null) {
      const c = rd.compacted;
      const ci = c.meta.index;
      if (ci > this.snapIndex) {
        if (ci > this.lastIndex() || this.term(ci) !== c.meta.term) {
          throw new Violation(
            'storage-contract',
            `${this.node} compaction at ${ci}/${c.meta.term}, but its durable log holds ${ci}/${this.term(ci)} (last ${this.lastIndex()})`,
          );
        }
        const drop = ci - this.snapIndex;
        this.base = this.prefix[drop - 1] as number;
        this.entries = this.entries.slice(drop);
        this.prefix = this.prefix.slice(drop);
        this.snapshot = c;
      }
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      if (first <= this.snapIndex || first > this.lastIndex() + 1) {
        throw new Violation(
          'storage-contract',
          `${this.node} asked to persist entries from ${first}, but its durable log is ${this.snapIndex + 1}..${this.lastIndex()}`,
        );
      }
      const keep = first - this.snapIndex - 1;
      if (first <= this.hardState.commit) {
        // Overwriting a durably committed entry is only fine if it is identical.
        for (const e of rd.entries) {
          if (e.index > this.hardState.commit) break;
          const old = this.entry(e.index) as Entry;
          if (old.term !== e.term || entryHash(old) !== entryHash(e)) {
            throw new Violation(
              'committed-changed',
              `${this.node} overwrites its durably committed entry ${e.index}/${old.term} with ${e.index}/${e.term}`,
            );
          }
        }
      }
      this.entries.length = keep;
      this.prefix.length = keep;
      this.appendFrom(rd.entries);
    }
    if (rd.hardState !== null) {
      this.checker.hardState(this.node, this.hardState, rd.hardState, this.lastIndex());
      this.hardState = { ...rd.hardState };
    } else if (this.hardState.commit > this.lastIndex() && this.hardState.commit > this.snapIndex) {
      throw new Violation('storage-contract', `${this.node} durable commit beyond its log`);
    }
    if (rd.snapshot !== null && this.hardState.commit < rd.snapshot.meta.index) {
      // A snapshot is committed by definition; its index is the floor of commit.
      this.hardState = { ...this.hardState, commit: rd.snapshot.meta.index };
    }
    // Everything at or below the durable commit index must be the committed entry.
    const newCommit = this.hardState.commit;
    const from = Math.max(
      this.snapIndex + 1,
      rd.entries.length > 0
        ? Math.min(oldCommit + 1, (rd.entries[0] as Entry).index)
        : oldCommit + 1,
    );
    for (let i = from; i <= newCommit; i++) {
      const e = this.entry(i);
      if (e !== undefined) this.checker.durableCommitted(this.node, e, entryHash(e));
    }
  }

  private appendFrom(entries: Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex() + 1) {
        throw new Violation(
          'storage-contract',
          `${this.node}: entry ${e.index} is not contiguous (last ${this.lastIndex()})`,
        );
      }
      Object.freeze(e);
      const prev =
        this.entries.length === 0 ? this.base : (this.prefix[this.prefix.length - 1] as number);
      const h = Number.isNaN(prev) ? NaN : prefixHash(prev, e, entryHash(e));
      this.entries.push(e);
      this.prefix.push(h);
      this.checker.durableEntry(this.node, e, h);
    }
  }
}
