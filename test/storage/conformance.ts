// The RaftStorage conformance suite, run against every implementation (as
// abstract-level's and js-libp2p's interface suites are). Each case states one
// rule of the persist/load contract in src/storage/storage.ts.
//
// The crash case runs the crash workload (crash-workload.ts) and kills it in
// the middle, the way each implementation can be killed: MemoryStorage
// in-process (crash()), LevelStorage as a child process with kill -9.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RaftStorage } from '../../src/storage/storage.js';
import {
  compactedAt,
  decodeMeta,
  ends,
  META_KEY,
  persistCall,
  type Durable,
} from './crash-workload.js';
import { batch, bytes, confEntry, entries, entry, hs, indexes, snap } from './fixtures.js';

export interface StorageHarness {
  /** The first handle on a fresh, empty store. */
  open(): Promise<RaftStorage>;
  /** Closes the current handle and opens a new one on the same store. */
  reopen(): Promise<RaftStorage>;
  /** Release everything (close handles, remove directories). */
  cleanup?(): Promise<void>;
}

/**
 * Runs the crash workload on a fresh store, kills the writer once it has
 * reported `after` persists durable, and opens the store again.
 */
export type CrashRun = (after: number) => Promise<{
  /** What the writer had reported durable when it was killed. */
  durable: Durable;
  /** The store, opened again. */
  store: RaftStorage;
  cleanup(): Promise<void>;
}>;

/** Persists reported durable before the crash: enough that compactions and metadata are in it. */
const CRASH_AFTER = 200;

