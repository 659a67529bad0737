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

/** Default time constant of the EWMA, in ms. */
export const RATE_TAU_MS = 60_000;

class SeqRate {
  constructor(
    /** Values per second (EWMA of the reservation's growth). */
    public rate: number,
    /** When the reservation last grew (monotonic ms). */
    public at: number,
    /** The reservation then. */
    public reserved: bigint,
  ) {}
}

export class ReservationRates {
  private readonly seqs = new Map<string, SeqRate>();

  constructor(
    /** Monotonic milliseconds. */
    private readonly now: () => number,
    private readonly tauMs = RATE_TAU_MS,
  ) {}

  /** The sequence's committed reservation is now `reserved` (after a reserve applied). */
  observe(sequence: string, reserved: bigint): void {
    const now = this.now();
    const s = this.seqs.get(sequence);
    if (s === undefined) {
      this.seqs.set(sequence, new SeqRate(0, now, reserved));
      return;
    }
    if (reserved <= s.reserved) return;
    // Growth over the time since the last growth; a batch that grew it twice
    // in the same millisecond counts as one millisecond.
    const dt = Math.max(1, now - s.at);
    const sample = (Number(reserved - s.reserved) * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauMs);
    // The first sample is taken whole: an EWMA starting at 0 would report a
    // fraction of the real rate for a minute.
    s.rate = s.rate === 0 ? sample : s.rate + alpha * (sample - s.rate);
    s.at = now;
    s.reserved = reserved;
  }

  /** Values per second; 0 for a sequence this node has not seen grow twice. */
  rate(sequence: string): number {
    return this.seqs.get(sequence)?.rate ?? 0;
  }

  /** Every sequence with a known rate: name, rate, and the reservation last seen. */
  *entries(): IterableIterator<{ name: string; rate: number; reserved: bigint }> {
    for (const [name, s] of this.seqs) {
      if (s.rate > 0) yield { name, rate: s.rate, reserved: s.reserved };
    }
  }

  get size(): number {
    return this.seqs.size;
  }
}
