// Automatic backups: the leader writes verified files and keeps the newest K;
// a failure is counted (the metric the alert watches), never thrown.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSnapshotFile } from '../../src/backup/file.js';
import { encodeSnapshotFile } from '../../src/backup/format.js';
import { createLogger } from '../../src/node/logger.js';
import { systemClock } from '../../src/node/runtime.js';
import { AutomaticBackups } from '../../src/server/backups.js';
import { SequenceClient } from '../../src/index.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

const file = encodeSnapshotFile(
  {
    clusterId: '',
    index: 5,
    term: 1,
    savedAt: new Date().toISOString(),
    member: 'n1',
    version: 'x',
  },
  [{ name: 'a', reserved: 10n, rate: 1 }],
);

async function metric(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return Number(m?.values[0]?.value ?? NaN);
}

describe('AutomaticBackups', () => {
  it('counts a failure to write (the directory is a file) and keeps going', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-auto-'));
    const notADir = join(dir, 'file');
    writeFileSync(notADir, 'x');
    const registry = new Registry();
    const b = new AutomaticBackups(
      { dir: notADir, intervalMs: 1000, keep: 2 },
      {
        isLeader: () => true,
        snapshotFile: async () => ({ data: file, index: 5, term: 1, sequences: 1 }),
      },
      systemClock(),
      createLogger('n1', 'silent'),
      registry,
    );
    await b.backupOnce();
    await b.backupOnce();
    expect(await metric(registry, 'raftseq_backup_failures_total')).toBe(2);
    expect(await metric(registry, 'raftseq_backups_total')).toBe(0);
  });

  it('keeps the newest K of its own files and leaves other files alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-auto-'));
    writeFileSync(join(dir, 'operator-notes.txt'), 'keep me');
    const registry = new Registry();
    let index = 0;
    const b = new AutomaticBackups(
      { dir, intervalMs: 1000, keep: 2 },
      {
        isLeader: () => true,
        snapshotFile: async () => ({ data: file, index: ++index, term: 1, sequences: 1 }),
      },
      systemClock(),
      createLogger('n1', 'silent'),
      registry,
    );
    for (let i = 0; i < 4; i++) {
      await b.backupOnce();
      await new Promise((r) => setTimeout(r, 2)); // distinct millisecond names
    }
    const names = readdirSync(dir).sort();
    expect(names).toHaveLength(3);
    expect(names).toContain('operator-notes.txt');
    expect(names.filter((n) => n.endsWith('-i3.snap') || n.endsWith('-i4.snap'))).toHaveLength(2);
    expect(await metric(registry, 'raftseq_backups_total')).toBe(4);
    expect(await metric(registry, 'raftseq_backup_failures_total')).toBe(0);
  });
});

describe('serve --backup-dir', () => {
  let cluster: ProcCluster;
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'raftseq-auto-'));
    cluster = await ProcCluster.start({
      size: 3,
      electionTimeoutMs: 600,
      heartbeatIntervalMs: 60,
      serveArgsFor: (id) => [
        '--backup-dir',
        join(root, id),
        '--backup-interval',
        '1s',
        '--backup-keep',
        '3',
      ],
    });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('the leader writes verifiable backups, keeps 3, followers write none', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    let last = 0n;
    try {
      for (let i = 0; i < 10; i++) last = (await client.next('orders', 10)).first + 9n;
    } finally {
      client.close();
    }
    const leader = await cluster.leader();
    const files = (id: string): string[] => {
      try {
        return readdirSync(join(root, id))
          .filter((f) => f.endsWith('.snap'))
          .sort();
      } catch {
        return [];
      }
    };
    // More backups than it keeps: at least five distinct files seen, never
    // more than three at once but for the moment between a write and its prune.
    const seen = new Set<string>();
    let most = 0;
    await waitUntil(
      () => {
        const now = files(leader);
        for (const f of now) seen.add(f);
        most = Math.max(most, now.length);
        return seen.size >= 5;
      },
      'five backups written by the leader',
      30_000,
      50,
    );
    expect(most).toBeLessThanOrEqual(4);
    await waitUntil(() => files(leader).length === 3, 'three backups kept', 5_000, 20);
    const newest = files(leader).at(-1)!;
    const { contents } = await readSnapshotFile(join(root, leader, newest));
    expect(contents.sequences.find((s) => s.name === 'orders')!.reserved).toBeGreaterThanOrEqual(
      last,
    );
    if ((await cluster.leader()) === leader) {
      for (const n of cluster.nodes) if (n.id !== leader) expect(files(n.id)).toEqual([]);
    }
  }, 60_000);
});
