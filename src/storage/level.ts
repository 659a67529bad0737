// Durable RaftStorage on classic-level (LevelDB).
//
// Layout of a data directory:
//   <dir>/LOCK.pid   pid of the process that has it open (see lock.ts)
//   <dir>/level/     the LevelDB database, with keys
//     v              directory format (u32 BE), written when an empty dir is first opened
//     h              hard state record
//     s              snapshot record (the latest; there is only ever one)
//     l<u64 BE>      log entry record; fixed-width big-endian so byte order is numeric order
//     m:<name>       metadata blob record
//     q              batch sequence number (u64 BE), rewritten by every persist batch
//   <dir>/watermark  what was reported durable, outside LevelDB (watermark.ts)
// Values are codec.ts records (versioned, checksummed), except q.
//
// Every persist() is one atomic db.batch(ops): with { sync: true } (one
// fsync) unless all it changes is the commit index (plan.ts, mustSync); such
// a commit-only batch is written without an fsync, takes no batch sequence
// number and writes no watermark (plan.ts says why that is safe).
// Truncation and compaction are explicit `del` ops in that same batch for each
// key known to exist (db.clear is not atomic with a batch). The store knows
// which keys exist from the bounds it tracks: entries are (snapshotIndex, lastIndex].
//
// Writes are chained so they land in call order (classic-level runs
// operations on a thread pool, which does not promise order). A failed write
// poisons the handle: after a failed fsync the state on disk is unknown, and
// the only safe continuation is a restart that reads it back (fsyncgate).

import { closeSync, constants, fdatasync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Entry, HardState, InitialState, Snapshot } from '../raft/types.js';
import {
  CodecError,
  decodeBlob,
  decodeEntry,
  decodeHardState,
  decodeSnapshot,
  encodeBlob,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
} from './codec.js';
import {
  DataDirInUseError,
  StorageClosedError,
  StorageCorruptError,
  UnsupportedFormatError,
} from './errors.js';
import { DIR_FORMAT, RECORD_FORMAT } from './formats.js';
import { livePidHolder, removePidFile, writePidFile } from './lock.js';
import { checkTables } from './table-check.js';
import {
  assembleInitialState,
  planPersist,
  planSync,
  ZERO_HARD_STATE,
  type LogBounds,
  type SyncState,
} from './plan.js';
import type { PersistBatch, RaftStorage } from './storage.js';
import {
  WATERMARK_SLOT_BYTES,
  checkWatermark,
  decodeWatermark,
  encodeWatermark,
  newestWatermark,
  type Watermark,
} from './watermark.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;
type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

const utf8 = new TextEncoder();
const K_VERSION = utf8.encode('v');
const K_HARD = utf8.encode('h');
const K_SNAP = utf8.encode('s');
const K_SEQ = utf8.encode('q');
export const WATERMARK_FILE = 'watermark';
/** The watermark reaches the disk at most this long after the page cache (power loss). */
const WATERMARK_SYNC_MS = 1000;
const L = 0x6c; // 'l'
const ENTRY_RANGE = { gt: Uint8Array.of(L), lt: Uint8Array.of(L + 1) };

export const LEVEL_SUBDIR = 'level';

export function entryKey(index: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = L;
  new DataView(k.buffer).setBigUint64(1, BigInt(index));
  return k;
}

function keyIndex(k: Uint8Array): number | null {
  if (k.length !== 9 || k[0] !== L) return null;
  const n = new DataView(k.buffer, k.byteOffset, 9).getBigUint64(1);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : null;
}

const metaKey = (name: string): Uint8Array => utf8.encode(`m:${name}`);

export interface LevelStats {
  /** db.batch / put calls with sync: true. */
  fsyncs: number;
  /** Commit-only batches written without sync (see mustSync in plan.ts). */
  unsyncedWrites: number;
  entriesWritten: number;
  bytesWritten: number;
}

