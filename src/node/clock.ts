// Real time for the runtime: the Raft core counts ticks; this maps ticks to
// the node's monotonic clock (runtime.ts) so that the leader lease can be
// checked at the moment a request is answered, not at the last tick. A
// process resumed after SIGSTOP (or a long GC pause) answers queued requests
// before its timers catch up; only the monotonic clock tells it that its
// lease is long gone.

/** Remembers when recent ticks happened. */
export class TickClock {
  private readonly times: Float64Array;
  private latest = -1;

  constructor(
    readonly tickMs: number,
    /** How many recent ticks to remember (covers more than one election timeout). */
    capacity: number,
  ) {
    this.times = new Float64Array(capacity);
  }

  /** Record that tick number `tick` happens now. */
  record(tick: number, now: number): void {
    this.times[tick % this.times.length] = now;
    this.latest = tick;
  }

  /** When tick `tick` happened, if it is recent enough to be remembered. */
  timeOf(tick: number): number | undefined {
    if (tick > this.latest || tick <= this.latest - this.times.length || tick < 0) return undefined;
    return this.times[tick % this.times.length];
  }
}
