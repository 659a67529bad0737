// A follower whose data directory is damaged while it is stopped (a bit
// flipped in a LevelDB table) refuses to start with one line naming the
// table, exit 1; `raftseq cluster replace` rebuilds it from the leader, with
// load running throughout; the rebuilt member then leads and serves. The
// whole history: nothing failed, nothing twice, in real-time order.

import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/client/index.js';
import { LEVEL_SUBDIR } from '../../src/storage/level.js';
import { checkHistory, formatReport } from '../support/checker.js';
import { runCli } from '../support/cli-run.js';
import { History } from '../support/history.js';
import { startLoad, type Load } from '../support/load.js';
import { nodeStatus } from '../support/node-rpc.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

const SEQUENCES = ['orders', 'invoices', 'tickets'];
const WORKERS = 3;
/** Bounds of the load: it stops when told, or after this many operations per worker. */
const MAX_OPS_PER_WORKER = 20_000;

/** The largest LevelDB table of a stopped node's data directory. */
function largestTable(dataDir: string): string {
  const level = join(dataDir, LEVEL_SUBDIR);
  const tables = readdirSync(level)
    .filter((f) => f.endsWith('.ldb'))
    .map((f) => join(level, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  expect(tables.length, 'a table (written when the node reopened its log)').toBeGreaterThan(0);
  return tables[0]!;
}

describe('cluster replace rebuilds a member with a corrupt data directory', () => {
  let cluster: ProcCluster;
  const history = new History();
  let client: SequenceClient;
  let load: Load | undefined;

  beforeAll(async () => {
    cluster = await ProcCluster.start({
      size: 3,
      ...(process.env['KEEP_DIR'] ? { dir: process.env['KEEP_DIR'] } : {}),
    });
    client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 15_000 });
    load = startLoad({
      client,
      history,
      sequences: SEQUENCES,
      workers: WORKERS,
      maxOpsPerWorker: MAX_OPS_PER_WORKER,
      maxCount: 3,
    });
  }, 60_000);

  afterAll(async () => {
    await load?.stop();
    client?.close();
    await cluster?.stop();
  }, 60_000);

  it('refuses to start, is rebuilt by cluster replace, and serves again: nothing twice', async () => {
    const leader = await cluster.leader();
    const victim = cluster.nodes.find((n) => n.id !== leader)!;
    const others = cluster.nodes.filter((n) => n !== victim).map((n) => n.addr);
    await sleep(1000);
    // A restart turns the node's LevelDB log into a table; then damage it while stopped.
    expect(await cluster.terminate(victim.id)).toBe(0);
    await cluster.restart(victim.id);
    await sleep(500);
    expect(await cluster.terminate(victim.id)).toBe(0);
    const table = largestTable(victim.dataDir);
    const bytes = readFileSync(table);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x08;
    writeFileSync(table, bytes);

    const starting = cluster.restart(victim.id);
    await waitUntil(() => victim.proc !== null, 'the refused start to spawn');
    const proc = victim.proc!;
    await expect(starting).rejects.toThrow(/exited/);
    expect((await proc.exited).code).toBe(1);
    const refusal = proc
      .tail()
      .split('\n')
      .filter((l) => l.startsWith('raftseq: '));
    expect(refusal).toEqual([
      expect.stringMatching(
        new RegExp(
          `^raftseq: data directory ${victim.dataDir} is corrupt: LevelDB table ${table} is damaged at byte \\d+`,
        ),
      ),
    ]);

    // Refused while a live member would be wiped: n's own address answers.
    const busy = cluster.nodes.find((n) => n.id === leader)!;
    const refused = await runCli([
      'cluster',
      'replace',
      '--id',
      busy.id,
      '--data',
      victim.dataDir,
      '-e',
      others.join(','),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is running .*stop it first/);

    const r = await runCli([
      'cluster',
      'replace',
      '--id',
      victim.id,
      '--data',
      victim.dataDir,
      '-e',
      others.join(','),
    ]);
    expect(r.stderr).toMatch(/removed/);
    expect(r.code, r.stderr).toBe(0);
    // Started as before, --initial-cluster included: it rejoins as a learner and is promoted.
    await cluster.restart(victim.id);
    await waitUntil(
      async () => {
        const s = await client.clusterStatus().catch(() => null); // no answer: try again
        const m = s?.members.find((x) => x.id === victim.id);
        return m !== undefined && m.role === 'follower' && m.matchIndex >= s!.commitIndex;
      },
      `${victim.id} a caught-up voter again`,
      60_000,
      100,
    );
    // The rebuilt member takes over and serves: had it lost state, values would repeat.
    const t = await runCli([
      'cluster',
      'transfer-leader',
      '--to',
      victim.id,
      '-e',
      others.join(','),
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect((await nodeStatus(victim.addr)).role).toBe('leader');
    await sleep(1500);
    await load?.stop();

    const report = checkHistory(history.ops);
    console.log(`[replace] ${victim.id} rebuilt under load:\n${formatReport(report)}`);
    expect(report.counts.ok).toBeGreaterThan(100);
    expect(
      report.counts.fail + report.counts.info + report.counts.incomplete,
      'failed requests',
    ).toBe(0);
    expect(report.duplicatePairs, 'values handed out twice').toBe(0);
    expect(report.orderViolationCount).toBe(0);
    // Gaps are not checked: an election forced by a stalled process (2 shared
    // cores) skips the rest of a block, as the contract allows; what the
    // rebuilt member lost would show as values served twice once it leads.
  }, 180_000);
});