export class LevelStorage implements RaftStorage {
  readonly stats: LevelStats = { fsyncs: 0, unsyncedWrites: 0, entriesWritten: 0, bytesWritten: 0 };
  private tail: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private closed = false;
  private watermarkSync: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    /** Bounds once every queued write has landed; the next persist plans on these. */
    private plannedBounds: LogBounds,
    /** Sequence number of the last planned synced batch. */
    private plannedSeq: number,
    /** Hard state as of the last planned batch, and whether it awaits a sync. */
    private plannedSync: SyncState,
    /** The watermark file, open for the life of the store. */
    private readonly watermarkFd: number,
    /**
     * The snapshot record as open() read it, for the first load() if nothing
     * was written since (a million sequences are 20 MB: read and checked
     * once, not twice); undefined once used or stale.
     */
    private openedSnapshot: Snapshot | null | undefined,
  ) {}

  static async open(dir: string): Promise<LevelStorage> {
    await mkdir(dir, { recursive: true });
    // Before the engine reads a table (it does not check their checksums),
    // unless a live process holds the directory (the open below says so).
    if (livePidHolder(dir) === null) {
      const damaged = checkTables(join(dir, LEVEL_SUBDIR));
      if (damaged !== null) {
        throw new StorageCorruptError(
          dir,
          null,
          `LevelDB table ${damaged.file} is damaged at byte ${damaged.offset}: ${damaged.reason}`,
        );
      }
    }
    const db: Db = new ClassicLevel(join(dir, LEVEL_SUBDIR), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    try {
      await db.open();
    } catch (e) {
      if (isLocked(e)) throw new DataDirInUseError(dir, livePidHolder(dir));
      throw openError(dir, e);
    }
    try {
      writePidFile(dir);
      await checkFormat(dir, db);
      const { bounds, hardState, snapshot } = await readBounds(dir, db);
      const seq = await readSeq(dir, db);
      // Read-write, created if missing, and NOT append: on Linux pwrite on an
      // O_APPEND descriptor ignores the offset, and the slots must be rewritten in place.
      const fd = openSync(join(dir, WATERMARK_FILE), constants.O_RDWR | constants.O_CREAT, 0o644);
      return new LevelStorage(dir, db, bounds, seq, { hardState, unsynced: false }, fd, snapshot);
    } catch (e) {
      removePidFile(dir);
      await db.close();
      throw engineError(dir, e);
    }
  }

  async load(): Promise<InitialState | null> {
    try {
      return await this.loadState();
    } catch (e) {
      throw engineError(this.dir, e);
    }
  }

  private async loadState(): Promise<InitialState | null> {
    await this.settled();
    const dir = this.dir;
    const opened = this.openedSnapshot;
    this.openedSnapshot = undefined;
    const snapRaw = opened === undefined ? await this.db.get(K_SNAP) : undefined;
    const snapshot =
      opened !== undefined
        ? opened
        : snapRaw
          ? decodeOr(dir, null, 'snapshot record', () => decodeSnapshot(snapRaw))
          : null;
    const entries: Entry[] = [];
    for await (const [k, v] of this.db.iterator(ENTRY_RANGE)) {
      const index = keyIndex(k);
      if (index === null)
        throw new StorageCorruptError(dir, null, `bad log key ${Buffer.from(k).toString('hex')}`);
      const e = decodeOr(dir, index, 'log entry', () => decodeEntry(v));
      if (e.index !== index)
        throw new StorageCorruptError(dir, index, `record holds entry ${e.index}`);
      entries.push(e);
    }
    const hardRaw = await this.db.get(K_HARD);
    const hardState = hardRaw
      ? decodeOr(dir, null, 'hard state record', () => decodeHardState(hardRaw))
      : null;
    const state = assembleInitialState(dir, { snapshot, hardState, entries });
    checkWatermark(
      dir,
      { seq: await readSeq(dir, this.db), hardState, lastIndex: this.plannedBounds.lastIndex },
      this.readWatermark(),
    );
    return state;
  }

  /** The newest intact slot of the watermark file, or null (none written yet). */
  private readWatermark(): Watermark | null {
    const buf = new Uint8Array(2 * WATERMARK_SLOT_BYTES);
    const n = readSync(this.watermarkFd, buf, 0, buf.length, 0);
    const slot = (i: number): Watermark | null =>
      n >= (i + 1) * WATERMARK_SLOT_BYTES
        ? decodeWatermark(buf.subarray(i * WATERMARK_SLOT_BYTES, (i + 1) * WATERMARK_SLOT_BYTES))
        : null;
    return newestWatermark(slot(0), slot(1));
  }

  /**
   * Records that batch `mark.seq` is durable: one write to the page cache,
   * into the slot the previous batch did not use, so a torn write leaves the
   * other slot whole. Synced lazily (see WATERMARK_SYNC_MS).
   */
  private writeWatermark(mark: Watermark): void {
    writeSync(
      this.watermarkFd,
      encodeWatermark(mark),
      0,
      WATERMARK_SLOT_BYTES,
      (mark.seq % 2) * WATERMARK_SLOT_BYTES,
    );
    this.watermarkSync ??= setTimeout(() => {
      this.watermarkSync = null;
      // A failed sync only weakens the check after a power loss; never fatal.
      fdatasync(this.watermarkFd, () => {});
    }, WATERMARK_SYNC_MS);
  }

  persist(batches: PersistBatch[]): Promise<void> {
    let ops: Op[];
    let sync: boolean;
    let entries = 0;
    try {
      this.checkUsable();
      const plan = planPersist(this.plannedBounds, batches);
      const how = planSync(plan.ops, this.plannedSync);
      sync = how.sync;
      ops = [];
      // The batch is atomic, so only the last hard state and the last snapshot
      // of a merged persist can ever be observed: skip encoding the others.
      let lastHard = -1;
      let lastSnap = -1;
      how.ops.forEach((o, n) => {
        if (o.op === 'hardState') lastHard = n;
        if (o.op === 'snapshot') lastSnap = n;
      });
      for (const [n, o] of how.ops.entries()) {
        switch (o.op) {
          case 'snapshot':
            if (n === lastSnap)
              ops.push({ type: 'put', key: K_SNAP, value: encodeSnapshot(o.snapshot) });
            break;
          case 'delete':
            for (let i = o.from; i <= o.to; i++) ops.push({ type: 'del', key: entryKey(i) });
            break;
          case 'entries':
            for (const e of o.entries)
              ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
            entries += o.entries.length;
            break;
          case 'hardState':
            if (n === lastHard)
              ops.push({ type: 'put', key: K_HARD, value: encodeHardState(o.hardState) });
            break;
        }
      }
      this.plannedBounds = plan.bounds;
      this.plannedSync = how.state;
    } catch (e) {
      return Promise.reject(e);
    }
    if (ops.length === 0) return this.settled();
    const count = (): void => {
      this.stats.entriesWritten += entries;
      for (const o of ops) if (o.type === 'put') this.stats.bytesWritten += o.value.length;
    };
    if (!sync) {
      // Commit-only: no sequence number, no watermark (see plan.ts).
      return this.write(false, async () => {
        await this.db.batch(ops, { sync: false });
        count();
      });
    }
    const mark: Watermark = {
      seq: ++this.plannedSeq,
      hardState: { ...(this.plannedSync.hardState ?? ZERO_HARD_STATE) },
      lastIndex: this.plannedBounds.lastIndex,
    };
    ops.push({ type: 'put', key: K_SEQ, value: u64(mark.seq) });
    return this.write(true, async () => {
      await this.db.batch(ops, { sync: true });
      this.writeWatermark(mark);
      count();
    });
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    this.checkUsable();
    const raw = await this.db.get(metaKey(key));
    return raw ? decodeOr(this.dir, null, `meta record ${key}`, () => decodeBlob(raw)) : null;
  }

  setMeta(key: string, value: Uint8Array): Promise<void> {
    try {
      this.checkUsable();
    } catch (e) {
      return Promise.reject(e);
    }
    const record = encodeBlob(value);
    return this.write(true, () => this.db.put(metaKey(key), record, { sync: true }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    if (this.watermarkSync !== null) clearTimeout(this.watermarkSync);
    try {
      fsyncSync(this.watermarkFd);
    } finally {
      closeSync(this.watermarkFd);
    }
    // Remove the pid file while still holding LevelDB's lock, so that a
    // process opening the dir right after cannot have its own file removed.
    removePidFile(this.dir);
    await this.db.close();
  }

  /** Runs a write after every earlier one; a failure poisons the handle. */
  private write(sync: boolean, fn: () => Promise<void>): Promise<void> {
    this.openedSnapshot = undefined;
    const run = this.tail.then(async () => {
      if (this.failed !== null) throw new StorageClosedError('failed');
      if (sync) this.stats.fsyncs++;
      else this.stats.unsyncedWrites++;
      await fn();
    });
    this.tail = run.catch((e: unknown) => {
      this.failed ??= e;
    });
    return run;
  }

  private async settled(): Promise<void> {
    await this.tail;
    this.checkUsable();
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageClosedError('closed');
    if (this.failed !== null) throw new StorageClosedError('failed');
  }
}

function isLocked(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return err.code === 'LEVEL_LOCKED' || err.cause?.code === 'LEVEL_LOCKED';
}

/** Maps codec failures to errors naming the directory and the record. */
function decodeOr<T>(dir: string, index: number | null, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    if (e.kind === 'version')
      throw new UnsupportedFormatError(dir, 'record', e.version!, RECORD_FORMAT);
    throw new StorageCorruptError(dir, index, index === null ? `${what}: ${e.message}` : e.message);
  }
}

/** Stamps an empty directory with DIR_FORMAT; refuses newer or unstamped ones. */
async function checkFormat(dir: string, db: Db): Promise<void> {
  const raw = await db.get(K_VERSION);
  if (raw === undefined) {
    const any = await db.keys({ limit: 1 }).all();
    if (any.length > 0)
      throw new StorageCorruptError(dir, null, 'format version record is missing');
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, DIR_FORMAT);
    await db.put(K_VERSION, v, { sync: true });
    return;
  }
  if (raw.length !== 4)
    throw new StorageCorruptError(dir, null, 'format version record is malformed');
  const version = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
  if (version > DIR_FORMAT) throw new UnsupportedFormatError(dir, 'directory', version, DIR_FORMAT);
  if (version < 1) throw new StorageCorruptError(dir, null, `unknown directory format ${version}`);
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** The batch sequence number (0 in a directory written before there was one). */
async function readSeq(dir: string, db: Db): Promise<number> {
  const raw = await db.get(K_SEQ);
  if (raw === undefined) return 0;
  if (raw.length !== 8)
    throw new StorageCorruptError(dir, null, 'batch sequence record is malformed');
  return Number(new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0));
}

