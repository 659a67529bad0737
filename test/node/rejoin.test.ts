// The data directory `cluster replace` prepares: emptied only if it is a
// raftseq data directory no live process holds; then it starts as a joining
// member (no voters of its own), even with --initial-cluster.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrBootstrap, loadVerified, prepareRejoin } from '../../src/node/bootstrap.js';
import { resetForRejoin, wipeProblem } from '../../src/server/rejoin.js';
import { LevelStorage } from '../../src/storage/level.js';
import { MemoryStorage } from '../../src/storage/memory.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'raftseq-rejoin-'));
  dirs.push(d);
  return d;
};
const initialCluster = new Map([
  ['n1', 'a:1'],
  ['n2', 'b:2'],
]);

describe('a data directory prepared to rejoin', () => {
  it('starts as a joining member even with --initial-cluster, unverified', async () => {
    const storage = MemoryStorage.create();
    await prepareRejoin(storage, 'n2');
    const state = await loadOrBootstrap(storage, { id: 'n2', dataDir: '/d', initialCluster });
    expect(state.snapshot.meta.conf.voters).toEqual([]);
    expect(await loadVerified(storage)).toBe(false);
    // Without the preparation the same flags bootstrap a log of its own.
    const fresh = MemoryStorage.create();
    const boot = await loadOrBootstrap(fresh, { id: 'n2', dataDir: '/d', initialCluster });
    expect(boot.snapshot.meta.conf.voters).toEqual(['n1', 'n2']);
  });

  it('empties a damaged raftseq directory and prepares it', async () => {
    const dir = tmp();
    const s = await LevelStorage.open(dir);
    await s.setMeta('incarnation', new Uint8Array([1]));
    await s.close();
    await resetForRejoin(dir, 'n2');
    const t = await LevelStorage.open(dir);
    try {
      expect(await t.getMeta('incarnation')).toBeNull(); // a new incarnation will be made
      const state = await loadOrBootstrap(t, { id: 'n2', dataDir: dir, initialCluster });
      expect(state.snapshot.meta.conf.voters).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('refuses a directory that is not a raftseq one, or that a live process holds', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'thesis.tex'), 'x');
    expect(wipeProblem(dir)).toMatch(/does not look like a raftseq data directory.*thesis\.tex/);
    const held = tmp();
    mkdirSync(join(held, 'level'));
    writeFileSync(join(held, 'LOCK.pid'), String(process.pid));
    expect(wipeProblem(held)).toMatch(new RegExp(`in use by pid ${process.pid}`));
    expect(wipeProblem(join(held, 'missing'))).toBeNull();
  });

  it('accepts what a member writes: the log, the watermark, the rates file and its temporary', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'level'));
    writeFileSync(join(dir, 'rates.snap'), 'x');
    writeFileSync(join(dir, '.rates.snap.0a1b2c3d.tmp'), 'x');
    expect(wipeProblem(dir)).toBeNull();
    writeFileSync(join(dir, '.rates.snap.tmp.bak'), 'x');
    expect(wipeProblem(dir)).toMatch(/does not look like/);
  });
});
