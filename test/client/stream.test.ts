import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftseqError, SequenceClient } from '../../src/index.js';
import type { SequenceClientOptions } from '../../src/index.js';
import { failWith, redirectTo, servingNext, startFakeNode } from '../support/fake-server.js';
import type { FakeNode } from '../support/fake-server.js';
import { waitUntil } from '../support/wait.js';

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

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

/** Asserts that no value appears in two results. */
function expectDisjoint(results: { first: bigint; count: number }[]): void {
  const seen = new Set<bigint>();
  for (const r of results) {
    for (let v = r.first; v < r.first + BigInt(r.count); v++) {
      expect(seen.has(v)).toBe(false);
      seen.add(v);
    }
  }
}

describe('SequenceClient over NextStream', () => {
  it('pipelines concurrent calls over a pool of streams once the leader is known', async () => {
    const leader = await node({ Next: servingNext(1n) });
    const c = client({ endpoints: [leader.address], maxStreams: 4, perStream: 8 });
    await c.next('s'); // one call in flight: unary, and it finds the leader
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => c.next('s', 1 + (i % 3))),
    );
    expectDisjoint(results);
    // The first of the burst has nothing else in flight yet: unary.
    expect(leader.callsOf('Next')).toHaveLength(2);
    expect(leader.callsOf('NextStreamRequest')).toHaveLength(299);
    const streams = leader.callsOf('NextStream').length;
    expect(streams).toBeGreaterThanOrEqual(1);
    expect(streams).toBeLessThanOrEqual(4);
  });

  it("transport: 'unary' never streams; 'stream' streams even one call at a time", async () => {
    const leader = await node({ Next: servingNext(1n) });
    const unary = client({ endpoints: [leader.address], transport: 'unary' });
    await Promise.all(Array.from({ length: 20 }, () => unary.next('u')));
    expect(leader.callsOf('NextStreamRequest')).toHaveLength(0);
    expect(leader.callsOf('Next')).toHaveLength(20);

    const streaming = client({ endpoints: [leader.address], transport: 'stream' });
    await streaming.next('v'); // finds the leader (unary)
    await streaming.next('v');
    await streaming.next('v');
    expect(leader.callsOf('NextStreamRequest')).toHaveLength(2);
  });

  it('rejects a bad transport', () => {
    expect(
      () =>
        new SequenceClient({ endpoints: ['127.0.0.1:1'], transport: 'carrier-pigeon' as never }),
    ).toThrow(RaftseqError);
  });

  it('returns per-request errors without retrying them, and keeps the stream for the others', async () => {
    const leader = await node({
      Next: (req) =>
        req.sequence === 'bad'
          ? { error: { code: status.INVALID_ARGUMENT, details: 'count 0 is bad' } }
          : req.sequence === 'full'
            ? { error: { code: status.OUT_OF_RANGE, details: 'would pass 2^63-1' } }
            : { response: { first: '5', count: Number(req.count) || 1 } },
    });
    const c = client({ endpoints: [leader.address], transport: 'stream' });
    await c.next('ok');
    const [bad, full, ok] = await Promise.allSettled([c.next('bad'), c.next('full'), c.next('ok')]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: 'count 0 is bad',
    });
    expect((full as PromiseRejectedResult).reason).toMatchObject({ code: status.OUT_OF_RANGE });
    expect(ok).toEqual({ status: 'fulfilled', value: { first: 5n, count: 1 } });
    expect(
      leader.callsOf('NextStreamRequest').filter((x) => x.request.sequence === 'bad'),
    ).toHaveLength(1);
    expect(leader.callsOf('Next').filter((x) => x.request.sequence === 'bad')).toHaveLength(0);
  });

  it('follows a per-request redirect after a leader change', async () => {
    const newLeader = await node({ Next: servingNext(1000n) });
    const oldLeader = await node({ Next: servingNext(1n) });
    const c = client({ endpoints: [oldLeader.address], transport: 'stream' });
    expect(await c.next('s')).toEqual({ first: 1n, count: 1 });
    expect(await c.next('s')).toEqual({ first: 2n, count: 1 }); // streamed
    oldLeader.on('Next', redirectTo(newLeader.address));
    const results = await Promise.all(Array.from({ length: 50 }, () => c.next('s')));
    expect(results.every((r) => r.first >= 1000n)).toBe(true);
    expectDisjoint(results);
    expect(c.leader).toBe(newLeader.address);
    // Later calls stream to the new leader.
    await Promise.all(Array.from({ length: 10 }, () => c.next('s')));
    expect(newLeader.callsOf('NextStreamRequest').length).toBeGreaterThan(0);
  });

  it('follows a redirect on the stream status (a follower refuses the stream)', async () => {
    const leader = await node({ Next: servingNext(1n) });
    const follower = await node({
      Next: servingNext(500n), // answers unary once, as if it were the leader then
    });
    const c = client({ endpoints: [follower.address], transport: 'stream' });
    await c.next('s');
    expect(c.leader).toBe(follower.address);
    follower.on('NextStream', redirectTo(leader.address));
    follower.on('Next', redirectTo(leader.address));
    const r = await c.next('s');
    expect(r.first).toBe(1n);
    expect(c.leader).toBe(leader.address);
  });

  it('falls back to unary Next on a server without NextStream', async () => {
    const leader = await node({
      Next: servingNext(1n),
      NextStream: failWith(status.UNIMPLEMENTED, 'unknown method'),
    });
    const c = client({ endpoints: [leader.address] });
    const results = await Promise.all(Array.from({ length: 40 }, () => c.next('s')));
    expectDisjoint(results);
    expect(results).toHaveLength(40);
    // After the first refusal, everything is unary.
    expect(leader.callsOf('NextStream').length).toBeLessThanOrEqual(2);
  });

  it('a hung stream answer falls back within the deadline', async () => {
    let hung = 0;
    const leader = await node({
      Next: (req, call) => {
        if (call.method === 'NextStreamRequest' && hung++ === 0) return { hang: true };
        return servingNext(1n)(req, call);
      },
    });
    // Without the per-attempt cap the hung request would use up the whole
    // deadline, and next() fail with DEADLINE_EXCEEDED.
    const c = client({
      endpoints: [leader.address],
      transport: 'stream',
      attemptTimeoutMs: 200,
      deadlineMs: 5000,
    });
    await c.next('s');
    const r = await c.next('s');
    expect(r.count).toBe(1);
  });

  it('every hung stream answer times out, each by its own deadline', async () => {
    // The pool keeps one timer, at the earliest deadline in flight: once it
    // fires it must re-arm for the later ones.
    const serve = servingNext(1n);
    const leader = await node({
      Next: (req, call) =>
        call.method === 'NextStreamRequest' ? { hang: true } : serve(req, call),
    });
    const c = client({ endpoints: [leader.address], transport: 'stream', attemptTimeoutMs: 200 });
    await c.next('s');
    const calls = [];
    for (let i = 0; i < 3; i++) {
      calls.push(c.next('s')); // deadlines 100 ms apart
      await sleep(100);
    }
    const results = await Promise.all(calls);
    expectDisjoint(results);
    expect(leader.callsOf('NextStreamRequest')).toHaveLength(3);
    expect(leader.callsOf('Next')).toHaveLength(4); // each fell back to unary
  });

  it('close() fails calls in flight on streams with CANCELLED', async () => {
    const leader = await node({ Next: servingNext(1n) });
    const c = client({ endpoints: [leader.address], transport: 'stream' });
    await c.next('s');
    leader.on('Next', () => ({ hang: true }));
    const onStreams = leader.callsOf('NextStreamRequest').length;
    const p = c.next('s');
    await waitUntil(
      () => leader.callsOf('NextStreamRequest').length === onStreams + 1,
      'the call on the stream',
    );
    c.close();
    await expect(p).rejects.toMatchObject({ code: status.CANCELLED });
  });
});
