// Prometheus metrics: real nodes started in-process with --metrics-listen on
// 127.0.0.1 port 0; scrape /metrics, check the names are there and the values move.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { SequenceClient } from '../../src/client/index.js';
import { raftseqApi } from '../../src/proto/load.js';
import { startNode, type RunningNode } from '../../src/server/index.js';
import { DEFAULTS, type NodeOptions } from '../../src/node/options.js';
import { reservePorts } from '../support/ports.js';
import { waitUntil } from '../support/wait.js';

/** `name{labels} value` lines of a scrape → value by series (name + labels). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(port: number): Promise<{ text: string; series: Map<string, number> }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  return { text, series: parse(text) };
}

/** Every series summed over the members' scrapes. */
async function scrapeTotals(nodes: readonly RunningNode[]): Promise<Map<string, number>> {
  const sum = new Map<string, number>();
  for (const n of nodes) {
    for (const [series, v] of (await scrape(n.ops.httpPort as number)).series) {
      sum.set(series, (sum.get(series) ?? 0) + v);
    }
  }
  return sum;
}

describe('metrics on --metrics-listen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-metrics-'));
  const nodes: RunningNode[] = [];
  let client: SequenceClient;

  beforeAll(async () => {
    const reserved = await reservePorts(3);
    const ports = reserved.ports;
    const cluster = new Map(ports.map((p, i) => [`n${i + 1}`, `127.0.0.1:${p}`]));
    const options = (i: number): NodeOptions => ({
      ...DEFAULTS,
      id: `n${i + 1}`,
      listen: `127.0.0.1:${ports[i]}`,
      advertise: `127.0.0.1:${ports[i]}`,
      dataDir: join(dir, `n${i + 1}`),
      initialCluster: cluster,
      snapshotEntries: 20,
      logLevel: 'silent',
      metricsListen: '127.0.0.1:0',
    });
    for (let i = 0; i < 3; i++) {
      await reserved.release(reserved.port(i)); // held until just before this node binds it
      nodes.push(await startNode(options(i)));
    }
    client = new SequenceClient({ endpoints: [...cluster.values()], deadlineMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(nodes.map((n) => n.shutdown()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the metric names, and their values move with traffic', async () => {
    await client.next('warmup');
    const leader = nodes.find((n) => n.host.status().role === 'leader');
    expect(leader).toBeDefined();
    const port = leader?.ops.httpPort as number;
    expect(port).toBeGreaterThan(0);

    const before = await scrape(port);
    const totalsBefore = await scrapeTotals(nodes);
    for (const name of [
      'raftseq_node_info',
      'raftseq_next_requests_total',
      'raftseq_next_duration_seconds',
      'raftseq_values_served_total',
      'raftseq_values_skipped_total',
      'raftseq_reservations_proposed_total',
      'raftseq_reservations_committed_total',
      'raftseq_commit_duration_seconds',
      'raftseq_fsync_duration_seconds',
      'raftseq_fsync_batch_entries',
      'raftseq_term',
      'raftseq_role',
      'raftseq_is_leader',
      'raftseq_leader_changes_total',
      'raftseq_log_first_index',
      'raftseq_log_last_index',
      'raftseq_commit_index',
      'raftseq_snapshots_taken_total',
      'raftseq_snapshots_installed_total',
      'raftseq_lease_remaining_seconds',
      'raftseq_peer_round_trip_seconds',
      'raftseq_peer_connected',
      // default Node.js metrics
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(before.text, name).toContain(`# TYPE ${name} `);
    }
    const b = before.series;
    expect(b.get('raftseq_is_leader')).toBe(1);
    expect(b.get('raftseq_role{role="leader"}')).toBe(1);
    expect(b.get('raftseq_term')).toBeGreaterThanOrEqual(1);
    expect(b.get('raftseq_leader_changes_total')).toBeGreaterThanOrEqual(1);
    expect(b.get('raftseq_lease_remaining_seconds')).toBeGreaterThan(0);

    // Traffic: many sequences, so that reservations fill the log past a snapshot.
    for (let i = 0; i < 40; i++) await client.next(`s${i}`, 10);
    await client.next('s0', 5);
    // Heartbeats measure the round trips: wait until one came back from each follower.
    let after = new Map<string, number>();
    const followers = nodes.filter((n) => n !== leader);
    await waitUntil(
      async () => {
        after = (await scrape(port)).series;
        return followers.every(
          (n) => (after.get(`raftseq_peer_round_trip_seconds_count{peer="${n.id}"}`) ?? 0) > 0,
        );
      },
      'a round trip to every follower',
      10_000,
      50,
    );

    const grew = (series: string, by = 1): void => {
      expect(after.get(series), series).toBeGreaterThanOrEqual((b.get(series) ?? 0) + by);
    };
    // What the request path counts is summed over the members: on a loaded
    // machine leadership may move during the traffic, and then the requests
    // are counted where they were served.
    const totalsAfter = await scrapeTotals(nodes);
    const grewInTotal = (series: string, by: number): void => {
      const was = totalsBefore.get(series) ?? 0;
      expect(totalsAfter.get(series), series).toBeGreaterThanOrEqual(was + by);
    };
    grewInTotal('raftseq_next_requests_total{outcome="ok"}', 41);
    grewInTotal('raftseq_next_duration_seconds_count', 41);
    grewInTotal('raftseq_values_served_total', 405);
    grewInTotal('raftseq_reservations_proposed_total', 40);
    grewInTotal('raftseq_reservations_committed_total', 40);
    grewInTotal('raftseq_commit_duration_seconds_count', 1);
    grew('raftseq_fsync_duration_seconds_count');
    grew('raftseq_fsync_batch_entries_sum', 1);
    grew('raftseq_log_last_index', 1);
    grew('raftseq_commit_index', 1);
    grew('raftseq_snapshots_taken_total');
    // Nothing crashed, so nothing was skipped for a crash, unless a loaded
    // machine stalled the leader long enough for an election (a new leader
    // counts the old one's block as skipped): then there is nothing to judge.
    if (
      totalsAfter.get('raftseq_leader_changes_total') ===
      totalsBefore.get('raftseq_leader_changes_total')
    ) {
      expect(after.get('raftseq_values_skipped_total{cause="crash"}')).toBe(0);
    }
    for (const n of followers) {
      expect(after.get(`raftseq_peer_connected{peer="${n.id}"}`)).toBe(1);
    }
    expect(after.get('raftseq_log_first_index')).toBeGreaterThan(1); // compacted
  });

  it('a follower reports its role, and only /metrics is served', async () => {
    const follower = nodes.find((n) => n.host.status().role === 'follower');
    const port = follower?.ops.httpPort as number;
    const s = (await scrape(port)).series;
    expect(s.get('raftseq_is_leader')).toBe(0);
    expect(s.get('raftseq_role{role="follower"}')).toBe(1);
    expect(s.get('raftseq_lease_remaining_seconds')).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);

    // Requests refused before the allocator are counted too.
    const raw = new (raftseqApi().Sequencer)(
      follower!.host.options.listen,
      grpc.credentials.createInsecure(),
    );
    const call = (sequence: string): Promise<grpc.ServiceError | null> =>
      new Promise((resolve) =>
        raw['Next']!({ sequence, count: 1 }, (err: grpc.ServiceError | null) => resolve(err)),
      );
    expect((await call('orders'))?.code).toBe(grpc.status.UNAVAILABLE);
    expect((await call('bad name!'))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    raw.close();
    const t = (await scrape(port)).series;
    const moved = (series: string): number => (t.get(series) ?? 0) - (s.get(series) ?? 0);
    expect(moved('raftseq_next_requests_total{outcome="not_leader"}')).toBe(1);
    expect(moved('raftseq_next_requests_total{outcome="invalid_argument"}')).toBe(1);
  });

  it('a metrics address in use refuses the start with a clear error', async () => {
    const busy = nodes[0]?.ops.httpPort as number;
    // m1 never serves (its metrics address is refused first), so it can bind
    // any free port, and no peer ever dials the address it bootstraps with.
    await expect(
      startNode({
        ...DEFAULTS,
        id: 'm1',
        listen: '127.0.0.1:0',
        advertise: '127.0.0.1:0',
        dataDir: join(dir, 'm1'),
        initialCluster: new Map([['m1', '127.0.0.1:0']]),
        logLevel: 'silent',
        metricsListen: `127.0.0.1:${busy}`,
      }),
    ).rejects.toThrow(`cannot serve metrics on 127.0.0.1:${busy}: address in use`);
  });
});
