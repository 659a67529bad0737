// The deterministic simulator as a test: hundreds of seeds of the real core
// under faults with zero violations, determinism of a seed, and every mutant
// of the core caught within the seed budget (a checker is only trusted once
// it has failed). `npm run sim` runs the same simulation at larger scale.

import { describe, expect, it } from 'vitest';
import { CORE_MUTANTS } from './core-mutants.js';
import { MUTANT_SEED_BUDGET, runSeed } from './cluster.js';
import type { SimResult } from './cluster.js';
import { formatViolation } from './report.js';

const SEEDS_3 = 500;
const SEEDS_5 = 100;
const MUTANT_BUDGET = MUTANT_SEED_BUDGET;

function failures(results: SimResult[]): string {
  return results
    .filter((r) => r.violation !== null)
    .map((r) => formatViolation(r.seed, r.violation!))
    .join('\n\n');
}

describe('deterministic simulation', () => {
  it('replays a seed exactly', () => {
    const a = runSeed({ seed: 7, nodes: 3, traceLength: 200 });
    const b = runSeed({ seed: 7, nodes: 3, traceLength: 200 });
    expect(b.stats).toEqual(a.stats);
    expect(a.stats.events).toBeGreaterThan(1000);
  });

  it(`${SEEDS_3} seeds of 3 nodes: no violation`, () => {
    const results: SimResult[] = [];
    for (let s = 1; s <= SEEDS_3; s++) results.push(runSeed({ seed: s, nodes: 3 }));
    expect(failures(results)).toBe('');
    const st = results.reduce((a, r) => a + r.stats.crashes, 0);
    expect(st).toBeGreaterThan(SEEDS_3); // the nemesis really crashed nodes
  }, 120_000);

  it(`${SEEDS_5} seeds of 5 nodes: no violation`, () => {
    const results: SimResult[] = [];
    for (let s = 1; s <= SEEDS_5; s++) results.push(runSeed({ seed: s, nodes: 5 }));
    expect(failures(results)).toBe('');
  }, 120_000);
});

describe('mutants are caught', () => {
  for (const mutant of CORE_MUTANTS) {
    it(`${mutant} within ${MUTANT_BUDGET} seeds`, () => {
      let caught: SimResult | null = null;
      for (let s = 1; s <= MUTANT_BUDGET && caught === null; s++) {
        const r = runSeed({ seed: s, nodes: 3, mutant });
        // A safety violation that the unmutated core does not show on the
        // same seed: the checkers caught the mutant, not something else.
        if (r.violation !== null && r.violation.invariant !== 'liveness') {
          if (runSeed({ seed: s, nodes: 3 }).violation === null) caught = r;
        }
      }
      expect(caught, `${mutant} survived ${MUTANT_BUDGET} seeds`).not.toBeNull();
      console.log(
        `mutant ${mutant}: caught by seed ${caught!.seed} (${caught!.violation!.invariant})`,
      );
    }, 120_000);
  }
});
