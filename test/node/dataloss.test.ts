// A member whose data directory was lost, started again with its bootstrap
// flags while the cluster exists, must refuse with a clear error (CONTRACT
// guarantee 1) — and the cluster must keep serving without it.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/index.js';
import { ProcCluster, sleep } from './procs.js';

describe('a member that lost its data directory', () => {
  let cluster: ProcCluster;

  beforeAll(async () => {
    cluster = await ProcCluster.start({ size: 3, electionTimeoutMs: 600, heartbeatIntervalMs: 60 });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses to rejoin with its bootstrap flags, with a one-line reason, and exits 1', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      await client.next('before-loss', 10);
      // Members record their data directory's incarnation within a few seconds.
      await sleep(3000);
      const leader = await cluster.leader();
      const victim = cluster.nodes.find((n) => n.id !== leader)!;
      cluster.kill(victim.id);
      rmSync(victim.dataDir, { recursive: true, force: true });

      const output: string[] = [];
      cluster.restart(victim.id);
      const proc = victim.proc!;
      proc.stdout?.on('data', (b: Buffer) => output.push(b.toString()));
      proc.stderr?.on('data', (b: Buffer) => output.push(b.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const t = setTimeout(() => resolve(null), 20_000);
        proc.once('exit', (c) => {
          clearTimeout(t);
          resolve(c);
        });
      });
      expect(code).toBe(1);
      const text = output.join('');
      expect(text).toMatch(/lost or replaced/);
      expect(text).toMatch(new RegExp(`cluster leave --id ${victim.id}`));

      // The other two keep serving, and never twice.
      const a = await client.next('before-loss');
      expect(a.first).toBeGreaterThan(10n);
    } finally {
      client.close();
    }
  }, 60_000);
});