/**
 * What persist needs to plan: snapshot index, last entry index, commit (and
 * the hard state, for the watermark). No full log read.
 */
async function readBounds(
  dir: string,
  db: Db,
): Promise<{ bounds: LogBounds; hardState: HardState | null; snapshot: Snapshot | null }> {
  const snapRaw = await db.get(K_SNAP);
  const snap: Snapshot | null = snapRaw
    ? decodeOr(dir, null, 'snapshot record', () => decodeSnapshot(snapRaw))
    : null;
  const hardRaw = await db.get(K_HARD);
  const hard: HardState | null = hardRaw
    ? decodeOr(dir, null, 'hard state record', () => decodeHardState(hardRaw))
    : null;
  const [lastKey] = await db.keys({ ...ENTRY_RANGE, reverse: true, limit: 1 }).all();
  const snapshotIndex = snap?.meta.index ?? 0;
  const last = lastKey ? keyIndex(lastKey) : null;
  return {
    bounds: {
      snapshotIndex,
      lastIndex: Math.max(snapshotIndex, last ?? 0),
      commit: hard?.commit ?? 0,
    },
    hardState: hard,
    snapshot: snap,
  };
}

/**
 * An engine error that says the data is damaged (LevelDB "Corruption: ...",
 * which names no file) as a StorageCorruptError naming the directory; any
 * other error as it is.
 */
function engineError(dir: string, e: unknown): unknown {
  if (e instanceof StorageCorruptError) return e;
  const err = e as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  } | null;
  const text = [err?.message, err?.cause?.message].filter((m) => typeof m === 'string').join(': ');
  const corrupt = err?.code === 'LEVEL_CORRUPTION' || err?.cause?.code === 'LEVEL_CORRUPTION';
  if (corrupt || /\bCorruption:/.test(text)) {
    return new StorageCorruptError(dir, null, `LevelDB: ${text}`);
  }
  return e;
}

/**
 * Why the engine did not open, naming the directory: damaged (see
 * engineError), or another reason LevelDB gives only in the cause (a
 * manifest named in CURRENT that is missing, permissions).
 */
function openError(dir: string, e: unknown): unknown {
  const mapped = engineError(dir, e);
  if (mapped !== e) return mapped;
  const cause = (e as { cause?: { message?: unknown } } | null)?.cause?.message;
  if (typeof cause !== 'string') return e;
  return new StorageCorruptError(
    dir,
    null,
    `LevelDB cannot open ${join(dir, LEVEL_SUBDIR)}: ${cause}`,
  );
}
