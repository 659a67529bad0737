import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { RaftseqError } from '../../src/client/index.js';
import { checkHistory, formatReport, pairOperations } from './checker.js';
import type { Operation } from './checker.js';
import { History, fromJsonl, mergeHistories, toJsonl } from './history.js';
import type { Op } from './history.js';

const MS = 1_000_000n;

/** Builds histories by hand; times in ms. */
class H {
  readonly ops: Op[] = [];
  invoke(p: number, t: number, count = 1, sequence = 's'): this {
    this.ops.push({ process: p, type: 'invoke', f: 'next', sequence, count, time: BigInt(t) * MS });
    return this;
  }
  ok(p: number, t: number, first: bigint | number, count = 1, sequence = 's'): this {
    this.ops.push({
      process: p,
      type: 'ok',
      f: 'next',
      sequence,
      count,
      first: BigInt(first),
      time: BigInt(t) * MS,
    });
    return this;
  }
  info(p: number, t: number, count = 1, sequence = 's'): this {
    this.ops.push({
      process: p,
      type: 'info',
      f: 'next',
      sequence,
      count,
      time: BigInt(t) * MS,
      error: 'timeout',
    });
    return this;
  }
  fail(p: number, t: number, count = 1, sequence = 's'): this {
    this.ops.push({
      process: p,
      type: 'fail',
      f: 'next',
      sequence,
      count,
      time: BigInt(t) * MS,
      error: 'bad',
    });
    return this;
  }
}

// ---------------------------------------------------------------- broken checkers

type OkOperation = Operation & { first: bigint; last: bigint; completeTime: bigint };
const okOps = (history: readonly Op[]): OkOperation[] =>
  pairOperations(history).ops.filter((o) => o.type === 'ok') as OkOperation[];

/** BROKEN: compares each ok range only with its neighbour in order of `first`. */
function adjacentOnlyDuplicates(history: readonly Op[]): number {
  const ok = okOps(history);
  ok.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  let found = 0;
  for (let i = 1; i < ok.length; i++) {
    const prev = ok[i - 1] as OkOperation;
    const cur = ok[i] as OkOperation;
    if (prev.sequence === cur.sequence && cur.first <= prev.last) found++;
  }
  return found;
}

/** BROKEN: checks each op only against the op that completed last before it was invoked. */
function latestOnlyOrder(history: readonly Op[]): number {
  const ok = okOps(history);
  let found = 0;
  for (const b of ok) {
    let latest: OkOperation | null = null;
    for (const a of ok) {
      if (
        a.completeTime < b.invokeTime &&
        (latest === null || a.completeTime > latest.completeTime)
      ) {
        latest = a;
      }
    }
    if (latest !== null && b.first <= latest.last) found++;
  }
  return found;
}

// ---------------------------------------------------------------- brute force

/** O(n^2) reference: overlapping pairs and violating later ops, straight from the definitions. */
function bruteForce(history: readonly Op[]): { pairs: number; violations: number } {
  const ok = okOps(history);
  let pairs = 0;
  let violations = 0;
  for (let i = 0; i < ok.length; i++) {
    const a = ok[i] as OkOperation;
    for (let j = i + 1; j < ok.length; j++) {
      const b = ok[j] as OkOperation;
      if (a.sequence === b.sequence && a.first <= b.last && b.first <= a.last) pairs++;
    }
  }
  for (const b of ok) {
    if (
      ok.some(
        (a) => a.sequence === b.sequence && a.completeTime < b.invokeTime && b.first <= a.last,
      )
    ) {
      violations++;
    }
  }
  return { pairs, violations };
}

/**
 * A random concurrent history of a correct server: each op takes its range
 * from a shared counter at a random moment between its invocation and its
 * completion; some ops end `info` (their values are consumed but never seen).
 */
