// npm run bench [-- --quick] [-- --only raftseq,trivial,postgres,redis,etcd,failover,million]
//
// ONE run on this machine, side by side: the raftseq 3-node cluster (real
// processes from dist/, real fsync), the raw grpc-js ceiling (a trivial
// server), PostgreSQL nextval, Redis INCR and a 3-member etcd — all on
// 127.0.0.1, all started here in a tmp dir and stopped at the end. Then
// failover (kill -9 / SIGTERM of the leader), ids/s against count, fsyncs per
// 1,000 values, and memory/restart time with many sequences.
//
// Writes bench/results/<date>.json and .svg (+ .png when rsvg-convert or
// ImageMagick exists) and prints the table. Every load loop is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SequenceClient } from '../src/client/index.js';
import { ChildProc } from '../test/support/process.js';
import { renderChart } from './lib/chart.js';
import { measureFailover, type FailoverResult } from './lib/failover.js';
import { LoadGen, rowOf } from './lib/loadgen-driver.js';
import { Etcd, Postgres, Redis, loud } from './lib/peers.js';
import { rssBytes } from './lib/procstat.js';
import {
  joinMember,
  leaderOf,
  startRaftseqCluster,
  waitServing,
  type RaftseqCluster,
} from './lib/raftseq-cluster.js';
import { formatReport, ratios } from './lib/report.js';
import type { Job, Row, Target } from './lib/types.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg =
  argv.find((a) => a.startsWith('--only='))?.slice(7) ??
  (argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined);
const only = onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (part: string): boolean => only === null || only.has(part);

const P = quick
  ? {
      warmupMs: 300,
      durationMs: 2000,
      peerSeconds: 2,
      conc: [1, 16, 64, 256],
      kills: 3,
      sequences: 100_000,
      countSeries: [1, 100, 10_000, 100_000],
    }
  : {
      warmupMs: 1000,
      durationMs: 6000,
      peerSeconds: 6,
      conc: [1, 16, 64, 256],
      kills: 10,
      sequences: 1_000_000,
      countSeries: [1, 10, 100, 1000, 10_000, 100_000],
    };
const seqArg = argv.find((a) => a.startsWith('--sequences='));
if (seqArg) P.sequences = Number(seqArg.slice(12));
const PEER_CONC = quick ? [64] : [16, 64, 256];
const HEADLINE = 64;

/** Streams used for `c` calls in flight: ~4 in flight per stream, at most 64 streams. */
const streamsFor = (c: number): number => Math.max(1, Math.min(64, Math.ceil(c / 4)));

const t0 = Date.now();
const log = (msg: string): void => {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
};

function job(id: string, target: Target, concurrency: number, durationMs = P.durationMs): Job {
  return {
    id,
    target,
    concurrency,
    warmupMs: P.warmupMs,
    durationMs,
    maxOps: Math.ceil((durationMs / 1000) * 400_000),
  };
}

/** The trivial server binds port 0 and prints the port it got. */
async function startTrivial(): Promise<{ proc: ChildProc; address: string }> {
  const proc = ChildProc.spawn('trivial server', process.execPath, [
    '--import',
    'tsx',
    join(benchDir, 'trivial-server.ts'),
  ]);
  const port = await proc.waitForLine(
    (line) => (/^\d+$/.test(line) ? line : undefined),
    'its port',
    20_000,
  );
  return { proc, address: `127.0.0.1:${port}` };
}

interface Results {
  date: string;
  quick: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    memGiB: number;
    node: string;
    kernel: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
  };
  rows: Row[];
  skipped: string[];
  failover?: FailoverResult;
  countSeries?: Row[];
  fsync?: Record<string, number | string | null>;
  sequencesAtScale?: Record<string, number | string | null>;
  wallSeconds?: number;
}

