// The Grafana dashboard (deploy/grafana/raftseq.json) and the alert rules
// read only metrics that a node serves: every metric name in every dashboard
// query and every rule expression must be in a real node's /metrics (the
// histograms' _bucket/_sum/_count series included). There is no Grafana
// here; the dashboard's own structure gets a few sanity checks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/client/index.js';
import { startNode, type RunningNode } from '../../src/server/index.js';
import { DEFAULTS } from '../../src/node/options.js';
import { reservePorts } from '../support/ports.js';
import {
  dashboardQueries,
  metricNames,
  readDashboard,
  ruleQueries,
  servedSeriesNames,
  type Query,
} from './promql.js';

/** Series Prometheus itself adds to every scrape. */
const FROM_PROMETHEUS = new Set(['up']);

describe('dashboard and alert rules against a real node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-dash-'));
  let node: RunningNode;
  let served: Set<string>;

  beforeAll(async () => {
    const reserved = await reservePorts(1);
    const port = reserved.port(0);
    const addr = `127.0.0.1:${port}`;
    await reserved.release(port); // the node binds it next
    node = await startNode({
      ...DEFAULTS,
      id: 'n1',
      listen: addr,
      advertise: addr,
      dataDir: join(dir, 'n1'),
      initialCluster: new Map([['n1', addr]]),
      logLevel: 'silent',
      metricsListen: '127.0.0.1:0',
      // Backups on, so that their series (and the alerts on them) are served.
      backup: { dir: join(dir, 'backups'), intervalMs: 3_600_000, keep: 2 },
    });
    // Traffic, so that labelled series (outcome, cause) exist too.
    const client = new SequenceClient({ endpoints: [addr], deadlineMs: 10_000 });
    await client.next('orders', 3);
    client.close();
    const res = await fetch(`http://127.0.0.1:${node.ops.httpPort}/metrics`);
    served = servedSeriesNames(await res.text());
  });

  afterAll(async () => {
    await node?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const uses = (queries: Query[]): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const q of queries) {
      for (const name of metricNames(q.expr)) out.set(name, [...(out.get(name) ?? []), q.where]);
    }
    return out;
  };
  const unserved = (queries: Query[]): string[] =>
    [...uses(queries)]
      .filter(([name]) => !served.has(name) && !FROM_PROMETHEUS.has(name))
      .map(([name, where]) => `${name} (${where.join(', ')})`);

  it('the scrape is read right (a histogram offers _bucket, _sum and _count)', () => {
    expect(served.has('raftseq_fsync_duration_seconds_bucket')).toBe(true);
    expect(served.has('raftseq_fsync_duration_seconds_count')).toBe(true);
    expect(served.has('raftseq_fsync_duration_seconds')).toBe(false);
    expect(served.has('raftseq_values_served_total')).toBe(true);
    expect(unserved([{ where: 'a typo', expr: 'rate(raftseq_values_servd_total[1m])' }])).toEqual([
      'raftseq_values_servd_total (a typo)',
    ]);
  });

  it('every dashboard query names only metrics the node serves', () => {
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(20);
    expect(unserved(queries)).toEqual([]);
  });

  it('every alert rule names only metrics the node serves', () => {
    const queries = ruleQueries();
    expect(queries.length).toBeGreaterThan(5);
    expect(unserved(queries)).toEqual([]);
  });

  it('the dashboard shows what operators look for', () => {
    const used = uses(dashboardQueries(readDashboard()));
    for (const name of [
      'raftseq_values_served_total',
      'raftseq_values_skipped_total',
      'raftseq_next_duration_seconds_bucket',
      'raftseq_commit_duration_seconds_bucket',
      'raftseq_fsync_duration_seconds_bucket',
      'raftseq_term',
      'raftseq_leader_changes_total',
      'raftseq_lease_remaining_seconds',
      'raftseq_peer_round_trip_seconds_bucket',
      'raftseq_commit_index',
      'raftseq_applied_index',
      'raftseq_log_first_index',
      'raftseq_log_last_index',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
    const skipped = dashboardQueries(readDashboard()).find((q) =>
      q.expr.includes('raftseq_values_skipped_total'),
    );
    expect(skipped?.expr).toMatch(/by \(cause\)/);
  });

  it('the dashboard is well formed: unique ids, a data source variable, panels on a 24-column grid', () => {
    const d = readDashboard() as ReturnType<typeof readDashboard> & {
      uid: string;
      panels: { id: number; gridPos: { x: number; y: number; w: number; h: number } }[];
    };
    expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(d.templating.list.find((v) => v.type === 'datasource')?.name).toBe('datasource');
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, `panel ${p.id}`).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `panel ${p.id} overlaps another`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
    for (const p of readDashboard().panels.filter((x) => x.type !== 'row')) {
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(refs.length, p.title).toBeGreaterThan(0);
      expect(new Set(refs).size, p.title).toBe(refs.length);
    }
  });
});
