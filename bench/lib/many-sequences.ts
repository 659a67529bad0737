// Many sequences: `n` are created through SequenceClient (count=1 calls,
// 256 in flight), then memory, a restart of every node and a new member's
// catch-up are measured. While creating, every node's RSS is sampled (the
// peak), and the metrics tell elections and lease losses apart from a slow
// creation.
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/client/index.js';
import type { LoadGen } from './loadgen-driver.js';
import { loud } from './peers.js';
import { rssBytes, treeCpuSeconds } from './procstat.js';
import { joinMember, leaderOf, waitServing, type RaftseqCluster } from './raftseq-cluster.js';
import { scrape, sumOf } from './scrape.js';
import type { Job, Target } from './types.js';

/** Per node: the leader changes it saw, and the Next calls it refused for want of a lease. */
async function clusterCounters(
  cluster: RaftseqCluster,
): Promise<Map<string, { leaderChanges: number; leaseLosses: number }>> {
  const out = new Map<string, { leaderChanges: number; leaseLosses: number }>();
  for (const m of cluster.nodes) {
    if (m.proc === null || m.metricsPort === null) continue;
    const s = await scrape(m.metricsPort).catch(() => null); // a member down has no metrics
    if (s === null) continue;
    out.set(m.id, {
      leaderChanges: sumOf(s, 'raftseq_leader_changes_total'),
      leaseLosses: sumOf(s, 'raftseq_next_requests_total', 'outcome="lease_expired"'),
    });
  }
  return out;
}

/** Elections (the most leader changes any node saw) and lease losses (all nodes) between two readings. */
function countersDelta(
  a: Map<string, { leaderChanges: number; leaseLosses: number }>,
  b: Map<string, { leaderChanges: number; leaseLosses: number }>,
): { elections: number; leaseLosses: number } {
  let elections = 0;
  let leaseLosses = 0;
  for (const [id, end] of b) {
    const start = a.get(id) ?? { leaderChanges: 0, leaseLosses: 0 };
    elections = Math.max(elections, end.leaderChanges - start.leaderChanges);
    leaseLosses += end.leaseLosses - start.leaseLosses;
  }
  return { elections, leaseLosses };
}

/**
 * JS heap used plus external memory: the state machine keeps its sequences
 * in typed arrays, whose backing stores V8 counts as external, not heap.
 */
async function heapUsed(cluster: RaftseqCluster, id: string): Promise<number | null> {
  const port = cluster.node(id).metricsPort;
  if (port === null) return null;
  const s = await scrape(port).catch(() => null); // not answering yet: no reading
  if (s === null) return null;
  return sumOf(s, 'nodejs_heap_size_used_bytes') + sumOf(s, 'nodejs_external_memory_bytes');
}

/**
 * What the leader's memory at rest is made of, for finding per-sequence
 * bytes: heap, external and array buffers from its metrics, and
 * /proc/PID/smaps_rollup. RAFTSEQ_BENCH_HEAP_SNAPSHOT=1 also has it write a
 * heap snapshot (the nodes need RAFTSEQ_BENCH_NODE_ARGS=
 * --heapsnapshot-signal=SIGUSR2; the file goes to their --diagnostic-dir).
 */
async function diagnoseAtRest(
  cluster: RaftseqCluster,
  id: string,
  log: (msg: string) => void,
): Promise<void> {
  const pid = cluster.node(id).proc?.pid;
  const port = cluster.node(id).metricsPort;
  if (pid === undefined || port === null) return;
  const s = await scrape(port).catch(() => null); // a diagnosis only: none without metrics
  if (s !== null) {
    const mib = (name: string): string => (sumOf(s, name) / 2 ** 20).toFixed(1);
    log(
      `leader at rest: heap used ${mib('nodejs_heap_size_used_bytes')} MiB, heap total ` +
        `${mib('nodejs_heap_size_total_bytes')} MiB, external ${mib('nodejs_external_memory_bytes')} MiB`,
    );
  }
  const rollup = spawnSync('cat', [`/proc/${pid}/smaps_rollup`], { encoding: 'utf8' }).stdout;
  log(`leader smaps_rollup:\n${rollup}`);
  if (process.env['RAFTSEQ_BENCH_HEAP_SNAPSHOT'] === '1') {
    log('leader: writing a heap snapshot (SIGUSR2) ...');
    process.kill(pid, 'SIGUSR2');
    await sleep(60_000);
  }
}

