// How fast each sequence's committed reservation grows, as this node sees
// reservations applied: the rate a backup records and recovery plans with.
//
// Every node (not only the leader) keeps it, because recovery may start from
// any of them: `snapshot save` asks the leader, but `serve --force-new-cluster`
// runs on whichever member survived, usually a follower. The allocator's own
// rate (allocator.ts) lives on the leader only, forgets everything at a
// leader change and follows the last second; this one follows the last
// minute or so and is built from what every node applies anyway.
//
// What it measures is the growth of `reserved`, not of values served: that is
// exactly what recovery must stay above. A leader serves only from committed
// reservations, so the highest value a lost cluster can have served after a
// snapshot is the snapshot's `reserved` plus the reservation growth since.
//
// Deliberately conservative: the rate never decays while a sequence is idle
// (an idle sequence skips more on recovery, never too little), and a jump
// (a new leader's first block, a snapshot installed over a gap) counts as
// growth like any other. Not replicated and not deterministic: it is a
// measurement of this node's clock, kept beside the state machine, not in it.

import { NameTable } from './names.js';

/** Default time constant of the EWMA, in ms. */
export const RATE_TAU_MS = 60_000;

/**
 * Per sequence: its name interned (names.ts) and three columns indexed by
 * the name's id, so that a million sequences cost some 45 bytes each here
 * rather than the ~200 of a Map entry, an object and a bigint.
 */
export class ReservationRates {
  private readonly names = new NameTable();
  /** Values per second (EWMA of the reservation's growth); 0 until it grew. */
  private rates = new Float64Array(64);
  /** When the reservation last grew (monotonic ms). */
  private times = new Float64Array(64);
  /** The reservation then (values fit: at most 2^63 - 1). */
  private reserved = new BigInt64Array(64);

  constructor(
    /** Monotonic milliseconds. */
    private readonly now: () => number,
    private readonly tauMs = RATE_TAU_MS,
  ) {}

  /** The sequence's committed reservation is now `reserved` (after a reserve applied). */
  observe(sequence: string, reserved: bigint): void {
    const now = this.now();
    const known = this.names.find(sequence);
    if (known < 0) {
      const id = this.names.intern(sequence);
      this.grow(id + 1);
      this.rates[id] = 0;
      this.times[id] = now;
      this.reserved[id] = reserved;
      return;
    }
    const last = this.reserved[known]!;
    if (reserved <= last) return;
    // Growth over the time since the last growth; a batch that grew it twice
    // in the same millisecond counts as one millisecond.
    const dt = Math.max(1, now - this.times[known]!);
    const sample = (Number(reserved - last) * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauMs);
    const rate = this.rates[known]!;
    // The first sample is taken whole: an EWMA starting at 0 would report a
    // fraction of the real rate for a minute.
    this.rates[known] = rate === 0 ? sample : rate + alpha * (sample - rate);
    this.times[known] = now;
    this.reserved[known] = reserved;
  }

  /** Values per second; 0 for a sequence this node has not seen grow twice. */
  rate(sequence: string): number {
    const id = this.names.find(sequence);
    return id < 0 ? 0 : this.rates[id]!;
  }

  /** Every sequence with a known rate: name, rate, and the reservation last seen. */
  *entries(): IterableIterator<{ name: string; rate: number; reserved: bigint }> {
    for (let id = 0; id < this.names.size; id++) {
      const rate = this.rates[id]!;
      if (rate > 0) yield { name: this.names.name(id), rate, reserved: this.reserved[id]! };
    }
  }

  get size(): number {
    return this.names.size;
  }

  private grow(size: number): void {
    if (size <= this.rates.length) return;
    const n = Math.max(size, this.rates.length * 2);
    const rates = new Float64Array(n);
    rates.set(this.rates);
    const times = new Float64Array(n);
    times.set(this.times);
    const reserved = new BigInt64Array(n);
    reserved.set(this.reserved);
    this.rates = rates;
    this.times = times;
    this.reserved = reserved;
  }
}