function simulate(
  seed: number,
  opts: { processes: number; ops: number; sequences: string[] },
): Op[] {
  let x = seed >>> 0 || 1;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  type Ev = { t: number; order: number; run: () => void };
  const events: Ev[] = [];
  const history: Op[] = [];
  const counters = new Map<string, bigint>();
  let order = 0;
  const freeAt = new Array<number>(opts.processes).fill(0);
  for (let n = 0; n < opts.ops; n++) {
    const p = n % opts.processes;
    const invokeAt = (freeAt[p] as number) + Math.floor(rnd() * 5);
    const takeAt = invokeAt + Math.floor(rnd() * 20);
    const completeAt = takeAt + Math.floor(rnd() * 20);
    freeAt[p] = completeAt + 1;
    const sequence = opts.sequences[Math.floor(rnd() * opts.sequences.length)] as string;
    const count = 1 + Math.floor(rnd() * 4);
    const outcome = rnd() < 0.1 ? 'info' : 'ok';
    let first = 0n;
    events.push({
      t: invokeAt,
      order: order++,
      run: () =>
        history.push({
          process: p,
          type: 'invoke',
          f: 'next',
          sequence,
          count,
          time: BigInt(invokeAt) * MS,
        }),
    });
    events.push({
      t: takeAt,
      order: order++,
      run: () => {
        first = counters.get(sequence) ?? 1n;
        counters.set(sequence, first + BigInt(count));
      },
    });
    events.push({
      t: completeAt,
      order: order++,
      run: () =>
        history.push(
          outcome === 'ok'
            ? {
                process: p,
                type: 'ok',
                f: 'next',
                sequence,
                count,
                first,
                time: BigInt(completeAt) * MS,
              }
            : {
                process: p,
                type: 'info',
                f: 'next',
                sequence,
                count,
                time: BigInt(completeAt) * MS,
              },
        ),
    });
  }
  events.sort((a, b) => a.t - b.t || a.order - b.order);
  for (const e of events) e.run();
  return history;
}

