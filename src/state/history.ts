// The allocator's per-sequence history (rate and counters), kept only for the
// sequences used most recently.
//
// With a million sequences, an object per sequence that ever got a value
// would cost the leader some 250 bytes each, for numbers that only matter
// while a sequence is busy: its rate sizes its next block, its counters
// show in `sequence show` and on the status page. A sequence that drops out
// of the most recent `limit` starts again from nothing (its first block is
// the minimum, the next ones follow its rate at once). The allocator's
// totals are kept apart and stay exact.

import type { WasteCause } from './allocator-types.js';

/** Per-sequence history: rate and counters. */
export class SeqHistory {
  rate = 0;
  windowStart = -1;
  windowCount = 0;
  served = 0n;
  requests = 0;
  skipped: Record<WasteCause, bigint> = {
    'block-remainder': 0n,
    crash: 0n,
    handover: 0n,
    advance: 0n,
  };
  proposed = 0;
  committed = 0;
  failed = 0;
}

/**
 * An approximately least-recently-used table of SeqHistory, at most `limit`
 * entries, in two generations: entries used lately are in `young`; when it
 * holds limit / 2 of them it becomes `old` and the previous `old` is dropped
 * whole. An entry found in `old` moves back to `young`. Every step is O(1):
 * evicting from the front of one Map instead would make V8 skip the deleted
 * slots there on every eviction (a million creations spent tens of seconds
 * of the leader's CPU on that).
 */
export class HistoryTable {
  private young = new Map<string, SeqHistory>();
  private old = new Map<string, SeqHistory>();
  private readonly half: number;

  constructor(limit: number) {
    if (!(limit >= 2)) throw new RangeError('history limit must be at least 2');
    this.half = Math.floor(limit / 2);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The history of `sequence`, if kept. Does not count as a use. */
  get(sequence: string): SeqHistory | undefined {
    return this.young.get(sequence) ?? this.old.get(sequence);
  }

  /** The history of `sequence`, made if missing, marked used. */
  use(sequence: string): SeqHistory {
    const h = this.young.get(sequence);
    if (h !== undefined) return h;
    const aged = this.old.get(sequence);
    if (aged !== undefined) this.old.delete(sequence);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
    const made = aged ?? new SeqHistory();
    this.young.set(sequence, made);
    return made;
  }

  *entries(): IterableIterator<[string, SeqHistory]> {
    yield* this.young.entries();
    yield* this.old.entries();
  }
}
