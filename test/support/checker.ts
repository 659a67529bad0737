// Checks a history of Next operations (see history.ts): Jepsen's unique-ids
// checker generalised to ranges, plus raftseq's real-time order guarantee.
//
//   (a) never twice: no value lies in two `ok` ranges of the same sequence;
//   (b) increasing in real time: if A completed (ok) before B was invoked,
//       same sequence, then every value of B is greater than every value of A;
//   (c) gaps: values between ok ranges that no ok op received (allowed, measured);
//   (d) longest unavailability: longest stretch with ops outstanding and no
//       ok completion;
//   plus counts and latency percentiles.
//
// `info` (indeterminate) and `fail` ops are never counted as ok: their values,
// if any, were never seen by a client, so they can neither be duplicates nor
// break the order. Everything is O(n log n) in the number of ops.
import type { Op } from './history.js';

/** One operation: an invocation paired with its completion. */
export interface Operation {
  process: number | string;
  sequence: string;
  /** ok: values received; otherwise values asked for. */
  count: number;
  /** ok / fail / info; an invocation that never completed counts as info. */
  type: 'ok' | 'fail' | 'info';
  invokeTime: bigint;
  /** null: never completed. */
  completeTime: bigint | null;
  /** ok only: first and last value received. */
  first?: bigint;
  last?: bigint;
  error?: string;
  /** Index of the invocation in the history. */
  index: number;
}

export interface Duplicate {
  sequence: string;
  a: Operation;
  b: Operation;
  /** The values both received. */
  overlap: [bigint, bigint];
}

export interface OrderViolation {
  sequence: string;
  /** Completed before `later` was invoked... */
  earlier: Operation;
  /** ...yet received a value not greater than every value of `earlier`. */
  later: Operation;
}

export interface Gap {
  sequence: string;
  /** Values from..to (inclusive) were received by no ok op. */
  from: bigint;
  to: bigint;
}

export interface SequenceSummary {
  sequence: string;
  ok: number;
  values: bigint;
  min: bigint;
  max: bigint;
  /** Values between min and max received by no ok op. */
  skipped: bigint;
  /** Values received more than once (0 in a valid history). */
  duplicatedValues: bigint;
  /** Values asked for by info ops: an upper bound of what they may explain. */
  indeterminateValues: bigint;
}

