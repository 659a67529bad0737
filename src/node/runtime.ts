// The runtime seams of a node: time, timers and randomness come from the
// caller, like storage and transport (see NodeDeps in host.ts). Production
// passes systemClock() and systemEntropy(); the deterministic simulator
// (test/sim/node) passes a simulated clock whose time only moves when the
// simulator says so, and a seeded PRNG. Nothing in src/node reads
// performance.now(), Date, setTimeout or crypto directly; everything goes
// through these, so that one seed replays a whole node exactly.

import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** Cancels a timer; calling it after the timer fired (or twice) does nothing. */
export type CancelTimer = () => void;

export interface Clock {
  /** Monotonic milliseconds: the lease, latencies, timeouts inside the node. */
  now(): number;
  /** Milliseconds since the Unix epoch: only to read deadlines that clients send. */
  wallNow(): number;
  /** Runs `fn` once, `ms` milliseconds from now (on this clock). */
  setTimer(ms: number, fn: () => void): CancelTimer;
}

export interface Entropy {
  /** A uniformly distributed integer in [0, n): the Raft core's election jitter. */
  int(n: number): number;
  /** A random hex string of `bytes` bytes: data-directory incarnations, cluster ids. */
  hex(bytes: number): string;
}

export function systemClock(): Clock {
  return {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    setTimer: (ms, fn) => {
      const t = setTimeout(fn, Math.max(0, ms));
      return () => clearTimeout(t);
    },
  };
}

export function systemEntropy(): Entropy {
  return {
    int: (n) => randomInt(n),
    hex: (bytes) => randomBytes(bytes).toString('hex'),
  };
}

/** Resolves after `ms` on `clock`. */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${Math.round(ms)} ms`);
  }
}

/** Settles like `p`, or rejects with TimeoutError after `ms` on `clock`. */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(Math.max(0, ms), () => reject(new TimeoutError(what, ms)));
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
