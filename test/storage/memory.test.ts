import { describe, expect, it } from 'vitest';
import { StorageClosedError } from '../../src/storage/errors.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { storageConformance } from './conformance.js';
import { noteReport, runWorkload } from './crash-workload.js';
import { batch, bytes, entries, hs, indexes } from './fixtures.js';

storageConformance(
  'MemoryStorage',
  async () => {
    let current = MemoryStorage.create({ name: 'mem' });
    return {
      open: async () => current,
      reopen: async () => {
        await current.close();
        current = current.reopen();
        return current;
      },
    };
  },
  // The crash: once the writer reported `after` persists, and has issued its
  // next write (it does so before the test continues), crash() drops it.
  async (after) => {
    const s = MemoryStorage.create({ name: 'crash' });
    const durable = { persists: 0, meta: 0 };
    const reached = new Promise<void>((resolve) => {
      void runWorkload(s, (r) => {
        noteReport(durable, r);
        if (durable.persists >= after) resolve();
      });
    });
    await reached;
    expect(s.pendingWrites).toBe(1); // the write the crash drops
    s.crash();
    return { durable: { ...durable }, store: s.reopen(), cleanup: async () => {} };
  },
);

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('MemoryStorage crash semantics', () => {
  it('resolves persist on a later macrotask, not synchronously', async () => {
    const s = MemoryStorage.create();
    let done = false;
    const p = s.persist([batch({ entries: entries(1, 1, 1) })]).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    expect(s.pendingWrites).toBe(1);
    await p;
    expect(s.pendingWrites).toBe(0);
  });

  it('never settles a write dropped by a crash, and the dead handle refuses everything', async () => {
    const s = MemoryStorage.create();
    let settled = false;
    s.persist([batch({ entries: entries(1, 1, 1) })]).then(
      () => (settled = true),
      () => (settled = true),
    );
    s.crash();
    await tick();
    await tick();
    expect(settled).toBe(false);
    await expect(s.load()).rejects.toBeInstanceOf(StorageClosedError);
    await expect(s.persist([])).rejects.toThrow(/crashed/);
    await expect(s.setMeta('a', bytes(1))).rejects.toThrow(/crashed/);
    expect(() => s.loadSync()).toThrow(/crashed/);
    expect(s.reopen().loadSync()).toBeNull();
  });

  it('a crash keeps every resolved write and loses the unresolved ones (the strictest disk)', async () => {
    const s = MemoryStorage.create();
    await s.persist([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 2) })]);
    await s.setMeta('id', bytes(1));
    let resolved = false;
    void s.persist([batch({ entries: entries(4, 6, 1), hardState: hs(1, 'n1', 5) })]).then(() => {
      resolved = true;
    });
    void s.setMeta('id', bytes(2));
    s.crash();
    const t = s.reopen();
    const st = await t.load();
    expect(resolved).toBe(false);
    expect(indexes(st!.entries)).toEqual([1, 2, 3]);
    expect(st?.hardState).toEqual(hs(1, 'n1', 2));
    expect(await t.getMeta('id')).toEqual(bytes(1));
    // The restarted store carries on from the durable state.
    await t.persist([batch({ entries: entries(4, 4, 2) })]);
    expect(indexes((await t.load())!.entries)).toEqual([1, 2, 3, 4]);
  });

  it('reopen() of a still-open handle is a crash of it', async () => {
    const s = MemoryStorage.create();
    await s.persist([batch({ entries: entries(1, 2, 1) })]);
    void s.persist([batch({ entries: entries(3, 3, 1) })]);
    const t = s.reopen();
    await tick();
    expect(indexes(t.loadSync()!.entries)).toEqual([1, 2]);
    expect(() => s.loadSync()).toThrow(StorageClosedError);
  });

  it('lets a simulator decide when writes land, still in call order', async () => {
    const queued: (() => void)[] = [];
    const s = MemoryStorage.create({ schedule: (f) => queued.push(f) });
    const order: number[] = [];
    void s.persist([batch({ entries: entries(1, 1, 1) })]).then(() => order.push(1));
    void s.persist([batch({ entries: entries(2, 2, 1) })]).then(() => order.push(2));
    // Fire the completions in reverse: the writes still land first-come, first-served.
    queued[1]!();
    expect(s.reopen().loadSync()?.entries.length).toBe(1);
  });

  it('offers a synchronous API that is durable on return', () => {
    const s = MemoryStorage.create();
    s.persistSync([batch({ entries: entries(1, 3, 1), hardState: hs(1, 'n1', 2) })]);
    s.setMetaSync('id', bytes(9));
    s.crash();
    const t = s.reopen();
    expect(indexes(t.loadSync()!.entries)).toEqual([1, 2, 3]);
    expect(t.getMetaSync('id')).toEqual(bytes(9));
    // What load returns belongs to the caller: editing it cannot change the store.
    t.loadSync()!.entries[0]!.data[0] = 42;
    expect(t.loadSync()!.entries[0]!.data[0]).toBe(1);
  });

  it('refuses a synchronous write while async writes are in flight', async () => {
    const s = MemoryStorage.create();
    const p = s.persist([batch({ entries: entries(1, 1, 1) })]);
    expect(() => s.persistSync([batch({ entries: entries(2, 2, 1) })])).toThrow(/in flight/);
    await p;
    s.persistSync([batch({ entries: entries(2, 2, 1) })]);
    expect(indexes(s.loadSync()!.entries)).toEqual([1, 2]);
  });
});