export interface Percentiles {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface Unavailability {
  /** ns since the first op of the history. */
  fromNs: bigint;
  toNs: bigint;
  ms: number;
}

export interface CheckResult {
  /** No duplicates, no order violations, no malformed history. */
  valid: boolean;
  counts: { invoke: number; ok: number; fail: number; info: number; incomplete: number };
  duplicates: Duplicate[];
  /** Number of overlapping pairs of ok ranges (duplicates lists at most maxReports). */
  duplicatePairs: number;
  duplicatedValues: bigint;
  orderViolations: OrderViolation[];
  orderViolationCount: number;
  gaps: Gap[];
  skippedValues: bigint;
  sequences: SequenceSummary[];
  longestUnavailability: Unavailability | null;
  /** Latency of ok ops and of all completed ops, in ms. */
  latency: { ok: Percentiles | null; completed: Percentiles | null };
  /** Malformed history: completions without invocations, ok without a value... */
  problems: string[];
}

export interface CheckOptions {
  /** At most this many duplicates / violations / gaps are listed. Default 100. */
  maxReports?: number;
}

// ---------------------------------------------------------------------- pairing

/** Pairs every invocation with its process's next completion. */
export function pairOperations(history: readonly Op[]): { ops: Operation[]; problems: string[] } {
  const ops: Operation[] = [];
  const problems: string[] = [];
  const pending = new Map<number | string, Operation>();
  for (let i = 0; i < history.length; i++) {
    const h = history[i] as Op;
    if (h.type === 'invoke') {
      const open = pending.get(h.process);
      if (open !== undefined) {
        problems.push(
          `op ${i}: process ${h.process} invoked again before op ${open.index} completed`,
        );
      }
      const op: Operation = {
        process: h.process,
        sequence: h.sequence,
        count: h.count,
        type: 'info',
        invokeTime: h.time,
        completeTime: null,
        index: i,
      };
      pending.set(h.process, op);
      ops.push(op);
      continue;
    }
    const op = pending.get(h.process);
    if (op === undefined) {
      problems.push(`op ${i}: ${h.type} of process ${h.process} without an invocation`);
      continue;
    }
    pending.delete(h.process);
    op.completeTime = h.time;
    op.type = h.type;
    if (h.error !== undefined) op.error = h.error;
    if (h.sequence !== op.sequence) {
      problems.push(`op ${i}: completes ${op.sequence} but says ${h.sequence}`);
    }
    if (h.time < op.invokeTime) problems.push(`op ${i}: completes before its invocation`);
    if (h.type === 'ok') {
      if (h.first === undefined || h.first < 1n || h.count < 1) {
        problems.push(
          `op ${i}: ok without a valid range (first ${String(h.first)}, count ${h.count})`,
        );
        op.type = 'info';
        continue;
      }
      op.count = h.count;
      op.first = h.first;
      op.last = h.first + BigInt(h.count) - 1n;
    }
  }
  return { ops, problems };
}

// ---------------------------------------------------------------------- checker

type OkOp = Operation & { first: bigint; last: bigint; completeTime: bigint };

function isOk(op: Operation): op is OkOp {
  return (
    op.type === 'ok' && op.first !== undefined && op.last !== undefined && op.completeTime !== null
  );
}

const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** Checks a history; see the top of this file. */
export function checkHistory(history: readonly Op[], options: CheckOptions = {}): CheckResult {
  const maxReports = options.maxReports ?? 100;
  const { ops, problems } = pairOperations(history);

  const counts = { invoke: ops.length, ok: 0, fail: 0, info: 0, incomplete: 0 };
  const bySequence = new Map<string, OkOp[]>();
  const indeterminate = new Map<string, bigint>();
  for (const op of ops) {
    if (op.completeTime === null) counts.incomplete++;
    if (isOk(op)) {
      counts.ok++;
      let list = bySequence.get(op.sequence);
      if (list === undefined) bySequence.set(op.sequence, (list = []));
      list.push(op);
    } else if (op.type === 'fail') {
      counts.fail++;
    } else {
      counts.info++;
      indeterminate.set(op.sequence, (indeterminate.get(op.sequence) ?? 0n) + BigInt(op.count));
    }
  }

  const duplicates: Duplicate[] = [];
  let duplicatePairs = 0;
  let duplicatedValues = 0n;
  const orderViolations: OrderViolation[] = [];
  let orderViolationCount = 0;
  const gaps: Gap[] = [];
  let skippedValues = 0n;
  const sequences: SequenceSummary[] = [];

  for (const [sequence, list] of [...bySequence].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    // (a) overlapping ranges: sweep by first, with a min-heap (by last) of
    // the ranges still open at the current first.
    const byFirst = [...list].sort((x, y) => cmpBig(x.first, y.first) || cmpBig(x.last, y.last));
    const open = new MinHeap<OkOp>((x, y) => x.last < y.last);
    for (const r of byFirst) {
      while (open.size > 0 && (open.peek() as OkOp).last < r.first) open.pop();
      duplicatePairs += open.size;
      if (open.size > 0 && duplicates.length < maxReports) {
        for (const other of open.items()) {
          if (duplicates.length >= maxReports) break;
          const hi = other.last < r.last ? other.last : r.last;
          duplicates.push({ sequence, a: other, b: r, overlap: [r.first, hi] });
        }
      }
      open.push(r);
    }

    // Union of the ranges: duplicated values, gaps (c).
    let total = 0n;
    let union = 0n;
    let seqSkipped = 0n;
    let curFrom = -1n;
    let curTo = -1n;
    for (const r of byFirst) {
      total += r.last - r.first + 1n;
      if (curTo < 0n) {
        curFrom = r.first;
        curTo = r.last;
      } else if (r.first <= curTo + 1n) {
        if (r.last > curTo) curTo = r.last;
      } else {
        union += curTo - curFrom + 1n;
        const gap: Gap = { sequence, from: curTo + 1n, to: r.first - 1n };
        seqSkipped += gap.to - gap.from + 1n;
        if (gaps.length < maxReports) gaps.push(gap);
        curFrom = r.first;
        curTo = r.last;
      }
    }
    union += curTo - curFrom + 1n;
    const seqDuplicated = total - union;
    duplicatedValues += seqDuplicated;
    skippedValues += seqSkipped;

    // (b) real-time order: B invoked after A completed must be entirely above
    // A. Sweep B by invocation time while folding in every A completed
    // strictly before it; keep the highest value seen so far.
    const byInvoke = [...list].sort((x, y) => cmpBig(x.invokeTime, y.invokeTime));
    const byComplete = [...list].sort((x, y) => cmpBig(x.completeTime, y.completeTime));
    let j = 0;
    let witness: OkOp | null = null;
    for (const b of byInvoke) {
      while (j < byComplete.length && (byComplete[j] as OkOp).completeTime < b.invokeTime) {
        const a = byComplete[j] as OkOp;
        if (witness === null || a.last > witness.last) witness = a;
        j++;
      }
      if (witness !== null && b.first <= witness.last) {
        orderViolationCount++;
        if (orderViolations.length < maxReports) {
          orderViolations.push({ sequence, earlier: witness, later: b });
        }
      }
    }

    sequences.push({
      sequence,
      ok: list.length,
      values: total,
      min: (byFirst[0] as OkOp).first,
      max: byFirst.reduce((m, r) => (r.last > m ? r.last : m), 0n),
      skipped: seqSkipped,
      duplicatedValues: seqDuplicated,
      indeterminateValues: indeterminate.get(sequence) ?? 0n,
    });
  }

  return {
    valid: duplicatePairs === 0 && orderViolationCount === 0 && problems.length === 0,
    counts,
    duplicates,
    duplicatePairs,
    duplicatedValues,
    orderViolations,
    orderViolationCount,
    gaps,
    skippedValues,
    sequences,
    longestUnavailability: longestUnavailability(ops),
    latency: {
      ok: percentiles(ops.filter(isOk).map(latencyMs)),
      completed: percentiles(ops.filter((o) => o.completeTime !== null).map(latencyMs)),
    },
    problems,
  };
}

function latencyMs(op: Operation): number {
  return Number((op.completeTime as bigint) - op.invokeTime) / 1e6;
}

/**
 * The longest interval without an ok completion while clients were waiting:
 * between consecutive ok completions t0 < t1 (and before the first, and
 * after the last until the end of the history) the window runs from the
 * first moment after t0 at which some op was outstanding — max(t0, earliest
 * invocation of an op completing after t0) — to t1. Idle time with no op
 * outstanding right after t0 does not count.
 */
export function longestUnavailability(ops: readonly Operation[]): Unavailability | null {
  if (ops.length === 0) return null;
  let origin = (ops[0] as Operation).invokeTime;
  let end = origin;
  for (const op of ops) {
    if (op.invokeTime < origin) origin = op.invokeTime;
    const t = op.completeTime ?? op.invokeTime;
    if (t > end) end = t;
  }
  // Ops by completion (never completed: at the end), with the suffix minimum
  // of their invocation times: minInvokeAfter[i] = min invoke of byComplete[i..].
  const byComplete = ops
    .map((op) => ({ complete: op.completeTime ?? end + 1n, invoke: op.invokeTime }))
    .sort((a, b) => cmpBig(a.complete, b.complete));
  const minInvokeAfter = new Array<bigint>(byComplete.length);
  let m: bigint | null = null;
  for (let i = byComplete.length - 1; i >= 0; i--) {
    const inv = (byComplete[i] as { invoke: bigint }).invoke;
    if (m === null || inv < m) m = inv;
    minInvokeAfter[i] = m;
  }
  /** Earliest invocation among ops completing strictly after t (null if none). */
  const earliestPendingAfter = (t: bigint): bigint | null => {
    let lo = 0;
    let hi = byComplete.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byComplete[mid] as { complete: bigint }).complete > t) hi = mid;
      else lo = mid + 1;
    }
    return lo < byComplete.length ? (minInvokeAfter[lo] as bigint) : null;
  };

  const okTimes = [...new Set(ops.filter(isOk).map((op) => op.completeTime))].sort(cmpBig);
  let best: { from: bigint; to: bigint } | null = null;
  const consider = (t0: bigint | null, t1: bigint): void => {
    const pending = t0 === null ? origin : earliestPendingAfter(t0);
    if (pending === null || pending >= t1) return;
    const from = t0 !== null && t0 > pending ? t0 : pending;
    if (t1 > from && (best === null || t1 - from > best.to - best.from)) best = { from, to: t1 };
  };
  let prev: bigint | null = null;
  for (const t of okTimes) {
    consider(prev, t);
    prev = t;
  }
  consider(prev, end);
  if (best === null) return null;
  const { from, to } = best as { from: bigint; to: bigint };
  return { fromNs: from - origin, toNs: to - origin, ms: Number(to - from) / 1e6 };
}

