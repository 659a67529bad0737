// Analysis of one jepsen-lite run: the shared checker (test/support/checker.ts:
// never twice, real-time order, gaps, longest unavailability, latency) on the
// whole history, plus per-phase availability, latency and skipped values, in
// a JSON-ready shape (bigints as strings).

import {
  checkHistory,
  longestUnavailability,
  pairOperations,
  percentiles,
} from '../support/checker.js';
import type { CheckResult, Operation, Percentiles } from '../support/checker.js';
import type { Op } from '../support/history.js';
import type { Phase } from './nemesis.js';

export interface PhaseStats {
  name: string;
  label: string;
  fault: boolean;
  /** Seconds since the first op of the history. */
  fromS: number;
  toS: number;
  invoked: number;
  ok: number;
  fail: number;
  info: number;
  /** ok / completed, over ops invoked in the phase (1 when nothing was invoked). */
  availability: number;
  okPerS: number;
  values: string;
  /** Values skipped by the first ok range after each gap, when that op completed in this phase. */
  skipped: string;
  longestUnavailabilityMs: number;
  /** ms from the start of the phase to the first ok completion at or after it (null: none). */
  firstOkMs: number | null;
  latencyOkMs: Percentiles | null;
  notes: string[];
}

export interface RunSummary {
  valid: boolean;
  counts: CheckResult['counts'];
  valuesChecked: string;
  duplicatePairs: number;
  duplicatedValues: string;
  orderViolations: number;
  skippedValues: string;
  availability: number;
  longestUnavailabilityMs: number;
  longestUnavailabilityAtS: number;
  latencyOkMs: Percentiles | null;
  problems: string[];
}

export interface Analysis {
  check: CheckResult;
  ops: Operation[];
  origin: bigint;
  summary: RunSummary;
  phases: PhaseStats[];
}

const sec = (ns: bigint, origin: bigint): number => Number(ns - origin) / 1e9;

function availabilityOf(ops: readonly Operation[]): number {
  let ok = 0;
  let done = 0;
  for (const o of ops) {
    if (o.completeTime === null) continue;
    done++;
    if (o.type === 'ok') ok++;
  }
  return done === 0 ? 1 : ok / done;
}

/**
 * Skipped values attributed to the ok op that first received a value above
 * each gap (per sequence, ranges in value order): the op that "jumped".
 */
export function gapsByOp(ops: readonly Operation[]): Map<Operation, bigint> {
  const out = new Map<Operation, bigint>();
  const bySeq = new Map<string, Operation[]>();
  for (const o of ops) {
    if (o.type !== 'ok' || o.first === undefined) continue;
    let l = bySeq.get(o.sequence);
    if (l === undefined) bySeq.set(o.sequence, (l = []));
    l.push(o);
  }
  for (const list of bySeq.values()) {
    list.sort((x, y) => ((x.first as bigint) < (y.first as bigint) ? -1 : 1));
    let top = 0n;
    for (const o of list) {
      const first = o.first as bigint;
      const last = o.last as bigint;
      if (top > 0n && first > top + 1n) out.set(o, first - top - 1n);
      if (last > top) top = last;
    }
  }
  return out;
}

export function analyze(history: readonly Op[], phases: readonly Phase[]): Analysis {
  const check = checkHistory(history);
  const { ops } = pairOperations(history);
  let origin = ops.length > 0 ? (ops[0] as Operation).invokeTime : 0n;
  for (const p of phases) if (p.from < origin) origin = p.from;
  const gaps = gapsByOp(ops);

  const phaseStats: PhaseStats[] = phases.map((p) => {
    const inPhase = ops.filter((o) => o.invokeTime >= p.from && o.invokeTime < p.to);
    let ok = 0;
    let fail = 0;
    let info = 0;
    let values = 0n;
    for (const o of inPhase) {
      if (o.type === 'ok') {
        ok++;
        values += BigInt(o.count);
      } else if (o.type === 'fail') fail++;
      else info++;
    }
    let skipped = 0n;
    for (const [o, g] of gaps) {
      const t = o.completeTime as bigint;
      if (t >= p.from && t < p.to) skipped += g;
    }
    const lat = inPhase
      .filter((o) => o.type === 'ok' && o.completeTime !== null)
      .map((o) => Number((o.completeTime as bigint) - o.invokeTime) / 1e6);
    const durS = Math.max(1e-9, Number(p.to - p.from) / 1e9);
    let firstOk: bigint | null = null;
    for (const o of ops) {
      const t = o.completeTime;
      if (o.type === 'ok' && t !== null && t >= p.from && (firstOk === null || t < firstOk)) {
        firstOk = t;
      }
    }
    return {
      name: p.name,
      label: p.label,
      fault: p.fault,
      fromS: sec(p.from, origin),
      toS: sec(p.to, origin),
      invoked: inPhase.length,
      ok,
      fail,
      info,
      availability: availabilityOf(inPhase),
      okPerS: ok / durS,
      values: values.toString(),
      skipped: skipped.toString(),
      longestUnavailabilityMs: longestUnavailability(inPhase)?.ms ?? 0,
      firstOkMs: firstOk === null ? null : Number(firstOk - p.from) / 1e6,
      latencyOkMs: percentiles(lat),
      notes: p.notes,
    };
  });

  let valuesChecked = 0n;
  for (const s of check.sequences) valuesChecked += s.values;
  const lu = check.longestUnavailability;
  const summary: RunSummary = {
    valid: check.valid,
    counts: check.counts,
    valuesChecked: valuesChecked.toString(),
    duplicatePairs: check.duplicatePairs,
    duplicatedValues: check.duplicatedValues.toString(),
    orderViolations: check.orderViolationCount,
    skippedValues: check.skippedValues.toString(),
    availability: availabilityOf(ops),
    longestUnavailabilityMs: lu?.ms ?? 0,
    longestUnavailabilityAtS: lu === null ? 0 : Number(lu.fromNs) / 1e9,
    latencyOkMs: check.latency.ok,
    problems: check.problems.slice(0, 50),
  };
  return { check, ops, origin, summary, phases: phaseStats };
}

/** The checker's findings in JSON form (bigints as strings), at most 20 of each. */
export function findingsJson(check: CheckResult): unknown {
  const op = (o: Operation): unknown => ({
    process: o.process,
    index: o.index,
    type: o.type,
    first: o.first?.toString(),
    last: o.last?.toString(),
    count: o.count,
    invokeNs: o.invokeTime.toString(),
    completeNs: o.completeTime?.toString() ?? null,
    error: o.error,
  });
  return {
    duplicates: check.duplicates.slice(0, 20).map((d) => ({
      sequence: d.sequence,
      overlap: d.overlap.map(String),
      a: op(d.a),
      b: op(d.b),
    })),
    orderViolations: check.orderViolations.slice(0, 20).map((v) => ({
      sequence: v.sequence,
      earlier: op(v.earlier),
      later: op(v.later),
    })),
    sequences: check.sequences.map((s) => ({
      sequence: s.sequence,
      ok: s.ok,
      values: s.values.toString(),
      min: s.min.toString(),
      max: s.max.toString(),
      skipped: s.skipped.toString(),
      duplicatedValues: s.duplicatedValues.toString(),
      indeterminateValues: s.indeterminateValues.toString(),
    })),
  };
}
