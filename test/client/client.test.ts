import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftseqError, SequenceClient } from '../../src/index.js';
import type { SequenceClientOptions } from '../../src/index.js';
import {
  failTimes,
  failWith,
  hang,
  noLeader,
  redirectTo,
  servingNext,
  startFakeNode,
  statusResponse,
} from '../support/fake-server.js';
import type { FakeNode, Handler } from '../support/fake-server.js';
import { DEAD_ADDRESS, DEAD_ADDRESSES } from '../support/ports.js';

const nodes: FakeNode[] = [];
const clients: SequenceClient[] = [];

async function node(handlers: Parameters<typeof startFakeNode>[0] = {}): Promise<FakeNode> {
  const n = await startFakeNode(handlers);
  nodes.push(n);
  return n;
}

function client(options: SequenceClientOptions): SequenceClient {
  const c = new SequenceClient({ backoff: { initialMs: 10, maxMs: 100 }, ...options });
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<RaftseqError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RaftseqError);
    return e as RaftseqError;
  }
  throw new Error('expected a rejection');
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

describe('SequenceClient.next', () => {
  it('follows a leader redirect and then goes straight to the remembered leader', async () => {
    const leader = await node({ Next: servingNext(1n) });
    const follower = await node({ Next: redirectTo(leader.address) });
    const c = client({ endpoints: [follower.address] });

    expect(await c.next('orders')).toEqual({ first: 1n, count: 1 });
    expect(c.leader).toBe(leader.address);
    expect(await c.next('orders', 10)).toEqual({ first: 2n, count: 10 });

    expect(follower.callsOf('Next')).toHaveLength(1);
    expect(leader.callsOf('Next')).toHaveLength(2);
    expect(leader.calls[1]?.request).toMatchObject({ sequence: 'orders', count: 10 });
  });

  it('falls back to the configured endpoints when the redirect target is dead', async () => {
    const leader = await node({ Next: servingNext(7n) });
    const stale = await node({ Next: redirectTo(DEAD_ADDRESS) });
    const c = client({ endpoints: [stale.address, leader.address], deadlineMs: 5000 });

    expect(await c.next('orders')).toEqual({ first: 7n, count: 1 });
    expect(stale.callsOf('Next')).toHaveLength(1);
    expect(c.leader).toBe(leader.address);
  });

  it('forgets a remembered leader that died and finds the new one through a follower', async () => {
    const oldLeader = await node({ Next: servingNext(1n) });
    const follower = await node({ Next: redirectTo(oldLeader.address) });
    const c = client({ endpoints: [follower.address] });
    expect((await c.next('s')).first).toBe(1n);
    expect(c.leader).toBe(oldLeader.address);

    await oldLeader.stop();
    const newLeader = await node({ Next: servingNext(1000n) });
    follower.on('Next', redirectTo(newLeader.address));

    expect((await c.next('s')).first).toBe(1000n);
    expect(c.leader).toBe(newLeader.address);
  });

  it('retries UNAVAILABLE with growing, jittered backoff until a leader answers', async () => {
    const n = await node({ Next: failTimes(3, noLeader(), servingNext(5n)) });
    const c = client({
      endpoints: n.address,
      backoff: { initialMs: 40, maxMs: 1000, multiplier: 2 },
      random: () => 0, // the floor of each jittered delay: cap/2
    });
    const t0 = performance.now();
    expect(await c.next('x')).toEqual({ first: 5n, count: 1 });
    const calls = n.callsOf('Next');
    expect(calls).toHaveLength(4);
    const gaps = calls.slice(1).map((call, i) => call.at - (calls[i]?.at ?? 0));
    // Delays of 20, 40 and 80 ms (cap/2 with caps 40, 80, 160), minus timer slack.
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(130);
  });

  it('gives up with UNAVAILABLE at the overall deadline, with a bounded number of attempts', async () => {
    const a = await node({ Next: noLeader() });
    const b = await node({ Next: noLeader() });
    const c = client({ endpoints: [a.address, b.address], deadlineMs: 600 });
    const t0 = performance.now();
    const err = await rejection(c.next('x'));
    const elapsed = performance.now() - t0;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(/no leader answered within 600 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(1500);
    const attempts = a.calls.length + b.calls.length;
    expect(attempts).toBeLessThanOrEqual(err.attempts); // the last may expire before arriving
    expect(attempts).toBeGreaterThanOrEqual(4); // both nodes, several rounds
    expect(attempts).toBeLessThan(40); // but backing off, not spinning
  });

  it('does not loop forever between two nodes that name each other', async () => {
    const a = await node();
    const b = await node();
    a.on('Next', redirectTo(b.address));
    b.on('Next', redirectTo(a.address));
    const c = client({ endpoints: [a.address], deadlineMs: 400 });
    const err = await rejection(c.next('x'));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(a.calls.length + b.calls.length).toBeLessThan(100);
  });

  it.each([
    [status.INVALID_ARGUMENT, 'count 200000 is over the maximum 100000'],
    [status.OUT_OF_RANGE, 'sequence "big" would pass 9223372036854775807'],
  ])('never retries status %i and reports the server message', async (code, details) => {
    const n = await node({ Next: failWith(code, details) });
    const other = await node({ Next: servingNext() });
    const c = client({ endpoints: [n.address, other.address] });
    const err = await rejection(c.next('big', 5));
    expect(err.code).toBe(code);
    expect(err.message).toContain(details);
    expect(err.endpoint).toBe(n.address);
    expect(err.attempts).toBe(1);
    expect(n.callsOf('Next')).toHaveLength(1);
    expect(other.calls).toHaveLength(0);
  });

  it('rejects bad names and counts before sending anything', async () => {
    const n = await node({ Next: servingNext() });
    const c = client({ endpoints: n.address });
    for (const [name, count, pattern] of [
      ['', 1, /empty/],
      ['a b', 1, /contains " "/],
      ['x'.repeat(201), 1, /201 bytes/],
      ['ok', 0, /count must be an integer/],
      ['ok', 1.5, /count must be an integer/],
    ] as const) {
      const err = await rejection(c.next(name, count));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.message).toMatch(pattern);
    }
    expect(n.calls).toHaveLength(0);
    expect(await c.next('a-Z.0_:/b', 1)).toEqual({ first: 1n, count: 1 });
  });

  it('keeps uint64 values above 2^53 exact', async () => {
    const big = (1n << 63n) - 10n; // 9223372036854775798
    const n = await node({ Next: servingNext(big) });
    const c = client({ endpoints: n.address });
    expect(await c.next('big', 3)).toEqual({ first: big, count: 3 });
    expect(await c.next('big', 1)).toEqual({ first: big + 3n, count: 1 });
    expect(big + 3n).not.toBe(BigInt(Number(big + 3n))); // not representable as a double
  });

  it('gives each attempt a gRPC deadline within the overall deadline', async () => {
    const n = await node({ Next: hang() });
    const c = client({ endpoints: n.address, deadlineMs: 300 });
    const err = await rejection(c.next('x'));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    // The attempt carried a deadline, and allowed no more than the whole call
    // (grpc-timeout is sent in whole milliseconds, rounded up).
    const allowed = n.calls[0]?.allowedMs;
    expect(allowed).not.toBeNull();
    expect(allowed as number).toBeLessThanOrEqual(300 + 1);
  });

  it('caps one attempt at attemptTimeoutMs so a hung node does not use up the deadline', async () => {
    const hung = await node({ Next: hang() });
    const leader = await node({ Next: servingNext(3n) });
    const c = client({
      endpoints: [hung.address, leader.address],
      deadlineMs: 5000,
      attemptTimeoutMs: 200,
    });
    // Without the cap the first attempt would take the whole 5 s deadline.
    expect((await c.next('x')).first).toBe(3n);
    expect(hung.calls[0]?.allowedMs).toBeLessThanOrEqual(200 + 1);
  });

  it('can be aborted, and fails with CANCELLED once closed', async () => {
    const n = await node({ Next: hang() });
    const c = client({ endpoints: n.address });
    const ac = new AbortController();
    const p = c.next('x', 1, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await rejection(p)).code).toBe(status.CANCELLED);
    c.close();
    expect((await rejection(c.next('x'))).code).toBe(status.CANCELLED);
  });

  it('fails fast with a one-line message when nothing listens', async () => {
    const c = client({ endpoints: DEAD_ADDRESSES.slice(0, 2), deadlineMs: 500 });
    const err = await rejection(c.next('x'));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('validates its options', () => {
    expect(() => new SequenceClient({ endpoints: [] })).toThrow(/no endpoints/);
    expect(() => new SequenceClient({ endpoints: 'localhost' })).toThrow(/no port/);
    expect(() => new SequenceClient({ endpoints: 'a:1', deadlineMs: -1 })).toThrow(/deadlineMs/);
    const c = new SequenceClient({ endpoints: ' a:1 , b:2,a:1,' });
    expect(c.endpoints).toEqual(['a:1', 'b:2']);
    c.close();
  });
});

describe('SequenceClient admin calls', () => {
  const leaderStatus =
    (self: FakeNode, other: FakeNode): Handler =>
    () => ({
      response: statusResponse({
        nodeId: 'n1',
        role: 'leader',
        leader: 'n1',
        leaderAddress: self.address,
        term: 7,
        commitIndex: 42,
        leaseRemainingMs: 900,
        members: [
          { id: 'n1', address: self.address, role: 'leader', matchIndex: 42 },
          { id: 'n2', address: other.address, role: 'follower', matchIndex: 40, lastContactMs: 12 },
        ],
      }),
    });

  it('asks the leader for the status when a follower answers first', async () => {
    const leader = await node();
    const follower = await node();
    leader.on('Status', leaderStatus(leader, follower));
    follower.on('Status', () => ({
      response: statusResponse({
        nodeId: 'n2',
        role: 'follower',
        leader: 'n1',
        leaderAddress: leader.address,
        term: 7,
      }),
    }));
    const c = client({ endpoints: [follower.address] });
    const s = await c.clusterStatus();
    expect(s.nodeId).toBe('n1');
    expect(s.leader).toBe('n1');
    expect(s.term).toBe(7n);
    expect(s.members.map((m) => [m.id, m.role, m.matchIndex])).toEqual([
      ['n1', 'leader', 42n],
      ['n2', 'follower', 40n],
    ]);
    expect(c.leader).toBe(leader.address);

    // Leader gone: the follower's own view is better than nothing.
    await leader.stop();
    const c2 = client({ endpoints: [follower.address] });
    const s2 = await c2.status();
    expect(s2.nodeId).toBe('n2');
    expect(s2.role).toBe('follower');
  });

  it('redirects mutating admin calls to the leader', async () => {
    const leader = await node({
      AddMember: (req) => ({
        response: {
          members: [
            { id: 'n1', address: 'a:1', role: 'leader' },
            { id: String(req.id), address: String(req.address), role: 'learner' },
          ],
        },
      }),
      AdvanceSequence: (req) => ({
        response: {
          name: req.name,
          next: req.to,
          reserved: req.to,
          served: '0',
          skipped: '0',
          block: '0',
        },
      }),
      TransferLeadership: (req) => ({ response: { leader: req.to, term: '8' } }),
    });
    const follower = await node({
      AddMember: redirectTo(leader.address),
      AdvanceSequence: redirectTo(leader.address),
      TransferLeadership: redirectTo(leader.address),
    });
    const c = client({ endpoints: [follower.address] });

    const members = await c.addMember({ id: 'n4', address: '127.0.0.1:7004' });
    expect(members[1]).toMatchObject({ id: 'n4', address: '127.0.0.1:7004', role: 'learner' });
    expect(leader.callsOf('AddMember')[0]?.request).toMatchObject({
      id: 'n4',
      address: '127.0.0.1:7004',
    });

    const max = (1n << 63n) - 1n;
    const info = await c.advanceSequence('orders', max);
    expect(info.next).toBe(max);
    expect(leader.callsOf('AdvanceSequence')[0]?.request.to).toBe('9223372036854775807');
    await expect(c.advanceSequence('orders', max + 1n)).rejects.toThrow(/1 to 9223372036854775807/);

    expect(await c.transferLeadership('n2')).toEqual({ leader: 'n2', term: 8n });
    expect(c.leader).toBeNull();
  });

  it('pages through every sequence', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `s${i}`);
    const n = await node({
      ListSequences: (req) => {
        const after = String(req.after);
        const limit = Number(req.limit);
        const page = names.filter((x) => x > after).slice(0, limit);
        return {
          response: {
            sequences: page.map((name) => ({
              name,
              next: '1',
              reserved: '0',
              served: '0',
              skipped: '0',
              block: '0',
            })),
          },
        };
      },
    });
    const c = client({ endpoints: n.address });
    const all = await c.listAllSequences(2);
    expect(all.map((s) => s.name)).toEqual(names);
    expect(n.callsOf('ListSequences')).toHaveLength(3);
  });
});
