// A rolling upgrade under load: a 3-node cluster of the previous release
// (the commit in previous.json, checked out with `git worktree` and built
// with `npm ci`) serves a bounded load while each node in turn is stopped
// gracefully (SIGTERM) and started again with this build on the same data
// directory. The history must show no failed request beyond the client's
// own retries, no value twice, no value skipped; the mixed cluster must run
// at the previous wire format and the upgraded one at this build's.
//
// RAFTSEQ_PREVIOUS_BUILD=<dir> uses an existing built checkout of that
// commit instead of building one (for reruns on a developer's machine).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/client/index.js';
import { WIRE_FORMAT } from '../../src/transport/formats.js';
import { checkHistory, formatReport } from '../support/checker.js';
import { History } from '../support/history.js';
import { startLoad, type Load } from '../support/load.js';
import { healthStatus, nodeStatus } from '../support/node-rpc.js';
import { ROOT, raftseqNodeArgs } from '../support/paths.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitUntil } from '../support/wait.js';

const previous = JSON.parse(
  readFileSync(join(ROOT, 'test', 'upgrade', 'previous.json'), 'utf8'),
) as {
  commit: string;
};
const SEQUENCES = ['orders', 'invoices', 'tickets', 'payments'];
const WORKERS = 4;
/** Bounds of the load: it stops when told, or after this many operations per worker. */
const MAX_OPS_PER_WORKER = 50_000;
/** Load to run between two replacements, so that each step happens under traffic. */
const LOAD_BETWEEN_MS = 1500;

/** Checks the previous commit out into a temporary directory and builds it (npm ci). */
function buildPrevious(): { dir: string; remove(): void } {
  const given = process.env['RAFTSEQ_PREVIOUS_BUILD'];
  if (given) return { dir: given, remove: () => {} };
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  try {
    git('cat-file', '-e', `${previous.commit}^{commit}`);
  } catch {
    throw new Error(
      `commit ${previous.commit} (test/upgrade/previous.json) is not in this clone: fetch its history (a shallow clone lacks it)`,
    );
  }
  const parent = mkdtempSync(join(tmpdir(), 'raftseq-previous-'));
  const dir = join(parent, 'raftseq');
  git('worktree', 'add', '--detach', dir, previous.commit);
  // Unregisters the worktree and deletes it, node_modules included (seconds).
  const remove = (): void => {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      git('worktree', 'prune');
    }
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: 'pipe',
      timeout: 300_000,
    });
  } catch (e) {
    remove();
    throw e;
  }
  return { dir, remove };
}

describe('rolling upgrade from the previous release, under load', () => {
  let prev: { dir: string; remove(): void };
  let cluster: ProcCluster;
  const history = new History();
  let client: SequenceClient;
  let load: Load | undefined;

  beforeAll(async () => {
    prev = buildPrevious();
    expect(existsSync(join(prev.dir, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
    cluster = await ProcCluster.start({ size: 3, runner: [join(prev.dir, 'bin', 'raftseq')] });
    client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    load = startLoad({
      client,
      history,
      sequences: SEQUENCES,
      workers: WORKERS,
      maxOpsPerWorker: MAX_OPS_PER_WORKER,
      maxCount: 5,
    });
  }, 400_000);

  afterAll(async () => {
    await load?.stop();
    client?.close();
    await cluster?.stop();
    prev?.remove();
  }, 180_000);

  it('replaces every node with this build: nothing failed, twice or skipped', async () => {
    await cluster.leader();
    await sleep(LOAD_BETWEEN_MS);
    const old = await nodeStatus(cluster.node('n1').addr);
    expect((old as unknown as { version?: string }).version ?? '').toBe(''); // the previous release predates versions
    for (const [step, id] of ['n1', 'n2', 'n3'].entries()) {
      const node = cluster.node(id);
      expect(await cluster.terminate(id), `${id} stops gracefully (exit 0)`).toBe(0);
      node.runner = raftseqNodeArgs('sources');
      await cluster.restart(id);
      // Ready by this build's own health: a member that knows a leader and has caught up.
      await waitUntil(
        // not answering yet: not serving yet
        async () => (await healthStatus(node.addr, '').catch(() => '')) === 'SERVING',
        `${id} ready again`,
        30_000,
        50,
      );
      const s = (await nodeStatus(node.addr)) as unknown as Record<string, unknown>;
      expect(s['version']).not.toBe('');
      // While a voter of the previous release remains, the cluster runs at its wire format.
      expect(s['cluster_wire_format']).toBe(step < 2 ? 1 : WIRE_FORMAT);
      // No cluster id while a member of the previous release could not apply one.
      if (step < 2) expect(s['cluster_id']).toBe('');
      await sleep(LOAD_BETWEEN_MS);
    }
    await load?.stop();

    const r = checkHistory(history.ops);
    console.log(
      `[upgrade] ${previous.commit.slice(0, 12)} -> this build, under load:\n${formatReport(r)}`,
    );
    expect(r.counts.ok).toBeGreaterThan(100);
    expect(r.counts.fail + r.counts.info + r.counts.incomplete, 'failed requests').toBe(0);
    expect(r.duplicatePairs, 'values handed out twice').toBe(0);
    expect(r.orderViolationCount).toBe(0);
    expect(r.skippedValues, 'values skipped').toBe(0n);
    // The upgraded data directories got a cluster id, the same on every member.
    const ids = new Set<unknown>();
    await waitUntil(
      async () => {
        ids.clear();
        for (const n of cluster.nodes) ids.add((await nodeStatus(n.addr))['cluster_id']);
        return ids.size === 1 && !ids.has('');
      },
      'one cluster id on every member',
      30_000,
      50,
    );
    for (const n of cluster.nodes) {
      const s = (await nodeStatus(n.addr)) as unknown as Record<string, unknown>;
      expect(s['cluster_wire_format'], `${n.id}: every voter speaks this build's format`).toBe(
        WIRE_FORMAT,
      );
      expect(s['values_skipped']).toBe('0');
    }
  }, 240_000);
});
