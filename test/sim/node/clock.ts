// A node's view of time in the simulator: a Clock (src/node/runtime.ts) whose
// milliseconds run at the node's own rate (drift within the configured bound)
// from an origin of its own (each process has its own monotonic origin).
//
// Stalls: while the node's event loop is stalled (a long GC pause, a
// synchronous snapshot), none of its timers fire; time keeps running, so
// when the stall ends the node reads a later now() than its timers expect.

import type { CancelTimer, Clock } from '../../../src/node/runtime.js';
import type { Scheduler } from './scheduler.js';

/** The Unix epoch the simulated wall clocks start at (2026-01-01). */
const WALL_EPOCH_MS = 1_767_225_600_000;

export interface ProcessGate {
  /** Whether this process (incarnation) is still alive. */
  alive(): boolean;
  /** Runs `fn` as a timer callback of the process: deferred past any stall. */
  timer(fn: () => void): void;
}

export class SimClock implements Clock {
  constructor(
    private readonly sched: Scheduler,
    /** Local milliseconds per global millisecond (1 ± drift). */
    readonly rate: number,
    /** Global µs at which this process's monotonic clock reads `originMs`. */
    private readonly startedAt: number,
    private readonly originMs: number,
    private readonly gate: ProcessGate,
  ) {}

  now(): number {
    return this.originMs + ((this.sched.now - this.startedAt) / 1000) * this.rate;
  }

  wallNow(): number {
    return WALL_EPOCH_MS + (this.sched.now / 1000) * this.rate;
  }

  setTimer(ms: number, fn: () => void): CancelTimer {
    let live = true;
    const us = Math.max(1, Math.ceil((Math.max(0, ms) * 1000) / this.rate));
    this.sched.after(us, () => {
      if (live && this.gate.alive()) this.gate.timer(() => live && fn());
    });
    return () => {
      live = false;
    };
  }
}