async function main(): Promise<void> {
  const loadavg = (): number[] =>
    readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const loadAtStart = loadavg();
  if ((loadAtStart[0] ?? 0) > 1.5) {
    loud(
      `the machine is busy (load average ${loadAtStart.join(' ')} on ${cpus().length} cores): ` +
        'other processes compete for the CPU; numbers are not comparable to a quiet run',
    );
  }
  const workDir = mkdtempSync(join(tmpdir(), 'raftseq-bench-'));
  chmodSync(workDir, 0o755); // the postgres user must reach its data directory
  const results: Results = {
    date: new Date().toISOString(),
    quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
      loadAverageAtStart: loadAtStart,
    },
    rows: [],
    skipped: [],
  };
  const rows = results.rows;
  const cleanups: (() => void | Promise<void>)[] = [];
  const lg = new LoadGen();
  cleanups.push(() => lg.close());
  const push = (r: Row): void => {
    rows.push(r);
    log(
      `${r.system} ${r.config} c=${r.concurrency}: ${Math.round(r.opsPerSec)} ops/s, ` +
        `p50 ${r.latencyMs.p50?.toFixed(2)} ms, p99 ${r.latencyMs.p99?.toFixed(2)} ms` +
        (r.errors ? `, ${r.errors} errors (${r.note})` : ''),
    );
  };
  const skip = (what: string): void => {
    results.skipped.push(what);
    loud(`SKIPPED: ${what}`);
  };

  try {
    // ------------------------------------------------------------ raw ceiling
    if (want('trivial')) {
      log('trivial grpc-js server ...');
      const trivial = await startTrivial();
      cleanups.push(async () => {
        await trivial.proc.kill();
      });
      const pids = (): number[] => [trivial.proc.pid!];
      for (const c of P.conc) {
        const target: Target = { kind: 'unary', address: trivial.address, sequence: 't', count: 1 };
        const j = job(`trivial-unary-${c}`, target, c);
        push(rowOf('grpc-js trivial', 'unary', j, await lg.run(j, pids), 1));
      }
      for (const c of P.conc) {
        const target: Target = {
          kind: 'stream',
          address: trivial.address,
          sequence: 't',
          count: 1,
          streams: streamsFor(c),
        };
        const j = job(`trivial-stream-${c}`, target, c);
        push(
          rowOf('grpc-js trivial', `bidi ${streamsFor(c)} streams`, j, await lg.run(j, pids), 1),
        );
      }
      await trivial.proc.kill();
    }

    // ---------------------------------------------------------------- raftseq
    if (want('raftseq') || want('failover') || want('million') || want('fsync')) {
      log('raftseq 3-node cluster ...');
      const cluster = await startRaftseqCluster(join(workDir, 'raftseq'));
      cleanups.push(() => cluster.stop({ graceful: true }));
      const pids = (): number[] => cluster.pids();
      let leader = await leaderOf(cluster);
      log(`raftseq leader ${leader.id} at ${leader.address}`);

      if (want('raftseq')) {
        let streamOk = true;
        for (const count of [1, 1000]) {
          for (const mode of ['unary', 'stream'] as const) {
            if (mode === 'stream' && !streamOk) continue;
            for (const c of P.conc) {
              const seq = `bench.${mode}.${count}.${c}`;
              const target: Target =
                mode === 'unary'
                  ? { kind: 'unary', address: leader.address, sequence: seq, count }
                  : {
                      kind: 'stream',
                      address: leader.address,
                      sequence: seq,
                      count,
                      streams: streamsFor(c),
                    };
              const j = job(`raftseq-${mode}-${count}-${c}`, target, c);
              const r = rowOf(
                'raftseq',
                `${mode === 'unary' ? 'unary' : `stream ${streamsFor(c)}`} count=${count}`,
                j,
                await lg.run(j, pids),
                count,
              );
              if (mode === 'stream' && r.opsPerSec === 0 && /UNIMPLEMENTED|12/.test(r.note ?? '')) {
                streamOk = false;
                skip('raftseq NextStream: server does not implement it');
                continue;
              }
              push(r);
            }
          }
        }
        // The library, as users call it (default transport: pipelined streams).
        for (const transport of ['unary', 'stream'] as const) {
          const target: Target = {
            kind: 'client',
            endpoints: cluster.endpoints,
            sequence: `bench.client.${transport}`,
            count: 1,
            transport,
          };
          const j = job(`raftseq-client-${transport}`, target, HEADLINE);
          push(rowOf('raftseq', `SequenceClient ${transport}`, j, await lg.run(j, pids), 1));
        }
        // Client leasing: values handed out in-process (one awaited next()
        // per value, and tryNext() in batches of 1,000 per op).
        for (const batch of [undefined, 1000]) {
          const target: Target = {
            kind: 'lease',
            endpoints: cluster.endpoints,
            sequence: `bench.lease.${batch ?? 1}`,
            blockSize: 100_000,
            ...(batch === undefined ? {} : { batch }),
          };
          const j = job(`raftseq-lease-${batch ?? 1}`, target, HEADLINE);
          j.maxOps = Math.ceil((P.durationMs / 1000) * 20_000_000);
          const config =
            batch === undefined
              ? 'client lease, await next()'
              : `client lease, tryNext() x${batch}`;
          try {
            push(rowOf('raftseq', config, j, await lg.run(j, pids), batch ?? 1));
          } catch (e) {
            skip(`raftseq client leasing: ${(e as Error).message}`);
          }
        }
      }

      if (want('raftseq') || want('fsync')) {
        // ids/s against count, and fsyncs per 1,000 values.
        results.countSeries = [];
        for (const count of P.countSeries) {
          const target: Target = {
            kind: 'stream',
            address: leader.address,
            sequence: `bench.count.${count}`,
            count,
            streams: streamsFor(HEADLINE),
          };
          const j = job(`raftseq-count-${count}`, target, HEADLINE, Math.min(P.durationMs, 3000));
          const r = rowOf('raftseq', `stream count=${count}`, j, await lg.run(j, pids), count);
          results.countSeries.push(r);
          log(`count=${count}: ${Math.round(r.idsPerSec).toLocaleString('en-US')} ids/s`);
        }
        results.fsync = await measureFsyncs(lg, cluster, leader);
        log(`fsync: ${JSON.stringify(results.fsync)}`);
      }

      if (want('failover')) {
        log(`failover: ${P.kills} x kill -9 of the leader, then SIGTERM ...`);
        results.failover = await measureFailover(cluster, P.kills, log);
        leader = await leaderOf(cluster);
      }

      if (want('million')) {
        results.sequencesAtScale = await measureManySequences(lg, cluster, P.sequences);
        log(`sequences at scale: ${JSON.stringify(results.sequencesAtScale)}`);
      }
      await cluster.stop({ graceful: true });
    }

    // ------------------------------------------------------------------ peers
    if (want('postgres')) {
      log('PostgreSQL ...');
      const pg = await Postgres.start(join(workDir, 'pg')).catch((e: Error) => {
        loud(`PostgreSQL failed to start: ${e.message}`);
        return null;
      });
      if (pg === null) skip('PostgreSQL nextval (not installed / failed to start)');
      else {
        cleanups.push(() => pg.stop());
        for (const c of PEER_CONC) {
          push(await pg.nextval('s_cache1', c, P.peerSeconds, 'nextval CACHE 1'));
          push(await pg.nextval('s_cache100', c, P.peerSeconds, 'nextval CACHE 100'));
        }
        pg.stop();
      }
    }
    if (want('redis')) {
      for (const mode of ['none', 'always'] as const) {
        log(`Redis (${mode}) ...`);
        const redis = await Redis.start(workDir, mode);
        if (redis === null) {
          skip(`Redis INCR (${mode})`);
          continue;
        }
        cleanups.push(() => redis.stop());
        const config = mode === 'none' ? 'INCR, no persistence' : 'INCR, appendfsync always';
        for (const c of PEER_CONC) push(await redis.incr(c, P.peerSeconds, config));
        redis.stop();
      }
    }
    if (want('etcd')) {
      log('etcd 3-member cluster ...');
      const etcd = await Etcd.start(join(workDir, 'etcd'));
      if (etcd === null) skip('etcd (not installed / failed to start)');
      else {
        cleanups.push(() => etcd.stop());
        const address = etcd.leader() ?? etcd.clientAddrs[0]!;
        for (const c of PEER_CONC) {
          const jp = job(`etcd-put-${c}`, { kind: 'etcd-put', address, key: 'ctr-put' }, c);
          push(
            rowOf('etcd', 'put-as-counter (revision)', jp, await lg.run(jp, () => etcd.pids()), 1),
          );
          const jc = job(`etcd-cas-${c}`, { kind: 'etcd-cas', address, key: 'ctr-cas' }, c);
          push(rowOf('etcd', 'CAS increment (Txn)', jc, await lg.run(jc, () => etcd.pids()), 1));
        }
        etcd.stop();
      }
    }
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    if (!process.env['RAFTSEQ_BENCH_KEEP']) rmSync(workDir, { recursive: true, force: true });
    else log(`kept ${workDir}`);
  }

  results.wallSeconds = (Date.now() - t0) / 1000;
  results.machine.loadAverageAtEnd = loadavg();
  const outDir = join(benchDir, 'results');
  mkdirSync(outDir, { recursive: true });
  const stamp = results.date.replace(/[:]/g, '-').replace(/\..*$/, '') + (quick ? '-quick' : '');
  const jsonPath = join(outDir, `${stamp}.json`);
  writeFileSync(
    jsonPath,
    JSON.stringify({ ...results, ratios: ratios(rows, HEADLINE) }, null, 2) + '\n',
  );
  const svg = renderChart(results.rows, HEADLINE, results.date, quick);
  const svgPath = join(outDir, `${stamp}.svg`);
  writeFileSync(svgPath, svg);
  const pngPath = svgPath.replace(/\.svg$/, '.png');
  const png =
    spawnSync('rsvg-convert', ['-o', pngPath, svgPath]).status === 0 ||
    spawnSync('convert', [svgPath, pngPath]).status === 0;
  const report = formatReport(results, HEADLINE);
  writeFileSync(join(outDir, `${stamp}.md`), report);
  process.stdout.write(report + '\n');
  process.stdout.write(
    `\nresults: ${jsonPath}\nchart:   ${svgPath}${png ? `\n         ${pngPath}` : ''}\n` +
      `wall time ${results.wallSeconds.toFixed(0)} s\n`,
  );
}

