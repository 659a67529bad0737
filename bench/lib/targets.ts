// The targets of the performance issue (13), measured in one run: each with
// its figure, its goal, met or missed, and by how much. A ratio is taken
// within each round (both sides measured minutes apart at most, see
// rounds.ts) and the median over rounds is the figure; the range shows how
// much the rounds disagreed.
import type { FailoverResult } from './failover.js';
import { spreadOf, type Spread } from './stats.js';
import type { Row } from './types.js';

export interface TargetResult {
  /** Which part of the issue the target belongs to. */
  group: string;
  what: string;
  /** The figure (median over rounds for ratios), null when not measured in this run. */
  value: number | null;
  /** Range over rounds (ratios measured in rounds), else null. */
  range: [number, number] | null;
  /**
   * Ratios only: the same comparison by CPU cost, (server + client CPU per
   * op of the second) / (the same of the first), median over rounds: the
   * throughput ratio the two would show if each were bound by the CPU it
   * uses. Other processes on a shared machine move it far less than they
   * move throughput (see the README's Performance section).
   */
  costRatio?: number | null;
  goal: number;
  /** 'min': the figure must be at least the goal; 'max': at most. */
  bound: 'min' | 'max';
  unit: 'x' | 'ms' | 'MB' | '/s' | 's' | 'per 1,000 values' | 'ids/s' | 'count';
  met: boolean | null;
}

export interface TargetInputs {
  /** rounds[r]: every throughput row of round r. */
  rounds: readonly Row[][];
  /** In-flight count of the headline comparisons. */
  concurrency: number;
  failover?: FailoverResult | undefined;
  fsync?: Record<string, number | string | null> | undefined;
  sequencesAtScale?: Record<string, number | string | null> | undefined;
}

type Pick = (rows: readonly Row[]) => Row | undefined;

/** The row of `system` whose config matches `config` at `c` in flight (null: any, the best by ops/s). */
export function pick(system: string, config: RegExp, c: number | null): Pick {
  return (rows) =>
    rows
      .filter(
        (r) => r.system === system && config.test(r.config) && (c === null || r.concurrency === c),
      )
      .sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
}

/**
 * num/den in each round where both were measured; a round where either side
 * served nothing (a failed measurement: its row says why) does not count.
 */
export function roundRatios(rounds: readonly Row[][], num: Pick, den: Pick): number[] {
  const out: number[] = [];
  for (const rows of rounds) {
    const a = num(rows);
    const b = den(rows);
    if (a !== undefined && b !== undefined && a.opsPerSec > 0 && b.opsPerSec > 0) {
      out.push(a.opsPerSec / b.opsPerSec);
    }
  }
  return out;
}

const costPerOp = (r: Row): number => (r.serverUsPerOp ?? NaN) + (r.clientUsPerOp ?? NaN);

/** cost(den)/cost(num) in each round where both sides' CPU per op is known. */
export function roundCostRatios(rounds: readonly Row[][], num: Pick, den: Pick): number[] {
  const out: number[] = [];
  for (const rows of rounds) {
    const a = num(rows);
    const b = den(rows);
    if (a === undefined || b === undefined || !(a.opsPerSec > 0 && b.opsPerSec > 0)) continue;
    const r = costPerOp(b) / costPerOp(a);
    if (Number.isFinite(r)) out.push(r);
  }
  return out;
}

