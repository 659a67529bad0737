// The whole-node world (test/sim/node) as a quick test: a seed replays
// exactly, a few seeds of real nodes under faults break nothing, and a mutant
// is caught. CI runs the world at scale, and every mutant, through
// `npm run sim -- --world node` (see .ci/run).

import { describe, expect, it } from 'vitest';
import { nodeMutant } from './node/mutants.js';
import { runNodeSeed, type NodeSimResult } from './node/world.js';
import { formatViolation } from './report.js';

function failures(results: NodeSimResult[]): string {
  return results
    .filter((r) => r.violation !== null)
    .map((r) => formatViolation(r.seed, r.violation!))
    .join('\n\n');
}

describe('the node world', () => {
  it('replays a seed exactly', async () => {
    const a = await runNodeSeed({ seed: 11 });
    const b = await runNodeSeed({ seed: 11 });
    expect(b.stats).toEqual(a.stats);
    expect(a.stats.okAnswers).toBeGreaterThan(50);
  });

  it('30 seeds of 3 real nodes under faults: no violation', async () => {
    const results: NodeSimResult[] = [];
    for (let s = 1; s <= 30; s++) results.push(await runNodeSeed({ seed: s }));
    expect(failures(results)).toBe('');
    const sum = (k: 'crashes' | 'gracefulStops' | 'stalls' | 'adminCalls'): number =>
      results.reduce((n, r) => n + r.stats[k], 0);
    // The nemesis really did its job.
    expect(sum('crashes')).toBeGreaterThan(10);
    expect(sum('gracefulStops')).toBeGreaterThan(10);
    expect(sum('stalls')).toBeGreaterThan(10);
    expect(sum('adminCalls')).toBeGreaterThan(30);
  }, 120_000);

  it('catches a mutant: a hand-over recorded while the leader keeps serving', async () => {
    const m = nodeMutant('handover-without-seal');
    let caught: NodeSimResult | null = null;
    for (let s = 1; s <= 50 && caught === null; s++) {
      const r = await runNodeSeed({
        seed: s,
        mutant: m.name,
        ...(m.classes ? { classes: m.classes } : {}),
      });
      if (r.violation !== null) caught = r;
    }
    expect(caught?.violation?.invariant).toMatch(/handover|never-twice/);
  }, 120_000);
});