/** fsyncs per 1,000 values on the leader (strace -c), and Raft entries per 1,000 values. */
async function measureFsyncs(
  lg: LoadGen,
  cluster: RaftseqCluster,
  leader: { id: string; address: string },
): Promise<Record<string, number | string | null>> {
  const admin = new SequenceClient({ endpoints: [leader.address] });
  const pid = cluster.node(leader.id).proc?.pid;
  const target: Target = {
    kind: 'stream',
    address: leader.address,
    sequence: 'bench.fsync',
    count: 1,
    streams: streamsFor(HEADLINE),
  };
  const j = job('raftseq-fsync', target, HEADLINE, 3000);
  j.warmupMs = 2000; // let the block size adapt: steady state
  let commit0 = 0n;
  let commit1 = 0n;
  let strace: ChildProcess | null = null;
  let straceOut = '';
  const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
  const r = await lg.run(j, () => cluster.pids(), {
    onStart: () => {
      void admin.clusterStatus().then((s) => (commit0 = s.commitIndex));
      if (haveStrace && pid) {
        // Every thread: LevelDB syncs from libuv's thread pool, not the main thread.
        const tids = readdirSync(`/proc/${pid}/task`).flatMap((t) => ['-p', t]);
        strace = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', ...tids], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        strace.stderr?.on('data', (d: Buffer) => (straceOut += d.toString()));
      }
    },
    onEnd: () => {
      (strace as ChildProcess | null)?.kill('SIGINT');
    },
  });
  commit1 = (await admin.clusterStatus()).commitIndex;
  admin.close();
  await sleep(500);
  const values = r.result.values;
  let fsyncs: number | null = null;
  for (const line of straceOut.split('\n')) {
    const m = /^\s*[0-9.]+\s+[0-9.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$/.exec(line);
    if (m) fsyncs = (fsyncs ?? 0) + Number(m[1]);
  }
  if (haveStrace && fsyncs === null && straceOut.includes('total')) fsyncs = 0;
  return {
    values,
    valuesPerSec: Math.round(values / (r.result.elapsedMs / 1000)),
    raftEntries: Number(commit1 - commit0),
    raftEntriesPer1000Values: values ? (Number(commit1 - commit0) / values) * 1000 : null,
    leaderFsyncs: fsyncs,
    leaderFsyncsPer1000Values: fsyncs === null || !values ? null : (fsyncs / values) * 1000,
    method: haveStrace
      ? 'strace -f -c -e fsync,fdatasync on the leader during a 3 s window (after 2 s warm-up); strace slows the process'
      : 'strace not installed: Raft entries only',
  };
}

/** Creates `n` sequences with count=1 calls, then RSS and restart time. */
async function measureManySequences(
  lg: LoadGen,
  cluster: RaftseqCluster,
  n: number,
): Promise<Record<string, number | string | null>> {
  await waitServing(cluster); // serving before the clock starts
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
    durationMs: quick ? 60_000 : 600_000, // bounded: stops at whichever comes first
    maxOps: n,
  };
  const r = await lg.run(j, () => cluster.pids());
  const createSec = r.result.elapsedMs / 1000;
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
  return {
    sequences: r.result.ops,
    sequencesInState: inState,
    errors: r.result.errors,
    createSeconds: Number(createSec.toFixed(1)),
    createPerSec: Math.round(r.result.ops / createSec),
    firstErrors: r.result.firstErrors.join(' | ') || null,
    maxRssMiB: Math.round(maxRss / 2 ** 20),
    maxRssAfterRestartMiB: Math.round(maxRssAfter / 2 ** 20),
    dataDirsMiB: Math.round(diskBytes / 2 ** 20),
    gracefulStopAllMs: stopMs,
    restartToServingMs: restartMs,
    newMemberCatchUpMs: joinMs,
  };
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
