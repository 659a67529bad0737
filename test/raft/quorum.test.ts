// Quorum arithmetic against a deliberately naive oracle (etcd's
// quorum/quick_test.go, with fast-check instead of testing/quick).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { majority, quorumValue, voteOutcome } from '../../src/raft/index.js';

/** Naive: try every candidate value, keep the largest that enough voters reach. */
function oracleQuorumValue(values: number[], missing: number): number {
  if (values.length === 0) return missing;
  const need = Math.floor(values.length / 2) + 1;
  let best = -Infinity;
  for (const v of values) {
    const reached = values.filter((x) => x >= v).length;
    if (reached >= need && v > best) best = v;
  }
  return best;
}

/** Naive: count, and decide as the paper does. */
function oracleOutcome(n: number, votes: (boolean | undefined)[]): 'won' | 'lost' | 'pending' {
  let yes = 0;
  let no = 0;
  for (const v of votes) {
    if (v === true) yes++;
    if (v === false) no++;
  }
  if (yes * 2 > n) return 'won';
  if (no * 2 > n) return 'lost';
  return 'pending';
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);

describe('quorum', () => {
  it('majority(n) is the smallest count greater than half of n', () => {
    for (let n = 1; n <= 100; n++) {
      const m = majority(n);
      expect(m * 2).toBeGreaterThan(n);
      expect((m - 1) * 2).toBeLessThanOrEqual(n);
    }
  });

  it('quorumValue is the largest value reached by a majority of voters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: -1, max: 50 }), { nil: undefined }), {
          minLength: 0,
          maxLength: 9,
        }),
        fc.integer({ min: -1, max: 3 }),
        (raw, missing) => {
          const voters = ids(raw.length);
          const byId = new Map(voters.map((id, i) => [id, raw[i]]));
          const got = quorumValue(voters, (id) => byId.get(id), missing);
          expect(got).toBe(
            oracleQuorumValue(
              raw.map((v) => v ?? missing),
              missing,
            ),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('quorumValue ignores values of non-voters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 7 }),
        (vs) => {
          const voters = ids(vs.length);
          const values = new Map(voters.map((id, i) => [id, vs[i] as number]));
          values.set('learner', 1_000);
          expect(quorumValue(voters, (id) => values.get(id), 0)).toBe(oracleQuorumValue(vs, 0));
        },
      ),
    );
  });

  it('voteOutcome matches counting the votes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(true, false, undefined), { minLength: 1, maxLength: 9 }),
        fc.array(fc.boolean(), { maxLength: 3 }),
        (votes, strangers) => {
          const voters = ids(votes.length);
          const m = new Map<string, boolean>();
          voters.forEach((id, i) => {
            const v = votes[i];
            if (v !== undefined) m.set(id, v);
          });
          // Votes from non-voters (e.g. a removed member) never count.
          strangers.forEach((v, i) => m.set(`x${i}`, v));
          expect(voteOutcome(voters, m)).toBe(oracleOutcome(votes.length, votes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('voteOutcome trusts grants from the bootstrap point only when every voter grants', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('granted', 'at-bootstrap', 'refused', 'silent'), {
          minLength: 1,
          maxLength: 9,
        }),
        (votes) => {
          const voters = ids(votes.length);
          const m = new Map<string, boolean>();
          const unverified = new Set<string>();
          voters.forEach((id, i) => {
            const v = votes[i];
            if (v === 'granted' || v === 'at-bootstrap') m.set(id, true);
            if (v === 'at-bootstrap') unverified.add(id);
            if (v === 'refused') m.set(id, false);
          });
          // Naively: a majority of plain grants, or every voter granting.
          const n = votes.length;
          const plain = votes.filter((v) => v === 'granted').length;
          const all = votes.every((v) => v === 'granted' || v === 'at-bootstrap');
          const refused = votes.filter((v) => v === 'refused').length;
          const want = plain > n / 2 || all ? 'won' : refused > n / 2 ? 'lost' : 'pending';
          expect(voteOutcome(voters, m, unverified)).toBe(want);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('with no voters there is no majority', () => {
    expect(quorumValue([], () => 5, -1)).toBe(-1);
  });
});