export function storageConformance(
  name: string,
  factory: () => Promise<StorageHarness>,
  crash: CrashRun,
): void {
  describe(`RaftStorage conformance: ${name}`, () => {
    let h: StorageHarness;
    let s: RaftStorage;

    beforeEach(async () => {
      h = await factory();
      s = await h.open();
    });
    afterEach(async () => {
      await h.cleanup?.();
    });

    /** load() on this handle and on a reopened one must agree. */
    async function loadBoth() {
      const before = await s.load();
      s = await h.reopen();
      const after = await s.load();
      expect(after).toEqual(before);
      return after;
    }

    it('loads null from an empty store, even with metadata in it', async () => {
      expect(await s.load()).toBeNull();
      await s.setMeta('node-id', bytes(1));
      expect(await s.load()).toBeNull();
      s = await h.reopen();
      expect(await s.load()).toBeNull();
    });

    it('appends entries (normal and conf, with context bytes) and loads them back', async () => {
      const es = [
        entry(1, 1, new Uint8Array(0)),
        confEntry(2, 1, 'n4', '127.0.0.1:7004'),
        ...entries(3, 5, 2),
      ];
      await s.persist([batch({ entries: es, hardState: hs(2, 'n1', 3) })]);
      const st = await loadBoth();
      expect(st?.entries).toEqual(es);
      expect(st?.hardState).toEqual(hs(2, 'n1', 3));
      expect(st?.snapshot.meta.index).toBe(0);
      await s.persist([batch({ entries: entries(6, 7, 2) })]);
      expect(indexes((await loadBoth())!.entries)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('overwriting from the middle truncates the old suffix', async () => {
      await s.persist([batch({ entries: entries(1, 5, 1) })]);
      await s.persist([batch({ entries: entries(3, 4, 2) })]);
      const st = await loadBoth();
      expect(st?.entries.map((e) => [e.index, e.term])).toEqual([
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ]);
    });

    it('once close() has begun, a write is refused and lands nowhere', async () => {
      await s.persist([batch({ entries: entries(1, 2, 1) })]);
      const inFlight = s.persist([batch({ entries: entries(3, 3, 1) })]);
      const closing = s.close();
      const late = s.persist([batch({ entries: entries(4, 4, 1) })]);
      await expect(late).rejects.toThrow();
      await inFlight;
      await closing;
      s = await h.reopen();
      expect(indexes((await s.load())!.entries)).toEqual([1, 2, 3]);
    });

    it('round-trips the hard state, the latest one winning', async () => {
      await s.persist([batch({ hardState: hs(1, null, 0) })]);
      expect((await loadBoth())?.hardState).toEqual(hs(1, null, 0));
      await s.persist([batch({ hardState: hs(3, 'n2', 0) })]);
      expect((await loadBoth())?.hardState).toEqual(hs(3, 'n2', 0));
      await s.persist([batch({ entries: entries(1, 2, 3) }), batch({ hardState: hs(4, '', 2) })]);
      expect((await loadBoth())?.hardState).toEqual(hs(4, '', 2));
    });

    it('compaction stores the snapshot and drops the prefix it covers', async () => {
      await s.persist([batch({ entries: entries(1, 10, 1), hardState: hs(1, 'n1', 8) })]);
      await s.persist([batch({ compacted: snap(6, 1) })]);
      const st = await loadBoth();
      expect(st?.snapshot).toEqual(snap(6, 1));
      expect(indexes(st!.entries)).toEqual([7, 8, 9, 10]);
      // A compaction at or below the stored snapshot changes nothing.
      await s.persist([batch({ compacted: snap(4, 1) })]);
      expect((await loadBoth())?.snapshot.meta.index).toBe(6);
    });

    it('installing a snapshot drops every entry, before or after its index', async () => {
      await s.persist([batch({ entries: entries(1, 10, 1), hardState: hs(1, null, 3) })]);
      await s.persist([batch({ snapshot: snap(5, 1), hardState: hs(2, null, 5) })]);
      let st = await loadBoth();
      expect(st?.snapshot).toEqual(snap(5, 1));
      expect(st?.entries).toEqual([]);
      await s.persist([batch({ snapshot: snap(20, 2) }), batch({ entries: entries(21, 22, 2) })]);
      st = await loadBoth();
      expect(st?.snapshot.meta.index).toBe(20);
      expect(indexes(st!.entries)).toEqual([21, 22]);
    });

    it('applies several batches of one persist in order', async () => {
      await s.persist([
        batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 0) }),
        batch({ entries: entries(3, 4, 2), hardState: hs(2, 'n2', 2) }),
        batch({ compacted: snap(2, 1), entries: entries(5, 5, 2) }),
        batch({ hardState: hs(2, 'n2', 4) }),
      ]);
      const st = await loadBoth();
      expect(st?.snapshot).toEqual(snap(2, 1));
      expect(st?.entries.map((e) => [e.index, e.term])).toEqual([
        [3, 2],
        [4, 2],
        [5, 2],
      ]);
      expect(st?.hardState).toEqual(hs(2, 'n2', 4));
    });

    it('round-trips metadata', async () => {
      expect(await s.getMeta('missing')).toBeNull();
      await s.setMeta('node-id', new TextEncoder().encode('n1'));
      await s.setMeta('bootstrap', bytes(0, 255, 0));
      await s.setMeta('bootstrap', bytes(7));
      s = await h.reopen();
      expect(new TextDecoder().decode((await s.getMeta('node-id'))!)).toBe('n1');
      expect(await s.getMeta('bootstrap')).toEqual(bytes(7));
    });

    it('reopening returns the same state', async () => {
      await s.persist([batch({ entries: entries(1, 30, 1), hardState: hs(1, 'n1', 20) })]);
      await s.persist([
        batch({ compacted: snap(10, 1), entries: entries(25, 40, 2), hardState: hs(2, 'n3', 30) }),
      ]);
      await s.setMeta('k', bytes(1, 2));
      const before = await s.load();
      for (let i = 0; i < 3; i++) {
        s = await h.reopen();
        expect(await s.load()).toEqual(before);
      }
      expect(await s.getMeta('k')).toEqual(bytes(1, 2));
    });

    it('keeps what it was given, not what the caller later does to its buffers', async () => {
      const data = bytes(1, 2, 3);
      const p = s.persist([batch({ entries: [entry(1, 1, data)] })]);
      data[0] = 99;
      await p;
      expect((await loadBoth())?.entries[0]?.data).toEqual(bytes(1, 2, 3));
    });

    it('refuses a persist that would leave an unloadable state, writing nothing', async () => {
      await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, null, 1) })]);
      const before = await s.load();
      await expect(s.persist([batch({ entries: entries(5, 6, 1) })])).rejects.toThrow(
        /log ends at 3/,
      );
      await expect(s.persist([batch({ hardState: hs(1, null, 9) })])).rejects.toThrow(/commit 9/);
      // The first batch is valid on its own; the whole call must still write nothing.
      await expect(
        s.persist([batch({ entries: entries(4, 4, 1) }), batch({ entries: [entry(6, 1)] })]),
      ).rejects.toThrow(/refusing to persist/);
      await expect(s.persist([batch({ entries: [entry(2, 1), entry(4, 1)] })])).rejects.toThrow(
        /follows/,
      );
      expect(await loadBoth()).toEqual(before);
      await s.persist([batch({ entries: entries(4, 4, 1) })]);
      expect(indexes((await s.load())!.entries)).toEqual([1, 2, 3, 4]);
    });
  });

  describe(`RaftStorage crash conformance: ${name}`, () => {
    it('after kill -9 in the middle of writing, keeps every write reported durable, each one whole', async () => {
      const { durable, store, cleanup } = await crash(CRASH_AFTER);
      try {
        expect(durable.persists).toBeGreaterThanOrEqual(CRASH_AFTER);
        const st = await store.load();
        expect(st).not.toBeNull();
        // The state after exactly some persist j, at or after the last one
        // reported: nothing reported is missing, and nothing is half there.
        const last = st!.entries.at(-1)?.index ?? st!.snapshot.meta.index;
        const j = ends.indexOf(last);
        const what = `log ends at ${last}: after persist ${j} (-1: inside one)`;
        expect(j, `${what}, ${durable.persists} reported durable`).toBeGreaterThanOrEqual(
          durable.persists,
        );
        console.log(`${name}: ${durable.persists} persists reported durable, ${j} on disk`);
        expect(st!.snapshot.meta.index).toBe(compactedAt(j));
        expect(st!.entries).toEqual(entries(compactedAt(j) + 1, last, 1));
        expect(st!.hardState).toEqual(hs(1, 'n1', last));
        const meta = decodeMeta(await store.getMeta(META_KEY));
        expect(meta).toBeGreaterThanOrEqual(durable.meta);
        expect(meta).toBeLessThanOrEqual(j);
        expect(meta % 10).toBe(0);
        // The reopened store carries on from there.
        await store.persist(persistCall(j + 1));
        expect((await store.load())!.entries.at(-1)!.index).toBe(ends[j + 1]);
      } finally {
        await cleanup();
      }
    });
  });
}
