import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { renderChart, textWidth } from '../../bench/lib/chart.js';
import { grpcFrame, h2loadLatenciesMs, parseH2load } from '../../bench/lib/h2load.js';
import { pgbenchLatenciesMs } from '../../bench/lib/peers.js';
import { compareTargets } from '../../bench/lib/report.js';
import { medianRows, roundOrder, runRounds, type Measure } from '../../bench/lib/rounds.js';
import { parseExposition, sumOf } from '../../bench/lib/scrape.js';
import { relativeSpread, spreadOf } from '../../bench/lib/stats.js';
import { evaluateTargets, pick, roundCostRatios, roundRatios } from '../../bench/lib/targets.js';
import type { Row } from '../../bench/lib/types.js';

function row(system: string, config: string, opsPerSec: number, extra: Partial<Row> = {}): Row {
  return {
    system,
    config,
    concurrency: 64,
    opsPerSec,
    idsPerSec: opsPerSec,
    latencyMs: { p50: 1, p99: 2 },
    serverCores: null,
    clientCores: null,
    serverUsPerOp: null,
    clientUsPerOp: null,
    errors: 0,
    ...extra,
  };
}

describe('stats', () => {
  it('takes the median and the range, leaving out NaN', () => {
    expect(spreadOf([3, 1, NaN, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spreadOf([4, 1, 3, 2]).median).toBe(2.5);
    expect(relativeSpread(spreadOf([90, 100, 110]))).toBeCloseTo(0.2);
    expect(spreadOf([]).n).toBe(0);
  });
});

describe('rounds', () => {
  it('alternates the order of the rounds: A B C, C B A, A B C', () => {
    expect([0, 1, 2].map((r) => roundOrder(['A', 'B', 'C'], r).join(''))).toEqual([
      'ABC',
      'CBA',
      'ABC',
    ]);
  });

  it('runs every measure once per round, warms each once, and keeps rows in measure order', async () => {
    const ran: string[] = [];
    const warmed: string[] = [];
    const m = (id: string, ops: number[]): Measure => {
      let i = 0;
      return {
        id,
        run: () => {
          ran.push(id);
          return Promise.resolve(row('s', id, ops[i++]!));
        },
        warm: () => {
          warmed.push(id);
          return Promise.resolve();
        },
      };
    };
    const rounds = await runRounds([m('a', [10, 30, 20]), m('b', [5, 5, 8])], 3, () => {});
    expect(warmed).toEqual(['a', 'b']);
    expect(ran).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(rounds.map((r) => r.map((x) => x.config))).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    const med = medianRows(rounds);
    expect(med[0]).toMatchObject({
      config: 'a',
      opsPerSec: 20,
      opsPerSecRange: [10, 30],
      repeats: 3,
    });
    expect(med[1]).toMatchObject({ config: 'b', opsPerSec: 5, opsPerSecRange: [5, 8] });
  });
});

describe('targets', () => {
  const round = (client: number, raw: number, pg: number): Row[] => [
    row('raftseq', 'SequenceClient stream', client),
    row('raftseq', 'stream 16 count=1', raw),
    row('PostgreSQL', 'nextval CACHE 1', pg),
    row('raftseq', 'unary count=1 (h2load)', 9000),
    row('raftseq', 'unary count=1', 2000),
  ];

  it('takes each ratio within a round and reports the median over rounds', () => {
    // Load drifts between rounds: each round's ratio is 0.9, however busy.
    const rounds = [round(900, 1000, 2000), round(450, 500, 400), round(1800, 2000, 1000)];
    expect(
      roundRatios(
        rounds,
        pick('raftseq', /^SequenceClient stream$/, 64),
        pick('raftseq', /^stream \d+ count=1$/, 64),
      ),
    ).toEqual([0.9, 0.9, 0.9]);
    const t = evaluateTargets({ rounds, concurrency: 64 });
    const vsRaw = t.find((x) => x.what.startsWith('SequenceClient stream / raw NextStream'))!;
    expect(vsRaw).toMatchObject({ value: 0.9, range: [0.9, 0.9], met: true });
    const vsPg = t.find((x) => x.what.startsWith('SequenceClient stream / PostgreSQL'))!;
    expect(vsPg.value).toBeCloseTo(1.125);
    expect(vsPg.range).toEqual([0.45, 1.8]);
    expect(vsPg.met).toBe(true);
  });

  it('leaves out a round where a side served nothing, and compares CPU cost per op', () => {
    const cost = (srv: number, cli: number): Partial<Row> => ({
      serverUsPerOp: srv,
      clientUsPerOp: cli,
    });
    const rounds = [
      [
        row('raftseq', 'SequenceClient stream', 500, cost(15, 15)),
        row('raftseq', 'stream 16 count=1', 1000, cost(14, 13)),
      ],
      [
        row('raftseq', 'SequenceClient stream', 0),
        row('raftseq', 'stream 16 count=1', 900, cost(14, 13)),
      ],
    ];
    const a = pick('raftseq', /^SequenceClient stream$/, 64);
    const b = pick('raftseq', /^stream \d+ count=1$/, 64);
    expect(roundRatios(rounds, a, b)).toEqual([0.5]);
    expect(roundCostRatios(rounds, a, b)).toEqual([0.9]);
    const t = evaluateTargets({ rounds, concurrency: 64 });
    expect(t[0]).toMatchObject({ value: 0.5, costRatio: 0.9 });
  });

  it('compares streaming Next over TLS with plaintext, never with itself', () => {
    const tls = (plain: number, over: number): Row[] => [
      row('raftseq', 'stream 16 count=1', plain),
      row('raftseq', 'stream 16 count=1 over TLS', over),
    ];
    const t = evaluateTargets({ rounds: [tls(1000, 850), tls(1000, 700)], concurrency: 64 });
    const target = t.find((x) => x.what.startsWith('streaming Next over TLS >= 0.8x'))!;
    expect(target).toMatchObject({ group: 'security', goal: 0.8, met: false });
    expect(target.value).toBeCloseTo(0.775);
    // The TLS row is not taken for the plaintext one by the other targets.
    const raw = t.find((x) => x.what.startsWith('raw NextStream / grpc-js'))!;
    expect(raw.value).toBeNull();
    expect(
      evaluateTargets({ rounds: [tls(1000, 900)], concurrency: 64 }).find((x) =>
        x.what.startsWith('streaming Next over TLS'),
      )?.met,
    ).toBe(true);
  });

  it('keeps the Node-client and h2load figures apart, and says what was not measured', () => {
    const t = evaluateTargets({ rounds: [round(900, 1000, 2000)], concurrency: 64 });
    const h2 = t.find((x) => x.what.includes('trivial unary (h2load client)'))!;
    expect(h2).toMatchObject({ value: null, met: null }); // no trivial h2load row
    const node = t.find((x) => x.what.includes('trivial unary (Node client)'))!;
    expect(node.met).toBeNull();
  });

  it('judges upper bounds: failover p99 and waste', () => {
    const failover = {
      concurrency: 16,
      kills: [],
      killUnavailableMs: { p50: 1000, p99: 1300, max: 1300 },
      killSkipped: { p50: 1, max: 1, mean: 1 },
      killWasteSeconds: { p50: 0.2, max: 0.4 },
      graceful: [],
    };
    const t = evaluateTargets({ rounds: [], concurrency: 64, failover });
    expect(t.find((x) => x.what === 'unavailability p99')).toMatchObject({ met: false });
    expect(t.find((x) => x.what.startsWith('values skipped'))).toMatchObject({ met: true });
  });

  it('compares two runs target by target', () => {
    const then = evaluateTargets({ rounds: [round(900, 1000, 2000)], concurrency: 64 });
    const now = evaluateTargets({ rounds: [round(800, 1000, 2000)], concurrency: 64 });
    const c = compareTargets('then.json', then, now);
    const r = c.rows.find((x) => x.what.startsWith('SequenceClient stream / raw'))!;
    expect(r.change).toBeCloseTo(800 / 900 - 1);
    expect(c.worstRatioChange).toBeCloseTo(1 - 800 / 900);
  });
});

describe('pgbench latencies', () => {
  it('takes each transaction as the time since the same client last completed', () => {
    // client tx time script epoch us: the time field is 0 where pgbench's lazy clock was stale.
    const log = [
      '0 1 5000 0 100 000000',
      '1 1 0 0 100 000500',
      '0 2 0 0 100 002000',
      '1 2 0 0 100 003500',
      '0 3 0 0 100 003000',
    ].join('\n');
    expect(pgbenchLatenciesMs([log]).sort((a, b) => a - b)).toEqual([1, 2, 3]);
  });
});

describe('h2load', () => {
  it('frames a gRPC message: not compressed, big-endian length', () => {
    expect([...grpcFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  });

  it('reads its summary and per-request log', () => {
    const out =
      'finished in 1.50s, 6666.67 req/s, 1.00MB/s\n' +
      'requests: 10000 total, 10000 started, 10000 done, 9998 succeeded, 2 failed, 0 errored, 0 timeout\n';
    expect(parseH2load(out)).toEqual({ done: 10000, succeeded: 9998, seconds: 1.5 });
    expect(parseH2load(out.replace('1.50s', '750.00ms')).seconds).toBe(0.75);
    expect(h2loadLatenciesMs('1\t200\t1500\n2\t503\t10\n3\t200\t500\n')).toEqual([1.5, 0.5]);
  });
});

describe('metrics scrape', () => {
  it('sums a metric over its label sets, or the matching ones', () => {
    const m = parseExposition(
      '# HELP x\n' +
        'raftseq_next_requests_total{outcome="ok"} 10\n' +
        'raftseq_next_requests_total{outcome="lease_expired"} 2\n' +
        'nodejs_heap_size_used_bytes 1234\n',
    );
    expect(sumOf(m, 'raftseq_next_requests_total')).toBe(12);
    expect(sumOf(m, 'raftseq_next_requests_total', 'outcome="lease_expired"')).toBe(2);
    expect(sumOf(m, 'nodejs_heap_size_used_bytes')).toBe(1234);
  });
});

describe('chart', () => {
  it('fits every label and value inside the picture', () => {
    const rows = [
      row('raftseq', 'client lease, tryNext() x1000 with a very long configuration name', 2e7),
      row('etcd', 'CAS increment (Txn)', 13, { latencyMs: { p50: 16598.8, p99: 22760.3 } }),
      row('raftseq', 'SequenceClient stream', 40_000, { opsPerSecRange: [30_000, 45_000] }),
    ];
    const svg = renderChart(rows, 64, '2026-12-01T00:00:00Z', false);
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    for (const m of svg.matchAll(/<text x="([\d.]+)"[^>]*font-size="(\d+)"([^>]*)>([^<]*)</g)) {
      const x = Number(m[1]);
      const w = textWidth(m[4]!.replace(/&amp;/g, '&'), Number(m[2]));
      const anchor = /text-anchor="(\w+)"/.exec(m[3]!)?.[1] ?? 'start';
      const [left, right] =
        anchor === 'end' ? [x - w, x] : anchor === 'middle' ? [x - w / 2, x + w / 2] : [x, x + w];
      expect(left, m[4]).toBeGreaterThanOrEqual(0);
      expect(right, m[4]).toBeLessThanOrEqual(width);
    }
  });
});

describe('bench command line', () => {
  const bench = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { encoding: 'utf8' });

  it('refuses a --report file that is missing or not a results file, in one line', () => {
    for (const file of ['/nonexistent/results.json', 'package.json']) {
      const r = bench('--report', file);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^bench: --report ${file}: `));
    }
  });
});
