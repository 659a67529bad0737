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

/** The names of the state machine's sequences, by dense id (names.ts: NameTable). */
export interface SequenceNames {
  /** The id of `name`, or -1. */
  find(name: string): number;
  /** The name of `id`. */
  name(id: number): string;
  readonly size: number;
}

/** Where the ids come from: the state machine's current name table. */
export interface SequenceIdSource {
  /**
   * The table of the current generation; a load() replaces it with another
   * object, whose ids mean other names.
   */
  sequenceNames(): SequenceNames;
}

/** Default time constant of the EWMA, in ms. */
export const RATE_TAU_MS = 60_000;

/**
 * Per sequence three columns indexed by the state machine's id of its name
 * (machine.ts, names.ts): 24 bytes a sequence and no name of its own. A
 * table of its own would repeat every name (some 27 bytes a sequence at a
 * million); a Map entry, an object and a bigint took some 200.
 *
 * The ids are those of one generation of the state machine's names: when a
 * snapshot is loaded the table is replaced, and the rows move to the new
 * ids by name (remap) before anything else reads or writes them.
 */
export class ReservationRates {
  /** The table the rows' ids belong to. */
  private table: SequenceNames;
  /** Values per second (EWMA of the reservation's growth); 0 until it grew. */
  private rates = new Float64Array(0);
  /** When the reservation last grew (monotonic ms); NaN: never seen. */
  private times = new Float64Array(0);
  /** The reservation then (values fit: at most 2^63 - 1). */
  private reserved = new BigInt64Array(0);
  /** Number of rows seen. */
  private seen = 0;

  constructor(
    private readonly source: SequenceIdSource,
    /** Monotonic milliseconds. */
    private readonly now: () => number,
    private readonly tauMs = RATE_TAU_MS,
  ) {
    this.table = source.sequenceNames();
  }

  /**
   * The sequence's committed reservation is now `reserved` (after a reserve
   * applied). A name the state machine does not know is ignored: there is
   * nothing of it to recover.
   */
  observe(sequence: string, reserved: bigint): void {
    this.sync();
    const id = this.table.find(sequence);
    if (id < 0) return;
    const now = this.now();
    if (id >= this.times.length) this.grow(id + 1);
    if (Number.isNaN(this.times[id]!)) {
      this.seen++;
      this.rates[id] = 0;
      this.times[id] = now;
      this.reserved[id] = reserved;
      return;
    }
    const last = this.reserved[id]!;
    if (reserved <= last) return;
    // Growth over the time since the last growth; a batch that grew it twice
    // in the same millisecond counts as one millisecond.
    const dt = Math.max(1, now - this.times[id]!);
    const sample = (Number(reserved - last) * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauMs);
    const rate = this.rates[id]!;
    // The first sample is taken whole: an EWMA starting at 0 would report a
    // fraction of the real rate for a minute.
    this.rates[id] = rate === 0 ? sample : rate + alpha * (sample - rate);
    this.times[id] = now;
    this.reserved[id] = reserved;
  }

  /** Values per second; 0 for a sequence this node has not seen grow twice. */
  rate(sequence: string): number {
    this.sync();
    const id = this.table.find(sequence);
    return id < 0 || id >= this.rates.length ? 0 : this.rates[id]!;
  }

  /** Every sequence with a known rate: name, rate, and the reservation last seen. */
  *entries(): IterableIterator<{ name: string; rate: number; reserved: bigint }> {
    this.sync();
    const table = this.table;
    for (let id = 0; id < this.rates.length; id++) {
      // A load() in between (the caller yields): the rest is read after the remap.
      if (table !== this.table) return;
      const rate = this.rates[id]!;
      if (rate > 0) yield { name: table.name(id), rate, reserved: this.reserved[id]! };
    }
  }

  /** Number of sequences seen. */
  get size(): number {
    return this.seen;
  }

  /**
   * Moves the rows to the ids of the state machine's current table if a
   * load() replaced it (the host calls it once a snapshot is installed, so
   * that the old table is freed at once; every other method calls it too).
   */
  sync(): void {
    const current = this.source.sequenceNames();
    if (current === this.table) return;
    const old = this.table;
    const { rates, times, reserved } = this;
    this.table = current;
    this.rates = new Float64Array(0);
    this.times = new Float64Array(0);
    this.reserved = new BigInt64Array(0);
    this.seen = 0;
    if (times.length > 0) this.grow(current.size);
    for (let id = 0; id < times.length; id++) {
      if (Number.isNaN(times[id]!)) continue;
      // (A name the snapshot lacks, which no correct cluster produces, is dropped.)
      const to = current.find(old.name(id));
      if (to < 0) continue;
      if (to >= this.times.length) this.grow(to + 1);
      this.seen++;
      this.rates[to] = rates[id]!;
      this.times[to] = times[id]!;
      this.reserved[to] = reserved[id]!;
    }
  }

  private grow(size: number): void {
    if (size <= this.times.length) return;
    const n = Math.max(size, 64, this.times.length * 2);
    const rates = new Float64Array(n);
    rates.set(this.rates);
    const times = new Float64Array(n);
    times.set(this.times);
    times.fill(NaN, this.times.length);
    const reserved = new BigInt64Array(n);
    reserved.set(this.reserved);
    this.rates = rates;
    this.times = times;
    this.reserved = reserved;
  }
}
