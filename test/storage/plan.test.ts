import { describe, expect, it } from 'vitest';
import { EMPTY_BOUNDS, planPersist } from '../../src/storage/plan.js';
import { batch, entries, hs, snap } from './fixtures.js';

// LevelStorage turns each `delete` into one `del` per key, so the plan must
// name exactly the keys that exist: stored entries are (snapshotIndex, lastIndex].
describe('planPersist', () => {
  const b = { snapshotIndex: 5, lastIndex: 10, commit: 7 };
  const deletes = (ops: ReturnType<typeof planPersist>['ops']) =>
    ops.flatMap((o) => (o.op === 'delete' ? [[o.from, o.to]] : []));

  it('deletes only the suffix beyond the overwriting entries', () => {
    const p = planPersist(b, [batch({ entries: entries(8, 8, 2) })]);
    expect(deletes(p.ops)).toEqual([[9, 10]]);
    expect(p.bounds).toEqual({ snapshotIndex: 5, lastIndex: 8, commit: 7 });
    expect(deletes(planPersist(b, [batch({ entries: entries(8, 12, 2) })]).ops)).toEqual([]);
  });

  it('deletes the covered prefix on compaction and everything on a snapshot install', () => {
    expect(deletes(planPersist(b, [batch({ compacted: snap(7, 1) })]).ops)).toEqual([[6, 7]]);
    expect(deletes(planPersist(b, [batch({ compacted: snap(12, 1) })]).ops)).toEqual([[6, 10]]);
    const p = planPersist(b, [batch({ snapshot: snap(8, 1) })]);
    expect(deletes(p.ops)).toEqual([[6, 10]]);
    expect(p.bounds).toEqual({ snapshotIndex: 8, lastIndex: 8, commit: 7 });
  });

  it('plans later batches on the bounds the earlier ones leave', () => {
    const p = planPersist(EMPTY_BOUNDS, [
      batch({ entries: entries(1, 4, 1) }),
      batch({ entries: entries(3, 3, 2), hardState: hs(2, null, 3) }),
      batch({ compacted: snap(2, 1) }),
    ]);
    expect(deletes(p.ops)).toEqual([
      [4, 4],
      [1, 2],
    ]);
    expect(p.bounds).toEqual({ snapshotIndex: 2, lastIndex: 3, commit: 3 });
  });

  it('refuses entries under the snapshot and commits beyond the log', () => {
    expect(() => planPersist(b, [batch({ entries: entries(5, 6, 1) })])).toThrow(
      /covered by the snapshot/,
    );
    expect(() => planPersist(b, [batch({ snapshot: snap(6, 1) })])).toThrow(/commit 7/);
  });
});