describe('checkHistory', () => {
  it('catches a planted duplicate and reports both ops', () => {
    const h = new H()
      .invoke(0, 0, 10)
      .invoke(1, 1)
      .ok(0, 5, 1, 10) // 1..10
      .ok(1, 6, 5) // 5, concurrent with process 0: a duplicate, not an order violation
      .invoke(0, 7, 10)
      .ok(0, 8, 11, 10);
    const r = checkHistory(h.ops);
    expect(r.valid).toBe(false);
    expect(r.duplicatePairs).toBe(1);
    expect(r.duplicatedValues).toBe(1n);
    expect(r.orderViolationCount).toBe(0);
    const d = r.duplicates[0];
    expect(d?.overlap).toEqual([5n, 5n]);
    expect([d?.a.process, d?.b.process].sort()).toEqual([0, 1]);
    expect(formatReport(r)).toMatch(/s: 5\.\.5 in \[process 0, op 0, ok 1\.\.10\] and \[process 1/);
  });

  it('catches a planted real-time order violation', () => {
    const h = new H()
      .invoke(0, 0, 10)
      .ok(0, 1, 10, 10) // 10..19
      .invoke(1, 2)
      .ok(1, 3, 5); // invoked after 10..19 completed, yet 5 < 10
    const r = checkHistory(h.ops);
    expect(r.valid).toBe(false);
    expect(r.duplicatePairs).toBe(0);
    expect(r.orderViolationCount).toBe(1);
    expect(r.orderViolations[0]?.earlier.first).toBe(10n);
    expect(r.orderViolations[0]?.later.first).toBe(5n);
  });

  it('passes clean concurrent histories', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const history = simulate(seed, { processes: 8, ops: 400, sequences: ['a', 'b', 'c'] });
      const r = checkHistory(history);
      expect(r.problems).toEqual([]);
      expect(r.duplicatePairs).toBe(0);
      expect(r.orderViolationCount).toBe(0);
      expect(r.valid).toBe(true);
      expect(r.counts.ok + r.counts.info).toBe(400);
      // Gaps only come from info ops, never more than they asked for.
      for (const s of r.sequences) expect(s.skipped).toBeLessThanOrEqual(s.indeterminateValues);
    }
  });

  it('accepts ok ops overlapping info ops in time, and counts their values as gaps only', () => {
    const h = new H()
      .invoke(0, 0, 5)
      .ok(0, 1, 1, 5) // 1..5
      .invoke(1, 2, 5) // indeterminate: may have consumed 6..10
      .invoke(0, 3, 5)
      .ok(0, 4, 11, 5) // 11..15, while the info op was outstanding
      .info(1, 9, 5)
      .invoke(2, 10, 3); // never completes
    const r = checkHistory(h.ops);
    expect(r.valid).toBe(true);
    expect(r.counts).toEqual({ invoke: 4, ok: 2, fail: 0, info: 1 + 1, incomplete: 1 });
    expect(r.gaps).toEqual([{ sequence: 's', from: 6n, to: 10n }]);
    expect(r.skippedValues).toBe(5n);
    expect(r.sequences[0]?.indeterminateValues).toBe(5n + 3n);
  });

  it('keeps sequences apart', () => {
    const h = new H()
      .invoke(0, 0, 1, 'a')
      .ok(0, 1, 1, 1, 'a')
      .invoke(0, 2, 1, 'b')
      .ok(0, 3, 1, 1, 'b'); // value 1 of another sequence: fine, and not "lower"
    expect(checkHistory(h.ops).valid).toBe(true);
  });

  it('finds a duplicate that an adjacent-ranges-only checker misses', () => {
    // 1..100 overlaps both 10 and 50; sorted by first, 50's neighbour is 10.
    const h = new H()
      .invoke(0, 0, 100)
      .invoke(1, 0)
      .invoke(2, 0)
      .ok(0, 1, 1, 100)
      .ok(1, 1, 10)
      .ok(2, 1, 50);
    expect(adjacentOnlyDuplicates(h.ops)).toBe(1);
    const r = checkHistory(h.ops);
    expect(r.duplicatePairs).toBe(2);
    expect(r.duplicates.map((d) => d.overlap)).toEqual([
      [10n, 10n],
      [50n, 50n],
    ]);
  });

  it('finds an order violation that a latest-completion-only checker misses', () => {
    // A1 (100) completes, then A2 (50, concurrent with A1) completes; B gets 60:
    // greater than the latest completion, but not than A1.
    const h = new H()
      .invoke(0, 0)
      .invoke(1, 0)
      .ok(0, 1, 100)
      .ok(1, 2, 50)
      .invoke(2, 3)
      .ok(2, 4, 60);
    expect(latestOnlyOrder(h.ops)).toBe(0);
    const r = checkHistory(h.ops);
    expect(r.orderViolationCount).toBe(1);
    expect(r.orderViolations[0]?.earlier.first).toBe(100n);
  });

  it('agrees with a brute-force checker on random faulty histories', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            start: fc.integer({ min: 0, max: 50 }),
            len: fc.integer({ min: 0, max: 20 }),
            first: fc.integer({ min: 1, max: 60 }),
            count: fc.integer({ min: 1, max: 5 }),
            type: fc.constantFrom('ok', 'ok', 'ok', 'info', 'fail'),
            sequence: fc.constantFrom('a', 'b'),
          }),
          { maxLength: 40 },
        ),
        (specs) => {
          // Every op its own process: arbitrary overlaps in time.
          const events: { t: number; k: number; op: Op }[] = [];
          specs.forEach((s, p) => {
            const base = { process: p, f: 'next' as const, sequence: s.sequence, count: s.count };
            events.push({
              t: s.start,
              k: 0,
              op: { ...base, type: 'invoke', time: BigInt(s.start) * MS },
            });
            const end = BigInt(s.start + s.len) * MS + 1n; // completes after it was invoked
            const done: Op =
              s.type === 'ok'
                ? { ...base, type: 'ok', first: BigInt(s.first), time: end }
                : { ...base, type: s.type, time: end };
            events.push({ t: s.start + s.len + 0.5, k: 1, op: done });
          });
          events.sort((a, b) => a.t - b.t || a.k - b.k);
          const history = events.map((e) => e.op);
          const r = checkHistory(history, { maxReports: 10_000 });
          const ref = bruteForce(history);
          expect(r.duplicatePairs).toBe(ref.pairs);
          expect(r.duplicates).toHaveLength(ref.pairs);
          expect(r.orderViolationCount).toBe(ref.violations);
          expect(r.valid).toBe(ref.pairs === 0 && ref.violations === 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('measures the longest unavailability and latency percentiles', () => {
    const h = new H()
      .invoke(0, 0)
      .ok(0, 10, 1)
      .invoke(0, 11)
      .ok(0, 20, 2) // last ok before the outage, at 20 ms
      .invoke(0, 21)
      .info(0, 300)
      .invoke(0, 301)
      .fail(0, 302)
      .invoke(0, 303)
      .ok(0, 520, 100) // first ok after it: waiting since 21 ms
      .invoke(0, 600) // idle 520..600: nothing outstanding, not unavailability
      .ok(0, 605, 101);
    const r = checkHistory(h.ops);
    expect(r.valid).toBe(true);
    expect(r.longestUnavailability).toEqual({ fromNs: 21n * MS, toNs: 520n * MS, ms: 499 });
    expect(r.latency.ok).toMatchObject({ n: 4, p50: 9, max: 217 });
    expect(r.counts).toMatchObject({ ok: 4, info: 1, fail: 1 });
  });

  it('reports malformed histories', () => {
    const h = new H().ok(0, 1, 1).invoke(1, 2).invoke(1, 3).ok(1, 4, 0);
    const r = checkHistory(h.ops);
    expect(r.valid).toBe(false);
    expect(r.problems).toHaveLength(3);
  });
});