/** Nearest-rank percentiles. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number): number =>
    v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] as number;
  return {
    n: v.length,
    mean: v.reduce((s, x) => s + x, 0) / v.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: v[v.length - 1] as number,
  };
}

function describeOp(op: Operation): string {
  const range =
    op.first !== undefined && op.last !== undefined
      ? op.first === op.last
        ? `${op.first}`
        : `${op.first}..${op.last}`
      : `count ${op.count}`;
  return `[process ${op.process}, op ${op.index}, ${op.type} ${range}]`;
}

/** A report for people. */
export function formatReport(r: CheckResult): string {
  const lines: string[] = [];
  const c = r.counts;
  lines.push(
    `${r.valid ? 'VALID' : 'INVALID'}: ${c.invoke} ops: ${c.ok} ok, ${c.fail} fail, ${c.info} info` +
      (c.incomplete > 0 ? ` (${c.incomplete} never completed)` : ''),
  );
  for (const p of r.problems.slice(0, 20)) lines.push(`  malformed: ${p}`);
  lines.push(`duplicates: ${r.duplicatePairs} overlapping pairs, ${r.duplicatedValues} values`);
  for (const d of r.duplicates) {
    lines.push(
      `  ${d.sequence}: ${d.overlap[0]}..${d.overlap[1]} in ${describeOp(d.a)} and ${describeOp(d.b)}`,
    );
  }
  lines.push(`real-time order violations: ${r.orderViolationCount}`);
  for (const v of r.orderViolations) {
    lines.push(
      `  ${v.sequence}: ${describeOp(v.later)} invoked after ${describeOp(v.earlier)} completed`,
    );
  }
  lines.push(`skipped values: ${r.skippedValues} in ${r.gaps.length}+ gaps`);
  for (const s of r.sequences) {
    lines.push(
      `  ${s.sequence}: ${s.ok} ok, values ${s.min}..${s.max}, ${s.values} received, ` +
        `${s.skipped} skipped, ${s.indeterminateValues} asked by info ops`,
    );
  }
  const u = r.longestUnavailability;
  if (u !== null) {
    lines.push(
      `longest unavailability: ${u.ms.toFixed(1)} ms (from +${(Number(u.fromNs) / 1e6).toFixed(1)} ms)`,
    );
  }
  const l = r.latency.ok;
  if (l !== null) {
    lines.push(
      `ok latency ms: p50 ${l.p50.toFixed(2)}, p90 ${l.p90.toFixed(2)}, p99 ${l.p99.toFixed(2)}, ` +
        `p99.9 ${l.p999.toFixed(2)}, max ${l.max.toFixed(2)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A small binary min-heap. */
class MinHeap<T> {
  private readonly a: T[] = [];
  constructor(private readonly less: (x: T, y: T) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  items(): readonly T[] {
    return this.a;
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i] as T, a[p] as T)) break;
      [a[i], a[p]] = [a[p] as T, a[i] as T];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l] as T, a[m] as T)) m = l;
        if (r < a.length && this.less(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}
