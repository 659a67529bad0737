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

import type { WasteCause } from './allocator.js';

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
  /** The table's clock when this entry last moved to the recent end. */
  used = 0;
}

/** An approximately least-recently-used table of SeqHistory, at most `limit` entries. */
export class HistoryTable {
  private readonly map = new Map<string, SeqHistory>();
  private clock = 0;

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('history limit must be at least 1');
  }

  get size(): number {
    return this.map.size;
  }

  /** The history of `sequence`, if kept. Does not count as a use. */
  get(sequence: string): SeqHistory | undefined {
    return this.map.get(sequence);
  }

  /**
   * The history of `sequence`, made if missing, marked used. Moving an entry
   * to the recent end costs a Map delete and set, so it is done only once
   * it has aged by half the limit: an entry used at least that often is
   * never the oldest, and the others go in about least-recently-used order.
   */
  use(sequence: string): SeqHistory {
    const now = ++this.clock;
    let h = this.map.get(sequence);
    if (h === undefined) {
      h = new SeqHistory();
      h.used = now;
      this.map.set(sequence, h);
      if (this.map.size > this.limit) {
        const oldest = this.map.keys().next().value as string;
        this.map.delete(oldest);
      }
    } else if (now - h.used > this.limit / 2) {
      this.map.delete(sequence);
      this.map.set(sequence, h);
      h.used = now;
    }
    return h;
  }

  entries(): IterableIterator<[string, SeqHistory]> {
    return this.map.entries();
  }
}
