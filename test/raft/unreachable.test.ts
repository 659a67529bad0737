// reportUnreachable: a follower told that its leader's link broke campaigns
// as soon as the leader's lease can have run out, not after a randomized
// election timeout of up to twice that, and never sooner.

import { describe, expect, it } from 'vitest';
import { RaftNode, type NodeId } from '../../src/raft/index.js';
import { stateWithLog } from './harness.js';

const V3 = ['n1', 'n2', 'n3'];
const E = 40;

/** n1, a follower of n2 in term 3 whose randomized timeout is the longest (2E - 1). */
function follower(): RaftNode {
  const n = new RaftNode(
    { id: 'n1', electionTick: E, heartbeatTick: 1, rng: { int: (k) => k - 1 } },
    stateWithLog(V3, [1], { term: 3 }),
  );
  n.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 3, commit: 0, sentTick: 0 });
  while (n.hasReady()) n.advance(n.ready());
  expect(n.status()).toMatchObject({ role: 'follower', leader: 'n2' });
  return n;
}

/** Ticks until `n` leaves the follower role; the number of ticks it took. */
function ticksToCampaign(n: RaftNode, limit = 4 * E): number {
  for (let t = 1; t <= limit; t++) {
    n.tick();
    if (n.status().role !== 'follower') return t;
  }
  return Infinity;
}

describe('reportUnreachable', () => {
  it('a follower of an unreachable leader campaigns once the lease is over', () => {
    const n = follower();
    n.reportUnreachable('n2');
    const t = ticksToCampaign(n);
    expect(t).toBeGreaterThanOrEqual(E); // the leader's lease is never cut short
    expect(t).toBeLessThan(E + E / 8); // and not a full randomized timeout later
  });

  it('the other followers take turns by rank, an eighth of a timeout apart', () => {
    // n1 and n3 follow n2: n1 ranks first, n3 second.
    const n3 = new RaftNode(
      { id: 'n3', electionTick: E, heartbeatTick: 1, rng: { int: (k) => k - 1 } },
      stateWithLog(V3, [1], { term: 3 }),
    );
    n3.step({ type: 'heartbeat', from: 'n2', to: 'n3', term: 3, commit: 0, sentTick: 0 });
    while (n3.hasReady()) n3.advance(n3.ready());
    n3.reportUnreachable('n2');
    expect(ticksToCampaign(n3)).toBe(E + E / 8);
  });

  it('without the report the same follower waits out its randomized timeout', () => {
    expect(ticksToCampaign(follower())).toBe(2 * E - 1);
  });

  it('a report about a member that is not the leader changes nothing', () => {
    for (const other of ['n3', 'n9'] as NodeId[]) {
      const n = follower();
      n.reportUnreachable(other);
      expect(ticksToCampaign(n)).toBe(2 * E - 1);
    }
  });

  it('the leader heard from again after the report resets the election clock', () => {
    const n = follower();
    n.reportUnreachable('n2');
    for (let i = 0; i < E - 1; i++) n.tick();
    n.step({ type: 'heartbeat', from: 'n2', to: 'n1', term: 3, commit: 0, sentTick: 0 });
    while (n.hasReady()) n.advance(n.ready());
    expect(ticksToCampaign(n)).toBeGreaterThanOrEqual(E);
  });
});
