// The node world's one event queue and global time. Global time is integer
// microseconds of simulated real time; every node sees it through its own
// drifting clock (clock.ts). Events at the same instant run in the order
// they were scheduled, so one seed replays exactly.
//
// Each event is one macrotask of the simulated process it belongs to: the
// world runs it, then lets every microtask it started settle (promises,
// queueMicrotask) before the next event, as Node's event loop does.

import { EventHeap } from '../heap.js';

export interface SimEvent {
  time: number;
  seq: number;
  run: () => void | Promise<void>;
  /** For the trace only. */
  label?: string;
}

export class Scheduler {
  private readonly heap = new EventHeap<SimEvent>();
  /** Global simulated time, µs. */
  now = 0;
  events = 0;

  /** Runs `run` at global time `time` (µs; not before now). */
  at(time: number, run: () => void | Promise<void>): void {
    this.heap.push({ time: Math.max(this.now, Math.round(time)), run });
  }

  /** Runs `run` `us` microseconds from now. */
  after(us: number, run: () => void | Promise<void>): void {
    this.at(this.now + us, run);
  }

  get pending(): number {
    return this.heap.size;
  }

  /** Runs the next event and everything it started; false when nothing is left. */
  async step(): Promise<boolean> {
    const ev = this.heap.pop();
    if (ev === undefined) return false;
    this.now = ev.time;
    this.events++;
    await ev.run();
    await settle();
    return true;
  }
}

/**
 * Resolves once every microtask queued so far, and every microtask those
 * queue, has run: a macrotask boundary. Nothing else in the simulation uses
 * real timers or I/O, so nothing else can run in between.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export const MS = 1000;
export const SECOND = 1_000_000;
