// Nemeses of disaster recovery (issue 11): a majority lost for good, and a
// whole cluster destroyed and restored from a backup. The workload runs
// throughout, and the checker reads the whole history, old cluster and new:
// a value the new cluster hands out again is a duplicate like any other.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/index.js';
import type { ActiveFault, FaultCtx, Nemesis } from './nemesis.js';

/**
 * `--mutant`: recover without any advance (restore --unsafe-no-advance;
 * force-new-cluster --unsafe-no-advance, which also trusts only the
 * survivor's last snapshot), so the run must find duplicates.
 */
export const RECOVERY = { mutant: false };

/** How long the old cluster keeps serving after the backup, in the restore scenario. */
const SERVE_AFTER_BACKUP_MS = 3000;

function admin(ctx: FaultCtx, endpoints: string[]): SequenceClient {
  return new SequenceClient({
    endpoints,
    ...ctx.cluster.clientOptions('admin'),
    deadlineMs: 15_000,
    attemptTimeoutMs: 2000,
  });
}

/** Adds `count` fresh members through `via` (each started empty, then AddMember). */
async function joinFresh(
  ctx: FaultCtx,
  via: string[],
  count: number,
  notes: string[],
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = ctx.nextSpareId();
    const spare = await ctx.cluster.startSpare(id);
    const a = admin(ctx, via);
    const t0 = Date.now();
    try {
      await a.addMember({ id, address: `${id}:7000`, advertise: spare.advertise });
      notes.push(`join ${id}: ok in ${Date.now() - t0} ms`);
    } catch (e) {
      notes.push(`join ${id}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      a.close();
    }
  }
}

/**
 * kill -9 every voter but one and delete their data; the survivor restarts
 * with --force-new-cluster --advance-for 1m; two fresh members join.
 */
export const loseMajority: Nemesis = async (ctx): Promise<ActiveFault> => {
  const c = ctx.cluster;
  const live = ctx.rng.shuffle(c.members.filter((n) => n.up).map((n) => n.id));
  const survivor = live[0]!;
  const lost = live.slice(1);
  for (const id of lost) {
    await c.destroy(id);
    c.node(id).removed = true;
  }
  const notes = [`lost for good: ${lost.join(',')}`];
  return {
    label: `lose ${lost.join(',')}; ${survivor} forces a new cluster`,
    notes,
    async end() {
      const flags = RECOVERY.mutant
        ? ['--force-new-cluster', '--unsafe-no-advance']
        : ['--force-new-cluster', '--advance-for', '1m'];
      const t0 = Date.now();
      const n = await c.recreate(survivor, true, { serveArgs: flags });
      notes.push(`${survivor} ${flags.join(' ')}: serving in ${Date.now() - t0} ms`);
      await joinFresh(ctx, [n.addr], lost.length, notes);
      for (const x of notes) ctx.log(`  ${x}`);
    },
  };
};

/**
 * `snapshot save`, keep serving, destroy every node, restore all of them
 * from the file with an --advance-for covering the time since the backup.
 */
export const restoreFromBackup: Nemesis = async (ctx): Promise<ActiveFault> => {
  const c = ctx.cluster;
  const ids = c.members.map((n) => n.id);
  const a = admin(ctx, c.endpoints);
  let saved;
  try {
    saved = await a.saveSnapshot();
  } finally {
    a.close();
  }
  const savedAt = Date.now();
  const file = join(mkdtempSync(join(tmpdir(), 'raftseq-jepsen-backup-')), 'backup.snap');
  writeFileSync(file, saved.data);
  const notes = [
    `saved index ${saved.index}, ${saved.sequences} sequences, ${saved.data.length} bytes`,
  ];
  // The old cluster serves on: everything it hands out now must never come back.
  await sleep(SERVE_AFTER_BACKUP_MS);
  for (const id of ids) await c.destroy(id);
  notes.push(`destroyed ${ids.join(',')} ${Date.now() - savedAt} ms after the backup`);
  return {
    label: `backup, serve ${SERVE_AFTER_BACKUP_MS / 1000} s, destroy ${ids.join(',')}, restore`,
    notes,
    async end() {
      // Cover the outage: from the backup to the destruction, twice over, and a minute more.
      const coverS = Math.ceil(((Date.now() - savedAt) * 2) / 1000) + 60;
      const advance = RECOVERY.mutant ? ['--unsafe-no-advance'] : ['--advance-for', `${coverS}s`];
      const list = ids.map((id) => `${id}=${id}:7000`).join(',');
      const t0 = Date.now();
      await Promise.all(
        ids.map((id) =>
          c.recreate(id, false, {
            restore: { file, args: ['--initial-cluster', list, ...advance] },
          }),
        ),
      );
      for (const id of ids) c.node(id).removed = false;
      notes.push(
        `restored ${ids.join(',')} with ${advance.join(' ')}: serving in ${Date.now() - t0} ms`,
      );
      for (const x of notes) ctx.log(`  ${x}`);
    },
  };
};