const judge = (value: number | null, goal: number, bound: 'min' | 'max'): boolean | null =>
  value === null || !Number.isFinite(value)
    ? null
    : bound === 'min'
      ? value >= goal
      : value <= goal;

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function evaluateTargets(t: TargetInputs): TargetResult[] {
  const c = t.concurrency;
  const out: TargetResult[] = [];
  const ratio = (group: string, what: string, a: Pick, b: Pick, goal: number): void => {
    const s: Spread = spreadOf(roundRatios(t.rounds, a, b));
    const cost = spreadOf(roundCostRatios(t.rounds, a, b));
    const value = s.n === 0 ? null : s.median;
    out.push({
      group,
      what,
      value,
      range: s.n === 0 ? null : [s.min, s.max],
      costRatio: cost.n === 0 ? null : cost.median,
      goal,
      bound: 'min',
      unit: 'x',
      met: judge(value, goal, 'min'),
    });
  };
  const single = (
    group: string,
    what: string,
    value: number | null,
    goal: number,
    bound: 'min' | 'max',
    unit: TargetResult['unit'],
  ): void => {
    out.push({
      group,
      what,
      value,
      range: null,
      goal,
      bound,
      unit,
      met: judge(value, goal, bound),
    });
  };

  const rawStream = pick('raftseq', /^stream \d+ count=1$/, c);
  const clientStream = pick('raftseq', /^SequenceClient stream$/, c);
  const rawUnary = pick('raftseq', /^unary count=1$/, c);
  const tlsStream = pick('raftseq', /^stream \d+ count=1 over TLS$/, c);
  const pgCache1 = pick('PostgreSQL', /^nextval CACHE 1$/, c);
  const bidi = pick('grpc-js trivial', /^bidi \d+ streams$/, c);
  const trivialUnary = pick('grpc-js trivial', /^unary$/, c);
  const etcdPut = pick('etcd', /^put-as-counter \(revision\)$/, c);
  const h2Raftseq = pick('raftseq', /^unary count=1 \(h2load\)$/, c);
  const h2Trivial = pick('grpc-js trivial', /^unary \(h2load\)$/, c);
  const h2Etcd = pick('etcd', /^put-as-counter \(h2load\)$/, c);

  const g1 = 'client library';
  ratio(g1, `SequenceClient stream / raw NextStream, ${c} in flight`, clientStream, rawStream, 0.9);
  ratio(
    g1,
    `SequenceClient stream / PostgreSQL nextval CACHE 1, ${c} in flight`,
    clientStream,
    pgCache1,
    1,
  );
  const g2 = 'raw paths';
  ratio(g2, `raw NextStream / grpc-js trivial bidi, ${c} in flight`, rawStream, bidi, 0.9);
  ratio(
    g2,
    `raw unary / grpc-js trivial unary (Node client), ${c} in flight`,
    rawUnary,
    trivialUnary,
    0.9,
  );
  ratio(g2, `raw unary / etcd put-as-counter (Node client), ${c} in flight`, rawUnary, etcdPut, 2);
  ratio(
    g2,
    `raw unary / grpc-js trivial unary (h2load client), ${c} in flight`,
    h2Raftseq,
    h2Trivial,
    0.9,
  );
  ratio(
    g2,
    `raw unary / etcd put-as-counter (h2load client), ${c} in flight`,
    h2Raftseq,
    h2Etcd,
    2,
  );

  ratio(
    'security',
    `streaming Next over TLS >= 0.8x plaintext (raw NextStream), ${c} in flight`,
    tlsStream,
    rawStream,
    0.8,
  );

  const q = t.sequencesAtScale;
  if (q) {
    const g3 = `${Number(q.sequences ?? 0).toLocaleString('en-US')} sequences`;
    single(g3, 'leader RSS at rest after creating them', mb(q.restRssBytes), 300, 'max', 'MB');
    single(g3, 'largest RSS while creating them', mb(q.peakRssBytes), 400, 'max', 'MB');
    single(g3, 'creation through SequenceClient', num(q.createPerSec), 10_000, 'min', '/s');
    single(g3, 'elections while creating', num(q.electionsWhileCreating), 0, 'max', 'count');
    single(
      g3,
      'Next calls refused for want of a lease while creating',
      num(q.leaseLossesWhileCreating),
      0,
      'max',
      'count',
    );
    single(
      g3,
      'restart of all nodes until a Next is served',
      num(q.restartToServingMs),
      3000,
      'max',
      'ms',
    );
    single(g3, 'new member caught up and voting', num(q.newMemberCatchUpMs), 3000, 'max', 'ms');
  }
  const f = t.failover;
  if (f) {
    const g4 = `failover (${f.kills.length} x kill -9 of the leader)`;
    single(g4, 'unavailability p99', num(f.killUnavailableMs.p99), 1200, 'max', 'ms');
    single(
      g4,
      "values skipped per failover, in seconds of the sequence's traffic (worst)",
      num(f.killWasteSeconds.max),
      0.5,
      'max',
      's',
    );
  }
  if (t.fsync) {
    single(
      'steady state',
      'leader fsyncs',
      num(t.fsync.leaderFsyncsPer1000Values),
      0.1,
      'max',
      'per 1,000 values',
    );
  }
  // The earlier issue's targets, still watched.
  const g5 = 'earlier targets (issue 6)';
  ratio(
    g5,
    `raw unary / etcd CAS increment, ${c} in flight`,
    rawUnary,
    pick('etcd', /^CAS/, c),
    80,
  );
  const ids = (p: Pick): number | null => {
    const s = spreadOf(t.rounds.map((rows) => p(rows)?.idsPerSec ?? NaN));
    return s.n === 0 ? null : s.median;
  };
  single(
    g5,
    'Next(count=1000) ids/s, best in-flight count',
    ids(pick('raftseq', /count=1000$/, null)),
    5_000_000,
    'min',
    'ids/s',
  );
  single(
    g5,
    'client lease, tryNext() ids/s',
    ids(pick('raftseq', /tryNext/, null)),
    10_000_000,
    'min',
    'ids/s',
  );
  return out;
}

function mb(bytes: unknown): number | null {
  const b = num(bytes);
  return b === null ? null : b / 1e6;
}
