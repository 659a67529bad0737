// The benchmark's raftseq cluster: the test kit's ProcCluster running the
// built dist/ (what users run: real processes, real fsync) in the
// benchmark's directory, plus what only the benchmark asks of it: the
// leader's address as clients see it, "serving" measured as a first Next,
// and a new member's time to catch up.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { SequenceClient, type ClientTls } from '../../src/client/index.js';
import { ensureLocalTls, type LocalTls } from '../../scripts/local-tls.js';
import { DEFAULTS } from '../../src/node/options.js';
import { imageRuntime } from '../../test/deploy/pods.js';
import { ProcCluster } from '../../test/support/proc-cluster.js';

export type RaftseqCluster = ProcCluster;

/** What a client of a TLS cluster needs: the CA's file (clients present no certificate). */
export interface BenchTls {
  /** The CA certificate file. */
  ca: string;
}

/**
 * Certificates for a TLS cluster of `size` nodes in `dir` (scripts/local-tls.ts:
 * the same CA code `raftseq certs` and `npm start -- --tls` use).
 */
async function tlsFor(dir: string, size: number): Promise<LocalTls> {
  const members = Array.from({ length: size }, (_, i) => ({
    id: `n${i + 1}`,
    hosts: ['127.0.0.1'],
  }));
  return (await ensureLocalTls(dir, members)).tls;
}

/**
 * The glibc malloc settings of the image (deploy/Dockerfile's MALLOC_* ENV
 * lines), which the nodes run with as users of the image do; none with
 * RAFTSEQ_BENCH_GLIBC_DEFAULTS=1 (glibc's defaults, as `raftseq serve` run
 * by hand without them).
 */
function nodeEnv(): Record<string, string> {
  if (process.env['RAFTSEQ_BENCH_GLIBC_DEFAULTS'] === '1') return {};
  return Object.fromEntries(
    Object.entries(imageRuntime().env).filter(([k]) => k.startsWith('MALLOC_')),
  );
}

/**
 * Starts `size` nodes from dist/ (data and logs under `dir`); resolves once a
 * Next is served. With `tls`, the one port speaks TLS (certificates under
 * `dir`/tls) and `cluster.tls` tells clients how to connect.
 */
export async function startRaftseqCluster(
  dir: string,
  size = 3,
  opts: { tls?: boolean } = {},
): Promise<ProcCluster & { tls?: BenchTls }> {
  const tls = opts.tls ? await tlsFor(join(dir, 'tls'), size) : null;
  const admin =
    tls === null
      ? undefined
      : grpc.credentials.createSsl(
          readFileSync(tls.ca),
          readFileSync(tls.admin.key),
          readFileSync(tls.admin.cert),
        );
  // RAFTSEQ_BENCH_CPU_PROF=<dir>: every node writes a V8 CPU profile there on exit.
  const prof = process.env['RAFTSEQ_BENCH_CPU_PROF'];
  // RAFTSEQ_BENCH_NODE_ARGS: more node flags for every node (e.g. --trace-gc).
  const nodeArgs = (process.env['RAFTSEQ_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const cluster = await ProcCluster.start({
    env: nodeEnv(),
    size,
    dir,
    build: 'dist',
    // The timing `raftseq serve` runs with by default, as users run it.
    electionTimeoutMs: DEFAULTS.electionTimeoutMs,
    heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
    faultInjection: false,
    // Metrics on an ephemeral port: heap, elections and lease losses.
    serveArgs: ['--metrics-listen', '127.0.0.1:0', ...(tls ? ['--ca', tls.ca] : [])],
    ...(tls
      ? {
          serveArgsFor: (id: string) => [
            '--cert',
            tls.member(id).cert,
            '--key',
            tls.member(id).key,
          ],
          credentials: admin!,
        }
      : {}),
    nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...nodeArgs],
  });
  const out: ProcCluster & { tls?: BenchTls } = cluster;
  if (tls) out.tls = { ca: tls.ca };
  try {
    await waitServing(out);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return out;
}

/** The client library's TLS settings for a cluster started with `tls` (else undefined). */
export function clientTls(cluster: { tls?: BenchTls }): ClientTls | undefined {
  return cluster.tls ? { ca: readFileSync(cluster.tls.ca) } : undefined;
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
export async function waitServing(
  cluster: ProcCluster & { tls?: BenchTls },
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = Date.now();
  const tls = clientTls(cluster);
  const c = new SequenceClient({
    endpoints: cluster.endpoints,
    deadlineMs: timeoutMs,
    ...(tls ? { tls } : {}),
  });
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
