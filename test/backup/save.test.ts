// `raftseq snapshot save` against real processes: the file verifies, and it
// covers every value handed out before the command started.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSnapshotFile } from '../../src/backup/file.js';
import { SequenceClient } from '../../src/index.js';
import { runCli } from '../support/cli-run.js';
import { ProcCluster } from '../support/proc-cluster.js';

describe('raftseq snapshot save', () => {
  let cluster: ProcCluster;

  beforeAll(async () => {
    cluster = await ProcCluster.start({ size: 3, electionTimeoutMs: 600, heartbeatIntervalMs: 60 });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('saves every sequence above what was served, from any endpoint', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    let lastOrders = 0n;
    try {
      for (let i = 0; i < 20; i++) lastOrders = (await client.next('orders', 50)).first + 49n;
      await client.next('invoices');
    } finally {
      client.close();
    }
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n.id !== leader)!;
    const path = join(mkdtempSync(join(tmpdir(), 'raftseq-save-')), 'b.snap');
    const r = await runCli(['snapshot', 'save', path, '--endpoints', follower.addr]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^saved .*: index \d+, term \d+, 2 sequence\(s\), \d+(\.\d)? (B|KiB)\n$/,
    );

    const { contents } = await readSnapshotFile(path);
    expect(contents.header.member).toBe(leader);
    const orders = contents.sequences.find((s) => s.name === 'orders')!;
    expect(orders.reserved).toBeGreaterThanOrEqual(lastOrders);
    expect(contents.sequences.map((s) => s.name).sort()).toEqual(['invoices', 'orders']);
  }, 60_000);

  it('fails with one line and exit 1 when no member answers', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'raftseq-save-')), 'b.snap');
    const r = await runCli(['snapshot', 'save', path, '--endpoints', '127.0.0.1:1', '-t', '1500']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  }, 20_000);
});
