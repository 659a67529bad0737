// A persist that only moves the commit index is written without an fsync
// (etcd's MustSync; plan.ts): it takes no batch sequence number and writes no
// watermark. A crash keeps it, a power loss may drop it, and neither outcome
// may trip the watermark check, nor may it hide a lost synced batch.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHardState } from '../../src/storage/codec.js';
import { LEVEL_SUBDIR, LevelStorage, WATERMARK_FILE } from '../../src/storage/level.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { EMPTY_BOUNDS, mustSync, planPersist, planSync } from '../../src/storage/plan.js';
import type { PersistBatch } from '../../src/storage/storage.js';
import {
  WATERMARK_SLOT_BYTES,
  decodeWatermark,
  newestWatermark,
  type Watermark,
} from '../../src/storage/watermark.js';
import { batch, entries, hs, snap } from './fixtures.js';

const ops = (...bs: PersistBatch[]) => planPersist({ ...EMPTY_BOUNDS, lastIndex: 20 }, bs).ops;

describe('mustSync and planSync', () => {
  it('syncs entries, snapshots, compactions, a new term or vote; not a commit alone', () => {
    const prev = hs(2, 'n1', 5);
    expect(mustSync(ops(batch({ hardState: hs(2, 'n1', 7) })), prev)).toBe(false);
    expect(mustSync(ops(batch({ hardState: hs(3, 'n1', 7) })), prev)).toBe(true);
    expect(mustSync(ops(batch({ hardState: hs(2, null, 5) })), prev)).toBe(true);
    expect(mustSync(ops(batch({ hardState: hs(2, 'n1', 7) })), null)).toBe(true);
    expect(mustSync(ops(batch({ entries: entries(21, 21, 2) })), prev)).toBe(true);
    expect(mustSync(ops(batch({ compacted: snap(3, 1) })), prev)).toBe(true);
    // Merged Readies: only the final hard state is ever observable.
    expect(
      mustSync(
        ops(batch({ hardState: hs(3, null, 5) }), batch({ hardState: hs(3, null, 6) })),
        prev,
      ),
    ).toBe(true);
    expect(
      mustSync(
        ops(batch({ hardState: hs(2, 'n1', 6) }), batch({ hardState: hs(2, 'n1', 7) })),
        prev,
      ),
    ).toBe(false);
  });

  it('makes the synced batch after an unsynced one rewrite the hard state', () => {
    const after = planSync(ops(batch({ hardState: hs(2, 'n1', 7) })), {
      hardState: hs(2, 'n1', 5),
      unsynced: false,
    });
    expect(after.sync).toBe(false);
    expect(after.state).toEqual({ hardState: hs(2, 'n1', 7), unsynced: true });
    const next = planSync(ops(batch({ entries: entries(21, 22, 2) })), after.state);
    expect(next.sync).toBe(true);
    expect(next.ops.at(-1)).toEqual({ op: 'hardState', hardState: hs(2, 'n1', 7) });
    expect(next.state.unsynced).toBe(false);
    // Nothing to rewrite when nothing was left unsynced.
    const plain = planSync(ops(batch({ entries: entries(21, 22, 2) })), next.state);
    expect(plain.ops.some((o) => o.op === 'hardState')).toBe(false);
  });
});

describe('LevelStorage: commit-only batches', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const newDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'raftseq-unsynced-'));
    dirs.push(d);
    return d;
  };
  const watermarkOf = (dir: string): Watermark | null => {
    const buf = readFileSync(join(dir, WATERMARK_FILE));
    const slot = (i: number) =>
      decodeWatermark(buf.subarray(i * WATERMARK_SLOT_BYTES, (i + 1) * WATERMARK_SLOT_BYTES));
    return newestWatermark(slot(0), slot(1));
  };

  it('writes a commit-only batch without an fsync or a watermark; others with both', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    try {
      await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) })]);
      expect(s.stats.fsyncs).toBe(1);
      expect(watermarkOf(dir)).toMatchObject({ seq: 1, hardState: hs(1, 'n1', 0) });

      await s.persist([batch({ hardState: hs(1, 'n1', 3) })]);
      expect(s.stats.fsyncs).toBe(1);
      expect(s.stats.unsyncedWrites).toBe(1);
      expect(watermarkOf(dir)).toMatchObject({ seq: 1, hardState: hs(1, 'n1', 0) });

      await s.persist([batch({ hardState: hs(2, null, 3) })]); // a new term
      expect(s.stats.fsyncs).toBe(2);
      expect(watermarkOf(dir)).toMatchObject({ seq: 2, hardState: hs(2, null, 3) });
      await s.persist([batch({ hardState: hs(2, 'n2', 3) })]); // a vote
      expect(s.stats.fsyncs).toBe(3);
      await s.persist([batch({ entries: entries(4, 4, 2) })]); // entries only
      expect(s.stats.fsyncs).toBe(4);
      expect(watermarkOf(dir)).toMatchObject({ seq: 4, lastIndex: 4 });
    } finally {
      await s.close();
    }
  });

  it('keeps a commit-only write across a restart, beyond its watermark', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) })]);
    await s.persist([batch({ hardState: hs(1, 'n1', 3) })]);
    await s.close();
    const t = await LevelStorage.open(dir);
    try {
      expect((await t.load())?.hardState).toEqual(hs(1, 'n1', 3));
    } finally {
      await t.close();
    }
  });

  /**
   * S (synced, seq 1), C (commit-only), then the engine as a power loss may
   * leave it: C's record gone (the hard state record is S's again).
   */
  async function lostCommitOnly(dir: string): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
    const s = await LevelStorage.open(dir);
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 1) })]);
    await s.persist([batch({ hardState: hs(1, 'n1', 3) })]);
    await s.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, LEVEL_SUBDIR), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await db.open();
    await db.put(new TextEncoder().encode('h'), encodeHardState(hs(1, 'n1', 1)));
    return db;
  }

  it('loads after a power loss dropped a commit-only write (the watermark is not tripped)', async () => {
    const dir = newDir();
    await (await lostCommitOnly(dir)).close();
    const t = await LevelStorage.open(dir);
    try {
      expect((await t.load())?.hardState).toEqual(hs(1, 'n1', 1));
    } finally {
      await t.close();
    }
  });

  it('still refuses when the synced batch before it was lost too', async () => {
    const dir = newDir();
    const db = await lostCommitOnly(dir);
    await db.del(new TextEncoder().encode('q')); // batch 1's sequence number: gone
    await db.close();
    const t = await LevelStorage.open(dir);
    try {
      await expect(t.load()).rejects.toThrow(/lost its last 1 write/);
    } finally {
      await t.close();
    }
  });
});

