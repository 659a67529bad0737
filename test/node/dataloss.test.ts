// A member whose data directory was lost, started again with its bootstrap
// flags while the cluster exists, must refuse with a clear error (CONTRACT
// guarantee 1) — and the cluster must keep serving without it.

import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/index.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

describe('a member that lost its data directory', () => {
  let cluster: ProcCluster;

  beforeAll(async () => {
    cluster = await ProcCluster.start({ size: 3, electionTimeoutMs: 600, heartbeatIntervalMs: 60 });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Whether a leader logged that it recorded `id`'s incarnation (the record a lost directory contradicts). */
  const recorded = (id: string): boolean =>
    cluster.nodes.some((n) =>
      readFileSync(n.logFile, 'utf8')
        .split('\n')
        .some(
          (l) =>
            l.includes('"msg":"recorded member incarnation and address"') &&
            l.includes(`"member":"${id}"`),
        ),
    );

  it('refuses to rejoin with its bootstrap flags, with a one-line reason, and exits 1', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      await client.next('before-loss', 10);
      const leader = await cluster.leader();
      const victim = cluster.nodes.find((n) => n.id !== leader)!;
      await waitUntil(
        () => recorded(victim.id),
        `the record of ${victim.id}'s incarnation`,
        20_000,
        50,
      );
      await cluster.kill(victim.id);
      rmSync(victim.dataDir, { recursive: true, force: true });

      // It starts (and says "serving"), then its registration with the
      // leader is refused: the log holds another incarnation of it.
      const proc = await cluster.restart(victim.id);
      await proc.waitForLine(
        (l) => (/lost or replaced/.test(l) ? l : undefined),
        'the refusal',
        20_000,
      );
      expect((await proc.exited).code).toBe(1);
      expect(proc.tail()).toMatch(new RegExp(`cluster leave --id ${victim.id}`));

      // The other two keep serving, and never twice.
      const a = await client.next('before-loss');
      expect(a.first).toBeGreaterThan(10n);
    } finally {
      client.close();
    }
  }, 60_000);
});
