// The simulated network: every message gets a random delay (so messages are
// reordered), may be lost or duplicated, and is dropped when its link is cut
// at send time or at delivery time. Links are directed, so a partition can be
// symmetric ({n1,n2} | {n3}) or asymmetric (n1 -/-> n2 while n2 -> n1 works).
// All randomness comes from the Prng handed in, so a seed replays exactly.

import type { NodeId } from '../../src/raft/types.js';
import type { Prng } from '../support/prng.js';

/** Simulated global time: microsteps. One nominal tick is TICK microsteps. */
export const TICK = 1000;

export interface NetworkFaults {
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Usual one-way delay range, in microsteps. */
  minDelay: number;
  maxDelay: number;
  /** Probability of a long delay (up to `longDelay` microsteps): heavy reordering. */
  slow: number;
  longDelay: number;
}

export const CALM: NetworkFaults = {
  loss: 0,
  duplicate: 0,
  minDelay: 20,
  maxDelay: 200,
  slow: 0,
  longDelay: 0,
};

export class Network {
  /** cut.get(from)?.has(to): messages from -> to are dropped. */
  private readonly cut = new Map<NodeId, Set<NodeId>>();
  private cutCount = 0;
  faults: NetworkFaults = { ...CALM };
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(private readonly rng: Prng) {}

  /** Picks a fresh random fault profile (loss, duplication, delays). */
  randomizeFaults(): NetworkFaults {
    const r = this.rng;
    const lossy = r.chance(0.6);
    this.faults = {
      loss: lossy ? r.pick([0.01, 0.03, 0.08, 0.15, 0.3]) : 0,
      duplicate: r.chance(0.5) ? r.pick([0.01, 0.05, 0.1]) : 0,
      minDelay: r.range(5, 100),
      maxDelay: r.range(150, r.chance(0.3) ? 1500 : 600),
      slow: r.chance(0.5) ? r.pick([0.01, 0.05, 0.1]) : 0,
      longDelay: r.range(1, 4) * TICK,
    };
    return this.faults;
  }

  calm(): void {
    this.faults = { ...CALM };
  }

  isCut(from: NodeId, to: NodeId): boolean {
    if (this.cutCount === 0) return false;
    const s = this.cut.get(from);
    return s !== undefined && s.has(to);
  }

  cutLink(from: NodeId, to: NodeId): void {
    if (from === to) return;
    let s = this.cut.get(from);
    if (!s) this.cut.set(from, (s = new Set()));
    if (!s.has(to)) {
      s.add(to);
      this.cutCount++;
    }
  }

  /** Cuts every link between different groups, both ways. Heals the rest first. */
  partition(groups: NodeId[][]): void {
    this.heal();
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i] as NodeId[])
          for (const b of groups[j] as NodeId[]) this.cutLink(a, b);
      }
    }
  }

  /** Cuts `id` off from everyone in `all`, both ways (adds to existing cuts). */
  isolate(id: NodeId, all: NodeId[]): void {
    for (const o of all) {
      this.cutLink(id, o);
      this.cutLink(o, id);
    }
  }

  heal(): void {
    this.cut.clear();
    this.cutCount = 0;
  }

  hasCuts(): boolean {
    return this.cutCount > 0;
  }

  /**
   * Decides the fate of one message sent now: writes the delivery delays of
   * its copies into `out` and returns how many there are (0 if it is lost or
   * its link is cut, 2 if it is duplicated).
   */
  route(from: NodeId, to: NodeId, out: number[]): number {
    this.sent++;
    if (this.isCut(from, to) || this.rng.chance(this.faults.loss)) {
      this.dropped++;
      return 0;
    }
    out[0] = this.delay();
    if (this.rng.chance(this.faults.duplicate)) {
      this.duplicated++;
      out[1] = this.delay();
      return 2;
    }
    return 1;
  }

  private delay(): number {
    const f = this.faults;
    if (f.slow > 0 && this.rng.chance(f.slow))
      return this.rng.range(f.maxDelay, f.maxDelay + f.longDelay);
    return this.rng.range(f.minDelay, f.maxDelay);
  }

  describe(): string {
    if (this.cutCount === 0) return 'no cuts';
    const parts: string[] = [];
    for (const [from, tos] of this.cut) for (const to of tos) parts.push(`${from}-/->${to}`);
    return parts.sort().join(' ');
  }
}
