// NextStream against a real 3-node cluster (real processes, real fsync):
// pipelined calls through SequenceClient, per-request errors, the stream
// redirect of a follower, and a kill -9 of the leader under streamed load.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raftseqApi } from '../../src/proto/load.js';
import { SequenceClient } from '../../src/index.js';
import { nodeStatus } from '../support/node-rpc.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

let cluster: ProcCluster;

beforeAll(async () => {
  cluster = await ProcCluster.start({ size: 3 });
  await cluster.leader(30_000);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

type Duplex = grpc.ClientDuplexStream<object, Record<string, unknown>>;

function rawStream(address: string): { stub: grpc.Client; call: Duplex } {
  const stub = new (raftseqApi().Sequencer)(address, grpc.credentials.createInsecure());
  const call = (stub as unknown as { NextStream(): Duplex }).NextStream();
  return { stub, call };
}

describe('NextStream on a real cluster', () => {
  it('serves pipelined calls, never twice, through a kill -9 of the leader', async () => {
    const c = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 20_000 });
    let stop = false;
    let workers: Promise<void>[] = [];
    try {
      const seen = new Set<bigint>();
      let served = 0;
      const worker = async (): Promise<void> => {
        for (let i = 0; i < 200 && !stop; i++) {
          const r = await c.next('stream.kill', 1 + (i % 4));
          for (let v = r.first; v < r.first + BigInt(r.count); v++) {
            expect(seen.has(v)).toBe(false);
            seen.add(v);
          }
          served++;
        }
      };
      workers = Array.from({ length: 64 }, worker);
      // Under way before the kill: some calls served, many in flight. A
      // loaded machine (CI beside other work) can take a while to get there.
      await waitUntil(() => served >= 64, 'the first streamed answers', 30_000);
      const leader = await cluster.leader();
      await cluster.kill(leader);
      await Promise.all(workers);
      stop = true;
      expect(served).toBe(64 * 200);
      await cluster.restart(leader);
    } finally {
      // If the test failed part-way, the workers still running fail once the
      // client closes: settle them here so no rejection outlives the test.
      stop = true;
      c.close();
      await Promise.allSettled(workers);
    }
  }, 90_000);

  it('answers per-request errors on the stream and redirects on a follower', async () => {
    const leaderId = await cluster.leader(20_000);
    const leader = cluster.node(leaderId);
    const follower = cluster.nodes.find((n) => n.id !== leaderId && n.proc)!;

    const { stub, call } = rawStream(leader.addr);
    const answers = new Map<string, Record<string, unknown>>();
    const ended = new Promise<void>((resolve) => {
      call.on('data', (r: Record<string, unknown>) => answers.set(String(r.id), r));
      call.on('end', () => resolve());
      call.on('error', () => resolve());
    });
    call.write({ id: 1, sequence: 'stream.ok', count: 3 });
    call.write({ id: 2, sequence: 'bad name!', count: 1 });
    call.write({ id: 3, sequence: 'stream.ok', count: 4_000_000_000 });
    call.write({ id: 4, sequence: 'stream.ok', count: 0 });
    call.end();
    await ended;
    stub.close();
    expect(answers.get('1')).toMatchObject({ code: 0, count: 3 });
    expect(answers.get('2')).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(String(answers.get('2')?.message)).toMatch(/name/);
    expect(answers.get('3')).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(answers.get('4')).toMatchObject({ code: 0, count: 1 });
    expect(BigInt(String(answers.get('4')?.first))).toBe(
      BigInt(String(answers.get('1')?.first)) + 3n,
    );

    // A follower that knows the leader (the restarted one may not yet).
    await waitUntil(
      // not answering yet counts as not there yet
      async () => (await nodeStatus(follower.addr).catch(() => null))?.leader === leaderId,
      `${follower.id} to know the leader`,
      10_000,
      100,
    );
    const f = rawStream(follower.addr);
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      f.call.on('status', resolve);
      f.call.on('error', () => undefined);
      f.call.on('data', () => undefined);
      f.call.write({ id: 1, sequence: 'stream.ok', count: 1 });
    });
    f.stub.close();
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.metadata.get('raftseq-leader')).toEqual([leader.addr]);
  }, 60_000);
});
