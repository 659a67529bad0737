// The benchmark's raftseq cluster: the test kit's ProcCluster running the
// built dist/ (what users run: real processes, real fsync) in the
// benchmark's directory, plus what only the benchmark asks of it: the
// leader's address as clients see it, "serving" measured as a first Next,
// and a new member's time to catch up.
import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/client/index.js';
import { DEFAULTS } from '../../src/node/options.js';
import { ProcCluster } from '../../test/support/proc-cluster.js';

export type RaftseqCluster = ProcCluster;

/** Starts `size` nodes from dist/ (data and logs under `dir`); resolves once a Next is served. */
export async function startRaftseqCluster(dir: string, size = 3): Promise<ProcCluster> {
  // RAFTSEQ_BENCH_CPU_PROF=<dir>: every node writes a V8 CPU profile there on exit.
  const prof = process.env['RAFTSEQ_BENCH_CPU_PROF'];
  // RAFTSEQ_BENCH_NODE_ARGS: more node flags for every node (e.g. --trace-gc).
  const nodeArgs = (process.env['RAFTSEQ_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const cluster = await ProcCluster.start({
    size,
    dir,
    build: 'dist',
    // The timing `raftseq serve` runs with by default, as users run it.
    electionTimeoutMs: DEFAULTS.electionTimeoutMs,
    heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
    faultInjection: false,
    // Metrics on an ephemeral port: heap, elections and lease losses.
    serveArgs: ['--metrics-listen', '127.0.0.1:0'],
    nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...nodeArgs],
  });
  try {
    await waitServing(cluster);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** The leader's id and address (bounded wait). */
export async function leaderOf(
  cluster: ProcCluster,
  timeoutMs = 15_000,
): Promise<{ id: string; address: string }> {
  const id = await cluster.leader(timeoutMs);
  return { id, address: cluster.node(id).addr };
}

/** Waits until a Next succeeds (leader elected, lease confirmed); the ms it took. */
export async function waitServing(cluster: ProcCluster, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  const c = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: timeoutMs });
  try {
    await c.next('bench.ready');
  } finally {
    c.close();
  }
  return Date.now() - t0;
}

/**
 * Starts a new member on an empty data directory, adds it (`AddMember`: a
 * learner, promoted by the leader once caught up) and waits until it votes.
 * Returns the milliseconds from AddMember to voter.
 */
export async function joinMember(
  cluster: ProcCluster,
  id: string,
  timeoutMs = 300_000,
): Promise<number> {
  const m = await cluster.addNode(id);
  const admin = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
  try {
    const t0 = Date.now();
    await admin.addMember({ id, address: m.addr });
    for (;;) {
      const s = await admin.clusterStatus({ deadlineMs: 2000 }).catch(() => null); // ask again
      const role = s?.members.find((x) => x.id === id)?.role;
      if (role !== undefined && role !== 'learner') return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`${id} not a voter after ${timeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    admin.close();
  }
}
