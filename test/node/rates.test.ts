// Every member measures each sequence's reservation growth (src/state/rates.ts)
// on the state machine's ids: through a real cluster, each node knows the
// rate of a sequence it only applied reservations for.

import { describe, expect, it } from 'vitest';
import { SimCluster } from '../sim/node/cluster.js';

const IDS = ['n1', 'n2', 'n3'];

describe('reservation rates on every member', () => {
  it('a sequence whose reservation grew has a rate on every node, by its name', async () => {
    const c = new SimCluster({ seed: 11, ids: IDS, drift: 0 });
    c.start();
    await c.runUntil(() => c.leader() !== null, 30_000, 'a leader');
    // Other sequences first, so that 'b' has another id than on a fresh table.
    for (const name of ['a', 'b']) {
      for (let i = 0; i < 5; i++) {
        const r = await c.settleOn(c.call('Sequencer', 'Next', { sequence: name, count: 5000 }));
        expect(r.outcome.code).toBe(0);
        await c.runFor(200);
      }
    }
    await c.runFor(1000); // every member applied every reservation
    for (const id of IDS) {
      const host = c.host(id)!;
      expect(host.rates.size).toBe(2);
      for (const name of ['a', 'b']) {
        expect(host.rates.rate(name)).toBeGreaterThan(0);
        expect(host.rateOf(name)).toBeGreaterThanOrEqual(host.rates.rate(name));
      }
      expect([...host.rates.entries()].map((e) => e.name)).toEqual(['a', 'b']);
      expect(host.rates.rate('never')).toBe(0);
    }
  });
});
