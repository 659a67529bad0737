// Repeated, interleaved measurement. Every figure is measured `repeat` times
// in rounds; each round runs every measurement once, alternating the order
// (A B C, then C B A, ...) so that a slow drift of the machine's load (other
// processes on a shared 2-core machine) weighs on both sides of a ratio
// alike. A ratio is then taken within each round, between measurements
// minutes apart at most, and the report gives the median over rounds.
import { spreadOf } from './stats.js';
import type { Row } from './types.js';

/** One figure the bench measures: a system under one load. */
export interface Measure {
  id: string;
  run(): Promise<Row>;
  /** A short run whose result is thrown away: JIT and caches warm before round 1. */
  warm?(): Promise<void>;
}

/** The order of round `r` (0-based): forward on even rounds, backward on odd ones. */
export function roundOrder<T>(items: readonly T[], r: number): T[] {
  return r % 2 === 0 ? [...items] : [...items].reverse();
}

/**
 * Runs `repeat` rounds of `measures`. Returns rounds[r][i]: the row of
 * measures[i] in round r (whatever order it ran in).
 */
export async function runRounds(
  measures: readonly Measure[],
  repeat: number,
  log: (msg: string) => void,
): Promise<Row[][]> {
  for (const m of measures) await m.warm?.();
  const rounds: Row[][] = [];
  for (let r = 0; r < repeat; r++) {
    log(`round ${r + 1} of ${repeat}`);
    const rows = new Map<Measure, Row>();
    for (const m of roundOrder(measures, r)) rows.set(m, await m.run());
    rounds.push(measures.map((m) => rows.get(m)!));
  }
  return rounds;
}

/** One row per measurement: the median of every figure over the rounds, with the ops/s range. */
export function medianRows(rounds: readonly Row[][]): Row[] {
  const first = rounds[0] ?? [];
  return first.map((row, i) => {
    const samples = rounds.map((r) => r[i]!);
    const med = (f: (x: Row) => number | null | undefined): number =>
      spreadOf(samples.map((x) => f(x) ?? NaN)).median;
    const nullable = (f: (x: Row) => number | null): number | null =>
      samples.every((x) => f(x) === null) ? null : med(f);
    const ops = spreadOf(samples.map((x) => x.opsPerSec));
    const errors = samples.reduce((a, x) => a + x.errors, 0);
    const notes = [...new Set(samples.map((x) => x.note).filter((n) => n !== undefined))];
    return {
      ...row,
      opsPerSec: ops.median,
      idsPerSec: med((x) => x.idsPerSec),
      latencyMs: {
        p50: med((x) => x.latencyMs.p50),
        p99: med((x) => x.latencyMs.p99),
        p999: med((x) => x.latencyMs.p999),
        max: med((x) => x.latencyMs.max),
        mean: med((x) => x.latencyMs.mean),
      },
      serverCores: nullable((x) => x.serverCores),
      clientCores: nullable((x) => x.clientCores),
      serverUsPerOp: nullable((x) => x.serverUsPerOp),
      clientUsPerOp: nullable((x) => x.clientUsPerOp),
      errors,
      ...(notes.length ? { note: notes.join('; ') } : {}),
      repeats: samples.length,
      opsPerSecRange: [ops.min, ops.max],
    };
  });
}
