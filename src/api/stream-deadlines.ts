// The per-request deadlines of one NextStream (its `timeout_ms`), shared.
//
// Giving every request its own AbortController, timer and stream-cancel
// listener cost the leader about as much CPU as serving the request itself
// (measured with --cpu-prof under bench load: AbortController creation,
// timer insertion and EventTarget listeners were the largest items), and
// almost every request never uses them: the allocator looks at the signal
// only when a request has to wait for a reservation. Requests whose
// deadlines fall in the same window share one signal and one timer instead;
// the signal aborts at the end of the window, so a deadline fires late by at
// most the window's width (about 3% of the timeout, 10 to 100 ms), never
// early. With the client's 3 s attempt timeout that is one timer per stream
// every 94 ms instead of one per request.

import { setMaxListeners } from 'node:events';
import type { ApiClock } from './node-api.js';

/** Width of the deadline window (ms) of a request with `timeoutMs`: the most its deadline fires late. */
export function windowMs(timeoutMs: number): number {
  return Math.min(100, Math.max(10, Math.floor(timeoutMs / 32)));
}

interface Window {
  controller: AbortController;
  cancelTimer: () => void;
}

export class StreamDeadlines {
  /** Open windows by their end (epoch ms). */
  private readonly windows = new Map<number, Window>();
  private closedReason: unknown = null;

  constructor(private readonly clock: ApiClock) {}

  /** Windows with a timer still running (tests). */
  get open(): number {
    return this.windows.size;
  }

  /**
   * A signal that aborts once the wall clock has passed `timeoutMs` from now
   * (at most windowMs(timeoutMs) later), or when the stream is closed.
   * Returns the deadline too (epoch ms).
   */
  signalFor(timeoutMs: number): { signal: AbortSignal; deadlineAt: number } {
    const deadlineAt = this.clock.wallNow() + timeoutMs;
    if (this.closedReason !== null) {
      return { signal: AbortSignal.abort(this.closedReason), deadlineAt };
    }
    const width = windowMs(timeoutMs);
    const end = Math.ceil(deadlineAt / width) * width;
    let w = this.windows.get(end);
    if (w === undefined) {
      const controller = new AbortController();
      // Every request of the window that waits adds a listener.
      setMaxListeners(0, controller.signal);
      const cancelTimer = this.clock.setTimer(Math.max(0, end - this.clock.wallNow()), () => {
        this.windows.delete(end);
        controller.abort(new Error('deadline'));
      });
      w = { controller, cancelTimer };
      this.windows.set(end, w);
    }
    return { signal: w.controller.signal, deadlineAt };
  }

  /**
   * The stream is over: stops every timer. With a `reason` (the stream was
   * cancelled), requests still waiting on a window are aborted with it, and
   * later requests get an aborted signal.
   */
  close(reason?: unknown): void {
    if (reason !== undefined) this.closedReason = reason;
    for (const w of this.windows.values()) {
      w.cancelTimer();
      if (reason !== undefined) w.controller.abort(reason);
    }
    this.windows.clear();
  }
}