describe('MemoryStorage: power loss', () => {
  async function written(): Promise<MemoryStorage> {
    const s = MemoryStorage.create({ name: 'mem' });
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) })]);
    await s.persist([batch({ entries: entries(4, 6, 1), hardState: hs(1, 'n1', 3) })]);
    await s.persist([batch({ hardState: hs(1, 'n1', 5) })]);
    await s.persist([batch({ hardState: hs(1, 'n1', 6) })]);
    return s;
  }

  it('drops the unsynced commit-only tail and reopens cleanly', async () => {
    const s = await written();
    expect(s.unsyncedTail).toBe(2);
    const t = s.reopen({ lose: 'power' });
    expect(t.durableProblem()).toBeNull();
    const state = await t.load();
    expect(state?.hardState).toEqual(hs(1, 'n1', 3));
    expect(state?.entries.length).toBe(6);
    expect(t.unsyncedTail).toBe(0);
    // And it goes on from there: the next synced batch is the next in sequence.
    await t.persist([batch({ entries: entries(7, 7, 2), hardState: hs(2, 'n2', 4) })]);
    expect(t.reopen().durableProblem()).toBeNull();
  });

  it('keeps the commit-only tail across a crash (kill -9)', async () => {
    const t = (await written()).reopen();
    expect((await t.load())?.hardState).toEqual(hs(1, 'n1', 6));
  });

  it('never drops a synced batch, nor the commit an unsynced one before it set', async () => {
    const s = await written();
    await s.persist([batch({ entries: entries(7, 8, 1) })]);
    expect(s.unsyncedTail).toBe(0);
    const t = s.reopen({ lose: 'power' });
    const state = await t.load();
    expect(state?.entries.length).toBe(8);
    expect(state?.hardState).toEqual(hs(1, 'n1', 6));
  });

  it('loads when the engine dropped a commit-only record before a synced one (LevelDB log switch)', async () => {
    const s = await written();
    await s.persist([batch({ entries: entries(7, 8, 1) })]);
    // History: [S1, S2, C5, C6, E]; drop C5, then C6 too.
    const t = s.reopen({ lose: 'middle', pick: () => 2 }).reopen({ lose: 'middle', pick: () => 2 });
    expect(t.durableProblem()).toBeNull();
    expect((await t.load())?.hardState).toEqual(hs(1, 'n1', 6));
  });

  it('still refuses a lost synced batch followed by surviving commit-only writes', async () => {
    const s = MemoryStorage.create({ name: 'mem' });
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) })]);
    await s.persist([batch({ entries: entries(4, 6, 1), hardState: hs(1, 'n1', 2) })]);
    await s.persist([batch({ hardState: hs(1, 'n1', 3) })]);
    // Drop the second: its entries and sequence number are gone, the commit
    // after it survived (the log alone looks whole: entries 1..3, commit 3).
    const t = s.reopen({ lose: 'middle', pick: () => 1 });
    expect(t.durableProblem()).toMatch(/lost its last 1 write/);
    await expect(t.load()).rejects.toThrow(/lost its last 1 write/);
  });

  it('models the same with the synchronous API', () => {
    const s = MemoryStorage.create({ name: 'sync' });
    s.persistSync([batch({ entries: entries(1, 2, 1), hardState: hs(1, 'n1', 0) })]);
    s.persistSync([batch({ hardState: hs(1, 'n1', 2) })]);
    expect(s.unsyncedTail).toBe(1);
    const t = s.reopen({ lose: 'power' });
    expect(t.loadSync()?.hardState).toEqual(hs(1, 'n1', 0));
  });
});