export async function measureManySequences(
  lg: LoadGen,
  cluster: RaftseqCluster,
  n: number,
  maxMs: number,
  log: (msg: string) => void,
): Promise<Record<string, number | string | null>> {
  await waitServing(cluster); // serving before the clock starts
  const leader = await leaderOf(cluster);
  const heap0 = await heapUsed(cluster, leader.id);
  const counters0 = await clusterCounters(cluster);
  log(
    `creating ${n.toLocaleString('en-US')} sequences (count=1 each, SequenceClient, 256 in flight) ...`,
  );
  // Through the client library, which retries UNAVAILABLE (say, a lease
  // renewal that came late on a loaded leader) with backoff as users'
  // code would, so every name is created once rather than skipped.
  const target: Target = {
    kind: 'client',
    endpoints: cluster.endpoints,
    sequence: 'm.',
    count: 1,
    transport: 'stream',
    names: n,
  };
  const j: Job = {
    id: 'million',
    target,
    concurrency: 256,
    warmupMs: 0,
    durationMs: maxMs, // bounded: stops at whichever comes first
    maxOps: n,
  };
  let peakLeader = 0;
  let peakAny = 0;
  let sampling = true;
  // RAFTSEQ_BENCH_MEM_TRACE=1: the leader's heap and external memory every
  // 2 s while creating, beside its RSS (what the peak is made of).
  const trace = process.env['RAFTSEQ_BENCH_MEM_TRACE'] === '1';
  let traced = 0;
  const sampler = (async () => {
    while (sampling) {
      if (trace && Date.now() - traced >= 2000) {
        traced = Date.now();
        const port = cluster.node(leader.id).metricsPort;
        const s = port === null ? null : await scrape(port).catch(() => null); // a trace only
        const rss = rssBytes(cluster.node(leader.id).proc?.pid ?? 0) ?? 0;
        if (s !== null) {
          const mib = (name: string): string => (sumOf(s, name) / 2 ** 20).toFixed(0);
          log(
            `leader rss ${(rss / 2 ** 20).toFixed(0)} MiB: heap used ${mib('nodejs_heap_size_used_bytes')}` +
              ` of ${mib('nodejs_heap_size_total_bytes')}, external ${mib('nodejs_external_memory_bytes')}`,
          );
        }
      }
      for (const m of cluster.nodes) {
        const rss = m.proc?.pid ? (rssBytes(m.proc.pid) ?? 0) : 0;
        peakAny = Math.max(peakAny, rss);
        if (m.id === leader.id) peakLeader = Math.max(peakLeader, rss);
      }
      await sleep(250);
    }
  })();
  const leaderPid = cluster.node(leader.id).proc?.pid;
  const leaderCpu0 = leaderPid === undefined ? null : treeCpuSeconds([leaderPid]);
  const r = await lg.run(j, () => cluster.pids());
  const leaderCpuSec =
    leaderPid === undefined || leaderCpu0 === null
      ? null
      : treeCpuSeconds([leaderPid]) - leaderCpu0;
  sampling = false;
  await sampler;
  const createSec = r.result.elapsedMs / 1000;
  const changes = countersDelta(counters0, await clusterCounters(cluster));
  await sleep(1500);
  const inState = await (async () => {
    const c = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      return Number((await c.clusterStatus()).sequences);
    } finally {
      c.close();
    }
  })();
  log(
    `created ${r.result.ops} in ${createSec.toFixed(1)} s (${r.result.errors} errors); ` +
      `${inState} sequences in the state machine`,
  );
  const restRss = rssBytes(cluster.node(leader.id).proc?.pid ?? 0);
  const heap1 = await heapUsed(cluster, leader.id);
  await diagnoseAtRest(cluster, leader.id, log);
  // The same leader idle 10 s longer: V8 shrinks a heap that a storm grew
  // only once allocation has been low for several seconds, so the reading
  // above holds that storm's garbage and this one mostly does not.
  await sleep(10_000);
  const idleRss = rssBytes(cluster.node(leader.id).proc?.pid ?? 0);
  log(`leader RSS idle 10 s later: ${((idleRss ?? 0) / 2 ** 20).toFixed(0)} MiB`);
  const rss: Record<string, number | null> = {};
  for (const m of cluster.nodes) rss[m.id] = m.proc?.pid ? rssBytes(m.proc.pid) : null;
  const du = (): number =>
    Number(spawnSync('du', ['-sb', cluster.dir], { encoding: 'utf8' }).stdout.split('\t')[0]) || 0;
  // Graceful stop of every node, then a restart of all: time until a Next
  // on an existing sequence is served again.
  const stopT0 = Date.now();
  await Promise.all(cluster.nodes.map((m) => cluster.terminate(m.id)));
  const stopMs = Date.now() - stopT0;
  const diskBytes = du();
  const restartT0 = Date.now();
  await Promise.all(cluster.nodes.map((m) => cluster.restart(m.id)));
  await waitServing(cluster, 60_000);
  const c = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 60_000 });
  await c.next('m.0');
  c.close();
  const restartMs = Date.now() - restartT0;
  await sleep(1000);
  const rssAfter: Record<string, number | null> = {};
  for (const m of cluster.nodes) rssAfter[m.id] = m.proc?.pid ? rssBytes(m.proc.pid) : null;
  // A new member catches up from an empty directory (snapshot of every
  // sequence, then the log) until the leader promotes it to voter.
  const newId = `n${cluster.nodes.length + 1}`;
  log(`adding ${newId} with an empty directory ...`);
  const joinMs = await joinMember(cluster, newId).catch((e: Error) => {
    loud(`join with ${n} sequences failed: ${e.message}`);
    return null;
  });
  const maxRss = Math.max(...Object.values(rss).map((x) => x ?? 0));
  const maxRssAfter = Math.max(...Object.values(rssAfter).map((x) => x ?? 0));
  const created = r.result.ops;
  return {
    sequences: created,
    sequencesInState: inState,
    errors: r.result.errors,
    createSeconds: Number(createSec.toFixed(1)),
    createPerSec: Math.round(created / createSec),
    // CPU per creation: the leader's, and the three servers' together.
    leaderUsPerCreation:
      leaderCpuSec === null || created === 0 ? null : Math.round((leaderCpuSec / created) * 1e6),
    serversUsPerCreation:
      r.serverCpuSec === null || created === 0
        ? null
        : Math.round((r.serverCpuSec / created) * 1e6),
    firstErrors: r.result.firstErrors.join(' | ') || null,
    electionsWhileCreating: changes.elections,
    leaseLossesWhileCreating: changes.leaseLosses,
    peakRssBytes: peakLeader,
    peakRssAnyNodeBytes: peakAny,
    restRssBytes: restRss,
    idleRssBytes: idleRss,
    heapBytesPerSequence:
      heap0 === null || heap1 === null || created === 0
        ? null
        : Math.round((heap1 - heap0) / created),
    maxRssMiB: Math.round(maxRss / 2 ** 20),
    maxRssAfterRestartMiB: Math.round(maxRssAfter / 2 ** 20),
    dataDirsMiB: Math.round(diskBytes / 2 ** 20),
    gracefulStopAllMs: stopMs,
    restartToServingMs: restartMs,
    newMemberCatchUpMs: joinMs,
  };
}