describe('History', () => {
  it('round-trips JSONL with values above 2^53', () => {
    const big = (1n << 63n) - 1n;
    const h = new History(
      null,
      (() => {
        let t = 10n ** 18n;
        return () => t++;
      })(),
    );
    h.invoke('w1', 'x', 2);
    h.ok('w1', 'x', { first: big - 1n, count: 2 });
    h.invoke(7, 'y');
    h.info(7, 'y', 1, new RaftseqError(status.UNAVAILABLE, 'no leader'));
    const text = h.toJsonl();
    expect(text.split('\n')[1]).toContain('"first":"9223372036854775806"');
    const back = fromJsonl(text);
    expect(back).toEqual(h.ops);
    expect(toJsonl(back)).toBe(text);
    expect(() => fromJsonl('{"process":1}\n')).toThrow(/line 1/);
  });

  it('records ok, fail and info outcomes of a Next', async () => {
    const h = new History();
    await h.record(1, 's', 3, async (_s, count) => ({ first: 4n, count }));
    await h.record(1, 's', 1, async () => {
      throw new RaftseqError(status.INVALID_ARGUMENT, 'bad name');
    });
    await h.record(1, 's', 1, async () => {
      throw new RaftseqError(status.UNAVAILABLE, 'no leader');
    });
    expect(h.ops.map((o) => o.type)).toEqual(['invoke', 'ok', 'invoke', 'fail', 'invoke', 'info']);
    expect(h.ops[1]?.first).toBe(4n);
    expect(h.ops[3]?.error).toMatch(/INVALID_ARGUMENT/);
    const merged = mergeHistories(h.ops.slice(0, 2), h.ops.slice(2));
    expect(merged).toEqual(h.ops);
    expect(checkHistory(h.ops).counts).toMatchObject({ ok: 1, fail: 1, info: 1 });
  });
});
