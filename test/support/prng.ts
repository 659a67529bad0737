// The one seeded PRNG of the tests: the deterministic simulator (test/sim),
// the Raft harness's election timeouts (test/raft), and the client workloads
// of the fault tests and jepsen-lite all draw from it, so a seed printed by
// any of them replays the same choices.
//
// sfc32 (Chris Doty-Humphrey's "small fast counting" generator, as in
// PractRand) seeded through splitmix32. 32-bit state words, no BigInt, so a
// simulated run costs almost nothing in randomness. One seed reproduces a run
// exactly: every random choice of the simulator and of every core (through
// `fork`) derives from it. It implements the core's `Rng`, so a RaftNode can
// take it as is.

import type { Rng } from '../../src/raft/types.js';

/** splitmix32: turns one 32-bit value into a well-mixed stream of seeds. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit hash of a string (FNV-1a), used to derive labelled sub-streams. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Prng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed >>> 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st) | 1;
    // Warm up, as recommended for sfc32.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** The next raw 32-bit unsigned value. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new Error(`Prng.int: bad bound ${n}`);
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick: empty');
    return items[this.int(items.length)] as T;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const x = out[i] as T;
      out[i] = out[j] as T;
      out[j] = x;
    }
    return out;
  }

  /** An independent stream derived from this one and a label (e.g. "core n3#2"). */
  fork(label: string): Prng {
    return new Prng((this.next() ^ hashString(label)) >>> 0);
  }
}
