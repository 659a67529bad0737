// The durable watermark (src/storage/watermark.ts): a store whose engine lost
// records on recovery refuses to load, naming what is missing; a store that is
// merely ahead of its watermark (a process killed between the batch and the
// watermark write) loads.

import { readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageCorruptError } from '../../src/storage/errors.js';
import { LEVEL_SUBDIR, LevelStorage } from '../../src/storage/level.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import {
  checkWatermark,
  decodeWatermark,
  encodeWatermark,
  type Watermark,
} from '../../src/storage/watermark.js';
import { batch, entries, hs } from './fixtures.js';

const wm = (
  seq: number,
  term: number,
  vote: string | null,
  commit: number,
  last: number,
): Watermark => ({
  seq,
  hardState: { term, vote, commit },
  lastIndex: last,
});

describe('checkWatermark', () => {
  it('accepts an engine at or ahead of its watermark, and no watermark at all', () => {
    const mark = wm(7, 3, 'n2', 10, 12);
    expect(() =>
      checkWatermark('d', { seq: 7, hardState: hs(3, 'n2', 10), lastIndex: 12 }, mark),
    ).not.toThrow();
    expect(() =>
      checkWatermark('d', { seq: 8, hardState: hs(3, 'n2', 9), lastIndex: 11 }, mark),
    ).not.toThrow();
    expect(() =>
      checkWatermark('d', { seq: 0, hardState: null, lastIndex: 0 }, null),
    ).not.toThrow();
  });

  it('refuses a lost tail, naming the batches and the log it had', () => {
    expect(() =>
      checkWatermark(
        'd',
        { seq: 5, hardState: hs(3, 'n2', 8), lastIndex: 9 },
        wm(7, 3, 'n2', 10, 12),
      ),
    ).toThrow(/lost its last 2 write\(s\).*batch 5 but batch 7.*log up to 12/);
  });

  it('refuses a lost middle record: same batch, other hard state (a lost vote)', () => {
    expect(() =>
      checkWatermark(
        'd',
        { seq: 7, hardState: hs(2, null, 10), lastIndex: 12 },
        wm(7, 3, 'n2', 10, 12),
      ),
    ).toThrow(StorageCorruptError);
  });

  it('accepts a higher commit at its sequence (an unsynced commit-only write), not a lower one', () => {
    const mark = wm(7, 3, 'n2', 10, 12);
    expect(() =>
      checkWatermark('d', { seq: 7, hardState: hs(3, 'n2', 12), lastIndex: 12 }, mark),
    ).not.toThrow();
    expect(() =>
      checkWatermark('d', { seq: 7, hardState: hs(3, 'n2', 9), lastIndex: 12 }, mark),
    ).toThrow(/lost a write.*commit 10.*commit 9/);
    expect(() =>
      checkWatermark('d', { seq: 7, hardState: hs(3, 'n2', 12), lastIndex: 11 }, mark),
    ).toThrow(StorageCorruptError);
  });

  it('round-trips a slot and rejects a torn one', () => {
    const mark = wm(2 ** 40, 9, 'n-üñï', 123, 456);
    const slot = encodeWatermark(mark);
    expect(decodeWatermark(slot)).toEqual(mark);
    expect(
      decodeWatermark(encodeWatermark({ ...mark, hardState: { ...mark.hardState, vote: null } }))
        ?.hardState.vote,
    ).toBeNull();
    const torn = slot.slice();
    torn[20] = (torn[20] as number) ^ 1;
    expect(decodeWatermark(torn)).toBeNull();
    expect(decodeWatermark(new Uint8Array(256))).toBeNull();
  });
});

describe('MemoryStorage losing a record on recovery', () => {
  async function written(): Promise<MemoryStorage> {
    const s = MemoryStorage.create({ name: 'mem' });
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) })]);
    await s.persist([batch({ entries: entries(4, 6, 1), hardState: hs(1, 'n1', 3) })]);
    await s.persist([batch({ entries: entries(7, 9, 2), hardState: hs(2, 'n2', 6) })]);
    return s;
  }

  it('refuses to load without its last record', async () => {
    const s = (await written()).reopen({ lose: 'tail' });
    await expect(s.load()).rejects.toThrow(/lost its last 1 write/);
  });

  it('refuses to load without a record in the middle (entries 4..6 are missing)', async () => {
    const s = (await written()).reopen({ lose: 'middle', pick: () => 1 });
    await expect(s.load()).rejects.toThrow(StorageCorruptError);
  });

  it('loads after a plain restart', async () => {
    const s = (await written()).reopen();
    expect((await s.load())?.hardState).toEqual(hs(2, 'n2', 6));
  });
});

describe('LevelStorage whose LevelDB log was damaged while stopped', () => {
  async function stoppedStore(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-wm-'));
    const s = await LevelStorage.open(dir);
    for (let i = 0; i < 20; i++) {
      await s.persist([
        batch({ entries: entries(i * 5 + 1, i * 5 + 5, 1), hardState: hs(1, 'n1', i * 5) }),
      ]);
    }
    await s.close();
    return dir;
  }

  /** The LevelDB write-ahead log that holds the batches (replayed at open). */
  function walOf(dir: string): string {
    const level = join(dir, LEVEL_SUBDIR);
    const logs = readdirSync(level)
      .filter((f) => f.endsWith('.log'))
      .map((f) => join(level, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    expect(logs.length).toBeGreaterThan(0);
    return logs[0] as string;
  }

  async function loadOf(dir: string): Promise<unknown> {
    const s = await LevelStorage.open(dir);
    try {
      return await s.load();
    } finally {
      await s.close();
    }
  }

  it('loads when nothing was damaged', async () => {
    const dir = await stoppedStore();
    try {
      await expect(loadOf(dir)).resolves.toMatchObject({ hardState: hs(1, 'n1', 95) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses when the tail of the log is cut off (its last record is dropped)', async () => {
    const dir = await stoppedStore();
    try {
      const wal = walOf(dir);
      truncateSync(wal, statSync(wal).size - 40);
      await expect(loadOf(dir)).rejects.toThrow(/lost its last/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses when a bit flips in the middle of the log (a record is dropped)', async () => {
    const dir = await stoppedStore();
    try {
      const wal = walOf(dir);
      const bytes = readFileSync(wal);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0x10;
      writeFileSync(wal, bytes);
      await expect(loadOf(dir)).rejects.toThrow(StorageCorruptError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
