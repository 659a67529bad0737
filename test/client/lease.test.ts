import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftseqError, SequenceClient } from '../../src/index.js';
import { failWith, servingNext, startFakeNode } from '../support/fake-server.js';
import type { FakeNode } from '../support/fake-server.js';
import { waitUntil } from '../support/wait.js';

const nodes: FakeNode[] = [];
const clients: SequenceClient[] = [];

async function setup(): Promise<{ leader: FakeNode; c: SequenceClient }> {
  const leader = await startFakeNode({ Next: servingNext(1n) });
  nodes.push(leader);
  const c = new SequenceClient({ endpoints: [leader.address] });
  clients.push(c);
  return { leader, c };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

const counts = (n: FakeNode): number[] =>
  [...n.callsOf('Next'), ...n.callsOf('NextStreamRequest')].map((x) => Number(x.request.count));

describe('SequenceClient.lease', () => {
  it('hands out consecutive values from ranges of blockSize, taken ahead of need', async () => {
    const { leader, c } = await setup();
    const lease = c.lease('orders', { blockSize: 10 });
    const got: bigint[] = [];
    for (let i = 0; i < 26; i++) got.push(await lease.next());
    expect(got).toEqual(Array.from({ length: 26 }, (_, i) => BigInt(i + 1)));
    expect(counts(leader).every((n) => n === 10)).toBe(true);
    // Prefetch: with less than half a block held (27..30), the next range is
    // asked for at once, and arrives while those four are still held.
    await waitUntil(() => lease.available === 14n, 'the prefetched range');
    expect(lease.stats.ranges).toBe(4);
  });

  it('tryNext() is synchronous and undefined until a range arrives', async () => {
    const { c } = await setup();
    const lease = c.lease('s', { blockSize: 4 });
    expect(lease.tryNext()).toBeUndefined();
    expect(await lease.next()).toBe(1n);
    expect(lease.tryNext()).toBe(2n);
  });

  it('counts the values it never handed out as skipped on close', async () => {
    const { c } = await setup();
    const lease = c.lease('s', { blockSize: 100 });
    await lease.next();
    await lease.next();
    // close() waits for a range in flight and counts it as skipped too, so a
    // prefetch started while 98 of 100 were held would show here.
    expect(await lease.close()).toBe(98n);
    expect(lease.stats.ranges).toBe(1);
    expect(lease.stats).toMatchObject({ served: 2n, skipped: 98n });
    expect(c.leasedValuesSkipped).toBe(98n);
    await expect(lease.next()).rejects.toMatchObject({ code: status.CANCELLED });

    const other = c.lease('t', { blockSize: 10 });
    await other.next();
    c.close(); // closes its leases too
    expect(c.leasedValuesSkipped).toBe(98n + 9n);
  });

  it('values stay unique across leases; real-time order across them does not hold', async () => {
    const { c } = await setup();
    const a = c.lease('s', { blockSize: 50 });
    const b = c.lease('s', { blockSize: 50 });
    const fromA = await a.next(); // a holds 1..50
    const fromB = await b.next(); // b holds 51..100
    const laterFromA = await a.next(); // handed out after fromB, yet smaller
    expect(laterFromA).toBeLessThan(fromB);
    const all = [fromA, fromB, laterFromA];
    for (let i = 0; i < 200; i++) all.push(await (i % 2 ? a : b).next());
    expect(new Set(all).size).toBe(all.length);
  });

  it('passes the error of taking a range to the waiting callers', async () => {
    const leader = await startFakeNode({
      Next: failWith(status.OUT_OF_RANGE, 'sequence s would pass 2^63-1'),
    });
    nodes.push(leader);
    const c = new SequenceClient({ endpoints: [leader.address] });
    clients.push(c);
    const lease = c.lease('s', { blockSize: 10 });
    const e = await lease.next().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RaftseqError);
    expect(e).toMatchObject({ code: status.OUT_OF_RANGE });
  });

  it('rejects a bad name or block size', async () => {
    const { c } = await setup();
    expect(() => c.lease('bad name')).toThrow(RaftseqError);
    expect(() => c.lease('s', { blockSize: 0 })).toThrow(RaftseqError);
  });
});
