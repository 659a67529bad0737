// Messages no correct member could send (src/raft/plausible.ts): what a
// certified stranger may try, refused; what a correct cluster sends, never.
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/index.js';
import { Cluster } from './harness.js';

const V3 = ['n1', 'n2', 'n3'];

function settled(): Cluster {
  const c = new Cluster(V3);
  c.elect('n1');
  c.tickAll(1);
  c.stabilize();
  return c;
}

const heartbeat = (from: string, to: string, term: number): Message => ({
  type: 'heartbeat',
  from,
  to,
  term,
  commit: 0,
  sentTick: 0,
});

describe('implausible peer messages', () => {
  it("refuses a leader's message in the term from anyone but its leader", () => {
    const c = settled();
    const term = c.raft('n1').status().term;
    expect(c.raft('n1').implausible(heartbeat('n9', 'n1', term))).toMatch(/which this node leads/);
    expect(c.raft('n2').implausible(heartbeat('n9', 'n2', term))).toMatch(/whose leader is n1/);
    // A member cannot lead a term it does not lead either.
    expect(c.raft('n2').implausible(heartbeat('n3', 'n2', term))).toMatch(/whose leader is n1/);
    expect(c.raft('n2').implausible(heartbeat('n1', 'n2', term))).toBeNull();
  });

  it('refuses TimeoutNow from anyone but the leader', () => {
    const c = settled();
    const term = c.raft('n2').status().term;
    const tn = (from: string): Message => ({ type: 'timeout-now', from, to: 'n2', term });
    expect(c.raft('n2').implausible(tn('n9'))).toMatch(/timeout-now from n9/);
    expect(c.raft('n2').implausible(tn('n1'))).toBeNull();
  });

  it('refuses a higher term from a non-member while a leader is in contact, not from a member', () => {
    const c = settled();
    const term = c.raft('n2').status().term;
    const vote = (from: string, transfer: boolean): Message => ({
      type: 'vote',
      from,
      to: 'n2',
      term: term + 5,
      lastLogIndex: 1e9,
      lastLogTerm: term + 5,
      transfer,
    });
    expect(c.raft('n2').implausible(vote('n9', true))).toMatch(/not a member/);
    expect(c.raft('n1').implausible(heartbeat('n9', 'n1', term + 1))).toMatch(/not a member/);
    // A member's higher term is Raft's business (it may be a real election).
    expect(c.raft('n2').implausible(vote('n3', true))).toBeNull();
  });

  it('takes the first leader a new node hears from, member or not of what it knows', () => {
    const c = new Cluster(V3);
    // Nobody knows a leader yet: nothing is refused.
    expect(c.raft('n2').implausible(heartbeat('n9', 'n2', 5))).toBeNull();
  });

  it('never refuses what a correct cluster sends (elections, appends, a transfer)', () => {
    const c = settled();
    const refused: string[] = [];
    // Delivers everything, asking each receiver first, as the runtime does.
    const deliverAll = (): void => {
      for (let round = 0; round < 200; round++) {
        c.processReadies();
        if (c.queue.length === 0) return;
        c.deliver((m) => {
          const why = c.nodes.get(m.to)?.raft.implausible(m) ?? null;
          if (why !== null) refused.push(why);
          return true;
        });
      }
    };
    for (let i = 0; i < 30; i++) {
      if (i === 10) c.raft(c.leader()!).transferLeadership('n3');
      c.tickAll(1);
      deliverAll();
    }
    expect(refused).toEqual([]);
    expect(c.leader()).toBe('n3');
  });
});
