// serve --force-new-cluster: refused while a majority of the old voters
// answers; otherwise the survivor alone carries on, above every value the
// old cluster served, under a new cluster id.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshotFile } from '../../src/backup/format.js';
import { writeFileAtomic } from '../../src/backup/file.js';
import { StartupError } from '../../src/node/bootstrap.js';
import { loadClusterId } from '../../src/node/identity.js';
import { createLogger } from '../../src/node/logger.js';
import { bootstrapState } from '../../src/raft/index.js';
import { forceNewCluster } from '../../src/server/force-new-cluster.js';
import { RATES_FILE } from '../../src/server/rates-file.js';
import { SequenceClient } from '../../src/index.js';
import { encodeCommand } from '../../src/state/commands.js';
import { SequenceStateMachine, bootstrapData } from '../../src/state/machine.js';
import { LevelStorage } from '../../src/storage/level.js';
import { runCli } from '../support/cli-run.js';
import { nodeStatus } from '../support/node-rpc.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

const members = new Map([
  ['n1', '127.0.0.1:7001'],
  ['n2', '127.0.0.1:7002'],
  ['n3', '127.0.0.1:7003'],
]);
const entropy = { int: () => 0, hex: (n: number) => 'ab'.repeat(n) };
const log = createLogger('n1', 'silent');

/** A data directory of n1 in a 3-voter cluster, its log holding one reservation (uncommitted). */
async function survivorDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-force-'));
  const storage = await LevelStorage.open(dir);
  const initial = bootstrapState(
    [...members.keys()],
    bootstrapData(members, 1, '0123456789abcdef'),
  );
  await storage.persist([
    {
      snapshot: initial.snapshot,
      compacted: null,
      entries: [
        { index: 2, term: 2, type: 'normal', data: new Uint8Array(0) },
        {
          index: 3,
          term: 2,
          type: 'normal',
          data: encodeCommand({ type: 'reserve', items: [{ sequence: 'orders', upTo: 5000n }] }),
        },
      ],
      hardState: { term: 2, vote: 'n2', commit: 2 },
    },
  ]);
  await storage.close();
  return dir;
}

describe('forceNewCluster', () => {
  it('refuses while one other voter of three answers, and changes nothing', async () => {
    const dir = await survivorDir();
    const storage = await LevelStorage.open(dir);
    try {
      const asked: string[] = [];
      const attempt = forceNewCluster(
        { id: 'n1', dataDir: dir, listen: '127.0.0.1:7001', advance: { by: 1000n } },
        {
          storage,
          reachable: async (a) => {
            asked.push(a);
            return a === '127.0.0.1:7003';
          },
          entropy,
          log,
        },
      );
      await expect(attempt).rejects.toThrow(StartupError);
      await expect(attempt).rejects.toThrow(/reaches 2 of the 3 voters \(n1, n3\)/);
      expect(asked.sort()).toEqual(['127.0.0.1:7002', '127.0.0.1:7003']);
      const after = await storage.load();
      expect(after?.entries.map((e) => e.index)).toEqual([2, 3]);
      expect(await loadClusterId(storage)).toBe('');
    } finally {
      await storage.close();
    }
  });

  it('alone: the only voter of a new cluster, above its uncommitted entries plus rate x duration', async () => {
    const dir = await survivorDir();
    await writeFileAtomic(
      join(dir, RATES_FILE),
      encodeSnapshotFile(
        { clusterId: '', index: 3, term: 2, savedAt: '', member: 'n1', version: 'x' },
        [{ name: 'orders', reserved: 5000n, rate: 100 }],
      ),
    );
    const storage = await LevelStorage.open(dir);
    try {
      await forceNewCluster(
        { id: 'n1', dataDir: dir, listen: '127.0.0.1:7001', advance: { forMs: 60_000 } },
        { storage, reachable: async () => false, entropy, log },
      );
      const st = (await storage.load())!;
      expect(st.snapshot.meta.conf.voters).toEqual(['n1']);
      expect(st.entries).toEqual([]);
      const sm = SequenceStateMachine.restore(st.snapshot.data);
      expect(sm.clusterId).toBe('abababababababab');
      expect(await loadClusterId(storage)).toBe('abababababababab');
      sm.apply({ index: 2, term: 2, type: 'normal', data: new Uint8Array(0) });
      // The reservation to 5000 was never known committed here: still counted.
      expect(sm.startFor('orders')).toBe(5000n + 1n + 6000n);
    } finally {
      await storage.close();
    }
  });
});

describe('serve --force-new-cluster', () => {
  let cluster: ProcCluster;
  const extra: Record<string, string[]> = {};

  beforeAll(async () => {
    cluster = await ProcCluster.start({
      size: 3,
      electionTimeoutMs: 600,
      heartbeatIntervalMs: 60,
      serveArgsFor: (id) => extra[id] ?? [],
    });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('is refused while the others answer, then carries on alone once they are gone', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      let last = 0n;
      for (let i = 0; i < 20; i++) last = (await client.next('orders', 100)).first + 99n;
      const old = (await nodeStatus(cluster.nodes[0]!.addr, 2000)).cluster_id;

      // Without an advance: a usage error before anything starts.
      const usage = await runCli([
        'serve',
        '--id',
        'n1',
        '--listen',
        '127.0.0.1:0',
        '--data',
        cluster.node('n1').dataDir,
        '--force-new-cluster',
      ]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/--advance-by N .* --advance-for DURATION/);

      await cluster.kill('n1');
      extra.n1 = ['--force-new-cluster', '--advance-by', '1000000'];
      await expect(cluster.restart('n1')).rejects.toThrow();
      expect(readFileSync(cluster.node('n1').logFile, 'utf8')).toMatch(
        /--force-new-cluster refused: n1 reaches 3 of the 3 voters/,
      );

      // The two others die with their data for good.
      for (const id of ['n2', 'n3']) await cluster.kill(id);
      cluster.removed.add('n2');
      cluster.removed.add('n3');
      await cluster.restart('n1');
      extra.n1 = [];
      expect(readFileSync(cluster.node('n1').logFile, 'utf8')).toMatch(/FORCED A NEW CLUSTER/);
      expect(await cluster.leader(20_000)).toBe('n1');
      expect((await nodeStatus(cluster.node('n1').addr, 2000)).cluster_id).not.toBe(old);

      const single = new SequenceClient({
        endpoints: [cluster.node('n1').addr],
        deadlineMs: 10_000,
      });
      try {
        expect((await single.status()).members.map((m) => m.id)).toEqual(['n1']);
        expect((await single.next('orders')).first).toBeGreaterThan(last);
        // A fresh member joins the new cluster as usual.
        const n4 = await cluster.addNode('n4');
        await single.addMember({ id: 'n4', address: n4.addr });
        await waitUntil(
          async () =>
            (await single.status()).members.find((m) => m.id === 'n4')?.role === 'follower',
          'n4 promoted to voter',
          20_000,
          100,
        );
        expect((await single.next('orders')).first).toBeGreaterThan(last);
      } finally {
        single.close();
      }
    } finally {
      client.close();
    }
  }, 120_000);
});
