import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DataDirInUseError,
  StorageCorruptError,
  UnsupportedFormatError,
} from '../../src/storage/errors.js';
import { DIR_FORMAT } from '../../src/storage/formats.js';
import { entryKey, LEVEL_SUBDIR, LevelStorage } from '../../src/storage/level.js';
import { ROOT } from '../support/paths.js';
import { ChildProc } from '../support/process.js';
import { storageConformance } from './conformance.js';
import { noteReport } from './crash-workload.js';
import { batch, entries, hs, indexes, snap } from './fixtures.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'raftseq-level-'));

storageConformance(
  'LevelStorage',
  async () => {
    const dir = tmp();
    let current: LevelStorage | null = null;
    return {
      open: async () => (current = await LevelStorage.open(dir)),
      reopen: async () => {
        await current?.close();
        return (current = await LevelStorage.open(dir));
      },
      cleanup: async () => {
        await current?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  // The crash: child.ts writes through LevelStorage and reports each write
  // once it resolved; kill -9 as soon as `after` persists were reported
  // (by then the next write is under way), then open the directory here.
  // A killed process leaves the kernel's page cache intact, so this checks
  // what the store reports durable and that recovery takes each write whole
  // or not at all; losing un-fsynced data to a power cut is beyond it.
  async (after) => {
    const dir = newDir();
    const durable = { persists: 0, meta: 0 };
    const child = spawnChild('write', dir);
    await child.waitForLine(
      (line) => (noteReport(durable, line) && durable.persists >= after ? true : undefined),
      `${after} durable persists`,
      60_000,
    );
    await child.kill();
    const store = await LevelStorage.open(dir);
    return { durable: { ...durable }, store, cleanup: () => store.close() };
  },
);

/** Edits the LevelDB under a closed store directly, as a disk fault would. */
async function tamper(
  dir: string,
  edit: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>,
) {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, LEVEL_SUBDIR), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  try {
    await edit(db);
  } finally {
    await db.close();
  }
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

/** child.ts in `mode` on `dir` (killed after the test if still running). */
function spawnChild(mode: 'hold' | 'write', dir: string): ChildProc {
  const child = ChildProc.spawn(
    `child.ts ${mode}`,
    process.execPath,
    ['--import', 'tsx', CHILD, mode, dir],
    { cwd: ROOT },
  );
  children.push(child);
  return child;
}

const children: ChildProc[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function newDir(): string {
  const d = tmp();
  dirs.push(d);
  return d;
}

describe('LevelStorage', () => {
  it('reads the snapshot once at open, and again once anything was written since', async () => {
    const dir = newDir();
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const s = await LevelStorage.open(dir);
    await s.persist([batch({ snapshot: snap(10, 1, big), hardState: hs(1, null, 10) })]);
    await s.close();
    // The first load() takes what open() read: the same bytes, whole.
    const t = await LevelStorage.open(dir);
    expect((await t.load())!.snapshot.data).toEqual(big);
    await t.close();
    // A write between open() and load() makes that read stale: load() reads again.
    const u = await LevelStorage.open(dir);
    await u.persist([batch({ snapshot: snap(20, 1), hardState: hs(1, null, 20) })]);
    const after = (await u.load())!;
    expect(after.snapshot.meta.index).toBe(20);
    expect(after.snapshot.data).toEqual(snap(20, 1).data);
    await u.close();
  });

  it('names the directory and the first bad index when a stored entry is corrupt', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    await s.persist([batch({ entries: entries(1, 60, 1), hardState: hs(1, 'n1', 50) })]);
    await s.close();
    await tamper(dir, async (db) => {
      for (const i of [42, 57]) {
        const v = (await db.get(entryKey(i)))!;
        v[v.length - 1]! ^= 0x10;
        await db.put(entryKey(i), v);
      }
    });
    const t = await LevelStorage.open(dir);
    const err = await t.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageCorruptError);
    expect((err as StorageCorruptError).index).toBe(42);
    expect((err as Error).message).toBe(
      `data directory ${dir} is corrupt at log index 42: checksum mismatch`,
    );
    await t.close();
  });

  it('treats a torn (short) record, a missing entry and a misplaced record as corruption', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    await s.persist([batch({ entries: entries(1, 10, 1) })]);
    await s.close();
    const loadError = async () => {
      const t = await LevelStorage.open(dir);
      const e = await t.load().catch((x: unknown) => x);
      await t.close();
      return e as StorageCorruptError;
    };
    await tamper(dir, async (db) =>
      db.put(entryKey(7), (await db.get(entryKey(7)))!.subarray(0, 4)),
    );
    expect((await loadError()).message).toMatch(/corrupt at log index 7: truncated record/);
    await tamper(dir, async (db) => db.put(entryKey(7), (await db.get(entryKey(8)))!));
    expect((await loadError()).message).toMatch(/corrupt at log index 7: record holds entry 8/);
    await tamper(dir, async (db) => db.del(entryKey(7)));
    expect((await loadError()).message).toMatch(/corrupt at log index 7: entries 7..7 are missing/);
  });

  it('refuses a second open of the same directory in this process, naming the pid', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    const err = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toBe(`data directory ${dir} in use by pid ${process.pid}`);
    await s.close();
    await (await LevelStorage.open(dir)).close();
  });

  it('refuses a directory another process holds, and takes it over once that one is killed', async () => {
    const dir = newDir();
    const child = spawnChild('hold', dir);
    await child.waitForLine((l) => (l === 'ready' ? true : undefined), '"ready"', 30_000);
    const err = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`data directory ${dir} in use by pid ${child.pid}`);
    await child.kill();
    // LOCK.pid is left behind by kill -9; the kernel released LevelDB's lock.
    const s = await LevelStorage.open(dir);
    expect(await s.load()).toBeNull();
    await s.close();
  });

  it('refuses a directory written by a newer raftseq, naming it', async () => {
    const dir = newDir();
    await (await LevelStorage.open(dir)).close();
    await tamper(dir, async (db) => {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, DIR_FORMAT + 1);
      await db.put(new TextEncoder().encode('v'), v);
    });
    const err = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedFormatError);
    expect((err as Error).message).toBe(
      `data directory ${dir} was written by a newer raftseq (directory format ${DIR_FORMAT + 1}; this build reads up to ${DIR_FORMAT})`,
    );
    // Refusing must not leave the directory locked.
    const again = await LevelStorage.open(dir).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(UnsupportedFormatError);
  });

  it('writes many batches with one fsync (measured, logged)', async () => {
    const dir = newDir();
    const s = await LevelStorage.open(dir);
    const N = 1000;
    let t0 = performance.now();
    await s.persist(
      Array.from({ length: N }, (_, i) =>
        batch({ entries: entries(i + 1, i + 1, 1), hardState: hs(1, 'n1', i) }),
      ),
    );
    const merged = performance.now() - t0;
    expect(s.stats.fsyncs).toBe(1);
    expect(s.stats.entriesWritten).toBe(N);

    const M = 200;
    t0 = performance.now();
    for (let i = N + 1; i <= N + M; i++) await s.persist([batch({ entries: entries(i, i, 1) })]);
    const single = performance.now() - t0;
    expect(s.stats.fsyncs).toBe(1 + M);
    console.log(
      `fsync cost: one persist of ${N} single-entry batches = 1 fsync, ${merged.toFixed(1)} ms ` +
        `(${((merged * 1000) / N).toFixed(1)} µs/entry); ${M} persists of 1 entry = ${M} fsyncs, ` +
        `${(single / M).toFixed(3)} ms/fsync`,
    );
    expect(indexes((await s.load())!.entries).length).toBe(N + M);
    await s.close();
  });
});
