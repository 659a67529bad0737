// LevelDB tables damaged while the node was stopped: the engine does not
// check table checksums (classic-level exposes no verify_checksums), so
// table-check.ts does before it opens them. Every bit flip outside the
// footer's padding is refused with one line naming the table and the byte;
// without the check some flips abort the process inside LevelDB.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageCorruptError } from '../../src/storage/errors.js';
import { LEVEL_SUBDIR, LevelStorage } from '../../src/storage/level.js';
import { checkTable, checkTables } from '../../src/storage/table-check.js';
import { batch, entries, hs, snap } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A closed store whose entries sit in a LevelDB table (reopening turns the log into one). */
async function tabledStore(): Promise<{ dir: string; table: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-table-'));
  dirs.push(dir);
  const s = await LevelStorage.open(dir);
  await s.persist([batch({ snapshot: snap(10, 1), hardState: hs(1, 'n1', 10) })]);
  for (let i = 0; i < 40; i++) {
    await s.persist([
      batch({ entries: entries(11 + i * 5, 15 + i * 5, 1), hardState: hs(1, 'n1', 10 + i * 5) }),
    ]);
  }
  await s.close();
  const t = await LevelStorage.open(dir);
  await t.load();
  await t.close();
  const level = join(dir, LEVEL_SUBDIR);
  const tables = readdirSync(level).filter((f) => f.endsWith('.ldb'));
  expect(tables.length).toBeGreaterThan(0);
  return { dir, table: join(level, tables[0]!) };
}

describe('LevelDB table check', () => {
  it('passes intact tables', async () => {
    const { dir } = await tabledStore();
    expect(checkTables(join(dir, LEVEL_SUBDIR))).toBeNull();
    expect(checkTables(join(dir, 'nothing-here'))).toBeNull();
  });

  it('catches a flipped bit anywhere but the footer padding LevelDB never reads', async () => {
    const { table } = await tabledStore();
    const good = readFileSync(table);
    const footer = good.length - 48;
    const missed: number[] = [];
    for (let at = 0; at < good.length; at++) {
      const bad = Buffer.from(good);
      bad[at]! ^= 1 << (at % 8);
      if (checkTable(table, bad) === null) missed.push(at);
    }
    // The footer is two varint handles (a few bytes each), padding to 40, the magic.
    expect(missed.length).toBeLessThan(40);
    for (const at of missed) {
      expect(at).toBeGreaterThan(footer + 3);
      expect(at).toBeLessThan(good.length - 8);
    }
  });

  it('a store with a damaged table refuses to open with one line naming the table and byte', async () => {
    const { dir, table } = await tabledStore();
    const bytes = readFileSync(table);
    const at = Math.floor(bytes.length / 3);
    bytes[at]! ^= 0x04;
    writeFileSync(table, bytes);
    const err = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^data directory ${dir} is corrupt: LevelDB table ${table} is damaged at byte \\d+: the block there fails its checksum$`,
      ),
    );
  });

  it('a damaged manifest or CURRENT file is refused naming the directory', async () => {
    const { dir } = await tabledStore();
    const level = join(dir, LEVEL_SUBDIR);
    writeFileSync(join(level, 'CURRENT'), 'MANIFEST-999999\n');
    const err = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as Error).message).toMatch(/LevelDB cannot open .*MANIFEST-999999/);
    const manifest = readdirSync(level).find((f) => f.startsWith('MANIFEST-'))!;
    writeFileSync(join(level, 'CURRENT'), `${manifest}\n`);
    const m = readFileSync(join(level, manifest));
    m[10]! ^= 0x20;
    writeFileSync(join(level, manifest), m);
    const err2 = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(StorageCorruptError);
    expect((err2 as Error).message).toMatch(/is corrupt: LevelDB: .*Corruption/);
  });
});
