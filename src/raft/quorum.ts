// Majority arithmetic, kept tiny and separate so it can be checked against a
// naive oracle (test/raft/quorum.test.ts).

import type { NodeId } from './types.js';

/** The number of voters that form a majority of `n` voters. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The largest value that at least a majority of `voters` have reached, given
 * each voter's value (e.g. its match index or the tick of its newest
 * acknowledgement). Voters without a value count as `missing`.
 * With no voters there is no majority: returns `missing`.
 */
export function quorumValue(
  voters: readonly NodeId[],
  valueOf: (id: NodeId) => number | undefined,
  missing: number,
): number {
  if (voters.length === 0) return missing;
  const values = voters.map((id) => valueOf(id) ?? missing).sort((a, b) => b - a);
  // values[k] is reached by the k+1 voters with the largest values.
  return values[majority(voters.length) - 1] as number;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

/**
 * Tally an election. A grant from a voter that cannot vouch for its log (in
 * `unverified`: at the bootstrap point, or a new data directory the cluster
 * has not verified) is not trusted alone: it may have lost entries it once
 * acknowledged. The election is won once a majority of voters granted
 * without being at the bootstrap point, or once every voter granted (then
 * every member that holds a committed entry granted, and it grants only a
 * candidate whose log is at least as up to date). Lost once a majority refused.
 */
export function voteOutcome(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
  unverified: ReadonlySet<NodeId> = new Set(),
): VoteOutcome {
  let granted = 0;
  let trusted = 0;
  let refused = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) {
      granted++;
      if (!unverified.has(id)) trusted++;
    } else if (v === false) refused++;
  }
  const q = majority(voters.length);
  if (trusted >= q || (voters.length > 0 && granted === voters.length)) return 'won';
  if (refused >= q) return 'lost';
  return 'pending';
}
