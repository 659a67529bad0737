// npm run bench [-- --quick] [--repeat N] [--pin] [--compare FILE]
//               [--only raftseq,tls,trivial,postgres,redis,etcd,h2load,failover,million]
//
// ONE run on this machine, side by side: the raftseq 3-node cluster (real
// processes from dist/, real fsync), the raw grpc-js ceiling (a trivial
// server), PostgreSQL nextval, Redis INCR and a 3-member etcd — all on
// 127.0.0.1, all started here in a tmp dir and stopped at the end. Then
// failover (kill -9 / SIGTERM of the leader), fsyncs per 1,000 values, and
// memory/restart time with many sequences. A second raftseq cluster serves
// TLS on its one port, so that streaming Next over TLS is measured beside
// plaintext in the same rounds (target: at least 0.8x).
//
// Every throughput figure is measured --repeat times (default 3) in rounds
// that alternate their order (see lib/rounds.ts); the report gives medians,
// ranges, and every target of issue 13 with met or missed. --compare FILE
// prints how far each target moved since an earlier run's JSON. --pin puts
// the load generators on one core and the servers on the other (taskset).
//
// Writes bench/results/<date>.json, .md and .svg (+ .png when rsvg-convert
// or ImageMagick exists) and prints the report. Every load loop is bounded.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protoDir } from '../src/proto/package-root.js';
import { SequenceClient } from '../src/client/index.js';
import { ChildProc } from '../test/support/process.js';
import { renderChart } from './lib/chart.js';
import { measureFailover, type FailoverResult } from './lib/failover.js';
import { measureFsyncs } from './lib/fsync.js';
import { encodeMessage, haveH2load, runH2Unary } from './lib/h2load.js';
import { LoadGen, rowOf } from './lib/loadgen-driver.js';
import { measureManySequences } from './lib/many-sequences.js';
import { Etcd, Postgres, Redis, emptyRow, loud } from './lib/peers.js';
import { pinLayout, pinProcesses, setToolAffinity } from './lib/pin.js';
import {
  leaderOf,
  startRaftseqCluster,
  type BenchTls,
  type RaftseqCluster,
} from './lib/raftseq-cluster.js';
import { compareTargets, formatReport, type Comparison } from './lib/report.js';
import { medianRows, runRounds, type Measure } from './lib/rounds.js';
import { evaluateTargets, type TargetResult } from './lib/targets.js';
import type { Job, Row, Target } from './lib/types.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    'usage: npm run bench [-- --quick] [--repeat N] [--pin] [--compare FILE] [--report FILE]\n' +
      '                     [--sequences N] [--only raftseq,tls,trivial,postgres,redis,etcd,h2load,failover,million]\n' +
      '  --quick   shorter windows, headline concurrency only, fewer kills (about 5 min)\n' +
      '  --only    measure only these parts (tls: streaming Next over TLS beside plaintext)\n',
  );
  process.exit(0);
}
const option = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ??
  (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const quick = argv.includes('--quick');
const pin = argv.includes('--pin');
const onlyArg = option('--only');
const only = onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (part: string): boolean => only === null || only.has(part);
const repeat = Number(option('--repeat') ?? 3);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
const compareFile = option('--compare');
const reportFile = option('--report');

const P = quick
  ? {
      warmupMs: 300,
      durationMs: 2000,
      peerSeconds: 2,
      conc: [64],
      peerConc: [64],
      kills: 3,
      sequences: 100_000,
      sequencesMaxMs: 60_000,
      countSeries: [1, 100, 10_000, 100_000],
    }
  : {
      warmupMs: 1000,
      durationMs: 4000,
      peerSeconds: 4,
      conc: [1, 16, 64, 256],
      peerConc: [16, 64, 256],
      kills: 20,
      sequences: 1_000_000,
      sequencesMaxMs: 600_000,
      countSeries: [1, 10, 100, 1000, 10_000, 100_000],
    };
const seqArg = option('--sequences');
if (seqArg) P.sequences = Number(seqArg);
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
  repeat: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memGiB: number;
    node: string;
    kernel: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
    pinned?: string;
  };
  rows: Row[];
  /** rounds[r]: every throughput row of round r, in the order of `rows`. */
  rounds: Row[][];
  targets: TargetResult[];
  compared?: Comparison;
  skipped: string[];
  failover?: FailoverResult;
  countSeries?: Row[];
  fsync?: Record<string, number | string | null>;
  sequencesAtScale?: Record<string, number | string | null>;
  wallSeconds?: number;
}

/** What the throughput rounds measure, and where. */
interface Servers {
  trivial?: { proc: ChildProc; address: string };
  cluster?: RaftseqCluster;
  leader?: { id: string; address: string };
  /** The same cluster with TLS on (certificates under its directory). */
  tlsCluster?: RaftseqCluster & { tls?: BenchTls };
  pg?: Postgres;
  redis: { mode: 'none' | 'always'; redis: Redis }[];
  etcd?: Etcd;
  h2load: boolean;
}

async function main(): Promise<void> {
  const loadavg = (): number[] =>
    readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const loadAtStart = loadavg();
  if ((loadAtStart[0] ?? 0) > 1.5) {
    loud(
      `the machine is busy (load average ${loadAtStart.join(' ')} on ${cpus().length} cores): ` +
        'other processes compete for the CPU; compare ratios within this run, not absolute numbers',
    );
  }
  const workDir = mkdtempSync(join(tmpdir(), 'raftseq-bench-'));
  chmodSync(workDir, 0o755); // the postgres user must reach its data directory
  const results: Results = {
    date: new Date().toISOString(),
    quick,
    repeat,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
      loadAverageAtStart: loadAtStart,
    },
    rows: [],
    rounds: [],
    targets: [],
    skipped: [],
  };
  const cleanups: (() => void | Promise<void>)[] = [];
  const lg = new LoadGen();
  cleanups.push(() => lg.close());
  const skip = (what: string): void => {
    results.skipped.push(what);
    loud(`SKIPPED: ${what}`);
  };

  try {
    const servers = await startServers(workDir, cleanups, skip);
    const layout = pin ? pinLayout(cpus().length) : null;
    if (pin && layout === null) skip('--pin: needs at least 2 cores');
    if (layout !== null) {
      pinProcesses([lg.pid], layout.clients);
      pinProcesses(serverPids(servers), layout.servers);
      setToolAffinity(layout.clients);
      results.machine.pinned = `load generators on core ${layout.clients}, servers on core ${layout.servers} (--pin)`;
    }

    // -------------------------------------------------- throughput, in rounds
    const { main: mainMeasures, count: countMeasures } = measures(servers, lg, workDir);
    const all = [...mainMeasures, ...countMeasures];
    log(`${all.length} measurements x ${repeat} rounds ...`);
    const rounds = await runRounds(all, repeat, log);
    const medians = medianRows(rounds);
    results.rows = medians.slice(0, mainMeasures.length);
    results.rounds = rounds.map((r) => r.slice(0, mainMeasures.length));
    if (countMeasures.length) results.countSeries = medians.slice(mainMeasures.length);

    // ---------------------------------------- raftseq: fsync, failover, scale
    const cluster = servers.cluster;
    if (cluster !== undefined && servers.leader !== undefined) {
      if (want('raftseq') || want('fsync')) {
        // The leader now: an election during the rounds (a loaded machine)
        // would leave the first one a follower that serves nothing.
        results.fsync = await measureFsyncs(
          lg,
          cluster,
          await leaderOf(cluster),
          streamsFor(HEADLINE),
          HEADLINE,
        );
        log(`fsync: ${JSON.stringify(results.fsync)}`);
      }
      if (want('failover')) {
        log(`failover: ${P.kills} x kill -9 of the leader, then SIGTERM ...`);
        results.failover = await measureFailover(cluster, P.kills, log);
      }
      if (want('million')) {
        results.sequencesAtScale = await measureManySequences(
          lg,
          cluster,
          P.sequences,
          P.sequencesMaxMs,
          log,
        );
        log(`sequences at scale: ${JSON.stringify(results.sequencesAtScale)}`);
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

  results.targets = evaluateTargets({
    rounds: results.rounds,
    concurrency: HEADLINE,
    failover: results.failover,
    fsync: results.fsync,
    sequencesAtScale: results.sequencesAtScale,
  });
  if (compareFile !== undefined) {
    const then = JSON.parse(readFileSync(compareFile, 'utf8')) as { targets?: TargetResult[] };
    results.compared = compareTargets(compareFile, then.targets ?? [], results.targets);
  }
  results.wallSeconds = (Date.now() - t0) / 1000;
  results.machine.loadAverageAtEnd = loadavg();
  writeResults(results);
}

/** Starts every server the run wants; each registers its own cleanup. */
async function startServers(
  workDir: string,
  cleanups: (() => void | Promise<void>)[],
  skip: (what: string) => void,
): Promise<Servers> {
  const s: Servers = { redis: [], h2load: false };
  if (want('trivial')) {
    log('trivial grpc-js server ...');
    const trivial = await startTrivial();
    cleanups.push(async () => {
      await trivial.proc.kill();
    });
    s.trivial = trivial;
  }
  if (want('raftseq') || want('failover') || want('million') || want('fsync')) {
    log('raftseq 3-node cluster ...');
    const cluster = await startRaftseqCluster(join(workDir, 'raftseq'));
    cleanups.push(() => cluster.stop({ graceful: true }));
    s.cluster = cluster;
    s.leader = await leaderOf(cluster);
    log(`raftseq leader ${s.leader.id} at ${s.leader.address}`);
  }
  if (want('tls')) {
    log('raftseq 3-node cluster with TLS ...');
    const tlsCluster = await startRaftseqCluster(join(workDir, 'raftseq-tls'), 3, { tls: true });
    cleanups.push(() => tlsCluster.stop({ graceful: true }));
    s.tlsCluster = tlsCluster;
  }
  if (want('postgres')) {
    log('PostgreSQL ...');
    const pg = await Postgres.start(join(workDir, 'pg')).catch((e: Error) => {
      loud(`PostgreSQL failed to start: ${e.message}`);
      return null;
    });
    if (pg === null) skip('PostgreSQL nextval (not installed / failed to start)');
    else {
      cleanups.push(() => pg.stop());
      s.pg = pg;
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
      s.redis.push({ mode, redis });
    }
  }
  if (want('etcd')) {
    log('etcd 3-member cluster ...');
    const etcd = await Etcd.start(join(workDir, 'etcd'));
    if (etcd === null) skip('etcd (not installed / failed to start)');
    else {
      cleanups.push(() => etcd.stop());
      s.etcd = etcd;
    }
  }
  if (want('h2load')) {
    s.h2load = haveH2load();
    if (!s.h2load) skip('h2load (nghttp2-client): server-side unary figures');
  }
  return s;
}

function serverPids(s: Servers): number[] {
  return [
    ...(s.trivial?.proc.pid ? [s.trivial.proc.pid] : []),
    ...(s.cluster?.pids() ?? []),
    ...(s.tlsCluster?.pids() ?? []),
    ...(s.pg ? [s.pg.postmasterPid()] : []),
    ...s.redis.flatMap((r) => r.redis.pids()),
    ...(s.etcd?.pids() ?? []),
  ];
}

/**
 * Every throughput measurement, the headline comparisons first and side by
 * side (each ratio's two sides run one after the other in every round).
 */
function measures(s: Servers, lg: LoadGen, workDir: string): { main: Measure[]; count: Measure[] } {
  const main: Measure[] = [];
  const count: Measure[] = [];
  /** A load-generator measurement; `j` may be built at each run (a raftseq job asks who leads). */
  const viaLoadGen = (
    system: string,
    config: string,
    j: Job | (() => Promise<Job>),
    pids: () => number[],
    countPerOp = 1,
  ): Measure => {
    const jobNow = (): Promise<Job> => (typeof j === 'function' ? j() : Promise.resolve(j));
    return {
      id: typeof j === 'function' ? `${system} ${config}` : j.id,
      run: async () => {
        const now = await jobNow().catch((e: unknown) => e as Error);
        if (now instanceof Error) return failedRow(system, config, 0, now);
        try {
          return rowOf(system, config, now, await lg.run(now, pids), countPerOp);
        } catch (e) {
          return failedRow(system, config, now.concurrency, e);
        }
      },
      warm: async () => {
        const now = await jobNow().catch(() => null); // no warm-up if the job cannot start
        if (now === null) return;
        await lg
          .run({ ...now, id: `${now.id}-warm`, warmupMs: 0, durationMs: 500 }, pids)
          .catch(() => null); // warm-up only: the measured run reports failures
      },
    };
  };
  const plain = (id: string, run: () => Promise<Row>): Measure => ({ id, run });

  const trivial = s.trivial;
  const trivialPids = (): number[] => (trivial?.proc.pid ? [trivial.proc.pid] : []);
  const cluster = s.cluster;
  const clusterPids = (): number[] => cluster?.pids() ?? [];
  const etcd = s.etcd;
  const etcdAddress = etcd?.leader() ?? etcd?.clientAddrs[0];
  const etcdPids = (): number[] => etcd?.pids() ?? [];
  // The leader at the time a measurement runs: an election between two
  // measurements (a leader starved of CPU misses its heartbeats) must not
  // turn every later raftseq row into "not the leader".
  const leaderAddress = async (): Promise<string> => {
    if (cluster === undefined) throw new Error('no raftseq cluster');
    return (await leaderOf(cluster)).address;
  };
  const stream = (
    address: string,
    sequence: string,
    n: number,
    c: number,
    tlsCa?: string,
  ): Target => ({
    kind: 'stream',
    address,
    sequence,
    count: n,
    streams: streamsFor(c),
    ...(tlsCa !== undefined ? { tlsCa } : {}),
  });

  // Headline: the targets' pairs, next to each other.
  const c = HEADLINE;
  if (trivial) {
    main.push(
      viaLoadGen(
        'grpc-js trivial',
        `bidi ${streamsFor(c)} streams`,
        job(`trivial-stream-${c}`, stream(trivial.address, 't', 1, c), c),
        trivialPids,
      ),
    );
  }
  if (cluster && want('raftseq')) {
    main.push(
      viaLoadGen(
        'raftseq',
        `stream ${streamsFor(c)} count=1`,
        async () =>
          job(
            `raftseq-stream-1-${c}`,
            stream(await leaderAddress(), `bench.stream.1.${c}`, 1, c),
            c,
          ),
        clusterPids,
      ),
    );
  }
  const tlsCluster = s.tlsCluster;
  if (tlsCluster?.tls !== undefined) {
    // Right after the plaintext stream, so that both sides of the ratio run
    // next to each other in every round.
    const tlsCa = tlsCluster.tls.ca;
    main.push(
      viaLoadGen(
        'raftseq',
        `stream ${streamsFor(c)} count=1 over TLS`,
        async () =>
          job(
            `raftseq-tls-stream-1-${c}`,
            stream((await leaderOf(tlsCluster)).address, `bench.tls.stream.1.${c}`, 1, c, tlsCa),
            c,
          ),
        () => tlsCluster.pids(),
      ),
    );
  }
  if (cluster && want('raftseq')) {
    for (const transport of ['stream', 'unary'] as const) {
      const target: Target = {
        kind: 'client',
        endpoints: cluster.endpoints,
        sequence: `bench.client.${transport}`,
        count: 1,
        transport,
      };
      main.push(
        viaLoadGen(
          'raftseq',
          `SequenceClient ${transport}`,
          job(`raftseq-client-${transport}`, target, c),
          clusterPids,
        ),
      );
    }
  }
  if (s.pg) {
    const pg = s.pg;
    for (const pc of P.peerConc) {
      main.push(
        plain(`pg-cache1-${pc}`, () =>
          pg.nextval('s_cache1', pc, P.peerSeconds, 'nextval CACHE 1'),
        ),
      );
      main.push(
        plain(`pg-cache100-${pc}`, () =>
          pg.nextval('s_cache100', pc, P.peerSeconds, 'nextval CACHE 100'),
        ),
      );
    }
  }
  if (cluster && want('raftseq')) {
    const unary = async (): Promise<Job> =>
      job(
        `raftseq-unary-1-${c}`,
        { kind: 'unary', address: await leaderAddress(), sequence: `bench.unary.1.${c}`, count: 1 },
        c,
      );
    main.push(viaLoadGen('raftseq', 'unary count=1', unary, clusterPids));
  }
  if (trivial) {
    const unary: Target = { kind: 'unary', address: trivial.address, sequence: 't', count: 1 };
    main.push(
      viaLoadGen('grpc-js trivial', 'unary', job(`trivial-unary-${c}`, unary, c), trivialPids),
    );
  }
  if (etcd && etcdAddress) {
    const put: Target = { kind: 'etcd-put', address: etcdAddress, key: 'ctr-put' };
    main.push(
      viaLoadGen('etcd', 'put-as-counter (revision)', job(`etcd-put-${c}`, put, c), etcdPids),
    );
  }
  if (s.h2load) {
    const nextRequest = encodeMessage(
      protoDir(),
      'raftseq/v1/sequencer.proto',
      'raftseq.v1.NextRequest',
      {
        sequence: 'bench.h2load',
        count: 1,
      },
    );
    const counterOf = (endpoints: string[]) => async (): Promise<bigint> => {
      const client = new SequenceClient({ endpoints, transport: 'unary' });
      try {
        return (await client.next('bench.h2load')).first;
      } finally {
        client.close();
      }
    };
    if (trivial) {
      main.push(
        plain('h2load-trivial', () =>
          runH2Unary(
            {
              system: 'grpc-js trivial',
              config: 'unary (h2load)',
              address: trivial.address,
              path: '/raftseq.v1.Sequencer/Next',
              message: nextRequest,
              counter: counterOf([trivial.address]),
              probeCost: 1n,
              serverPids: trivialPids,
            },
            c,
            P.peerSeconds,
            join(workDir, 'h2load-trivial'),
          ),
        ),
      );
    }
    if (cluster && want('raftseq')) {
      main.push(
        plain('h2load-raftseq', async () =>
          runH2Unary(
            {
              system: 'raftseq',
              config: 'unary count=1 (h2load)',
              address: await leaderAddress(),
              path: '/raftseq.v1.Sequencer/Next',
              message: nextRequest,
              counter: counterOf(cluster.endpoints),
              probeCost: 1n,
              serverPids: clusterPids,
            },
            c,
            P.peerSeconds,
            join(workDir, 'h2load-raftseq'),
          ),
        ),
      );
    }
    if (etcd && etcdAddress) {
      main.push(
        plain('h2load-etcd', () =>
          runH2Unary(
            {
              system: 'etcd',
              config: 'put-as-counter (h2load)',
              address: etcdAddress,
              path: '/etcdserverpb.KV/Put',
              message: encodeMessage(
                join(benchDir, 'proto'),
                'etcd/kv.proto',
                'etcdserverpb.PutRequest',
                {
                  key: Buffer.from('ctr-h2load'),
                  value: Buffer.from('x'),
                },
              ),
              counter: () => Promise.resolve(etcd.revision(etcdAddress)),
              probeCost: 0n,
              serverPids: etcdPids,
            },
            c,
            P.peerSeconds,
            join(workDir, 'h2load-etcd'),
          ),
        ),
      );
    }
  }

  // The rest: other in-flight counts, bulk paths, the other peers.
  if (trivial) {
    for (const tc of P.conc.filter((x) => x !== c)) {
      const unary: Target = { kind: 'unary', address: trivial.address, sequence: 't', count: 1 };
      main.push(
        viaLoadGen('grpc-js trivial', 'unary', job(`trivial-unary-${tc}`, unary, tc), trivialPids),
      );
      main.push(
        viaLoadGen(
          'grpc-js trivial',
          `bidi ${streamsFor(tc)} streams`,
          job(`trivial-stream-${tc}`, stream(trivial.address, 't', 1, tc), tc),
          trivialPids,
        ),
      );
    }
  }
  if (cluster && want('raftseq')) {
    for (const n of [1, 1000]) {
      for (const rc of n === 1 ? P.conc.filter((x) => x !== c) : P.conc) {
        const unary = async (): Promise<Job> =>
          job(
            `raftseq-unary-${n}-${rc}`,
            {
              kind: 'unary',
              address: await leaderAddress(),
              sequence: `bench.unary.${n}.${rc}`,
              count: n,
            },
            rc,
          );
        main.push(viaLoadGen('raftseq', `unary count=${n}`, unary, clusterPids, n));
        main.push(
          viaLoadGen(
            'raftseq',
            `stream ${streamsFor(rc)} count=${n}`,
            async () =>
              job(
                `raftseq-stream-${n}-${rc}`,
                stream(await leaderAddress(), `bench.stream.${n}.${rc}`, n, rc),
                rc,
              ),
            clusterPids,
            n,
          ),
        );
      }
    }
    // Client leasing: values handed out in-process (one awaited next() per
    // value, and tryNext() in batches of 1,000 per op).
    for (const batch of [undefined, 1000]) {
      const target: Target = {
        kind: 'lease',
        endpoints: cluster.endpoints,
        sequence: `bench.lease.${batch ?? 1}`,
        blockSize: 100_000,
        ...(batch === undefined ? {} : { batch }),
      };
      const j = job(`raftseq-lease-${batch ?? 1}`, target, c);
      j.maxOps = Math.ceil((P.durationMs / 1000) * 20_000_000);
      const config =
        batch === undefined ? 'client lease, await next()' : `client lease, tryNext() x${batch}`;
      main.push(viaLoadGen('raftseq', config, j, clusterPids, batch ?? 1));
    }
    // ids/s against count.
    for (const n of P.countSeries) {
      const j = async (): Promise<Job> =>
        job(
          `raftseq-count-${n}`,
          stream(await leaderAddress(), `bench.count.${n}`, n, c),
          c,
          Math.min(P.durationMs, 3000),
        );
      count.push(viaLoadGen('raftseq', `stream count=${n}`, j, clusterPids, n));
    }
  }
  for (const { mode, redis } of s.redis) {
    const config = mode === 'none' ? 'INCR, no persistence' : 'INCR, appendfsync always';
    for (const pc of P.peerConc)
      main.push(plain(`redis-${mode}-${pc}`, () => redis.incr(pc, P.peerSeconds, config)));
  }
  if (etcd && etcdAddress) {
    for (const pc of P.peerConc) {
      const cas: Target = { kind: 'etcd-cas', address: etcdAddress, key: 'ctr-cas' };
      main.push(
        viaLoadGen('etcd', 'CAS increment (Txn)', job(`etcd-cas-${pc}`, cas, pc), etcdPids),
      );
      if (pc !== c) {
        const put: Target = { kind: 'etcd-put', address: etcdAddress, key: 'ctr-put' };
        main.push(
          viaLoadGen('etcd', 'put-as-counter (revision)', job(`etcd-put-${pc}`, put, pc), etcdPids),
        );
      }
    }
  }
  return { main, count };
}

function failedRow(system: string, config: string, concurrency: number, e: unknown): Row {
  return {
    ...emptyRow(system, config, concurrency),
    note: `failed: ${e instanceof Error ? e.message : String(e)}`,
  };
}

function writeResults(results: Results, rewrite = false): void {
  const outDir = join(benchDir, 'results');
  mkdirSync(outDir, { recursive: true });
  const stamp =
    results.date.replace(/[:]/g, '-').replace(/\..*$/, '') + (results.quick ? '-quick' : '');
  const jsonPath = join(outDir, `${stamp}.json`);
  if (!rewrite) writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  const svg = renderChart(results.rows, HEADLINE, results.date, results.quick);
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
      `wall time ${(results.wallSeconds ?? 0).toFixed(0)} s\n`,
  );
}

/** A mistake in the command line: one line on stderr, exit code 2. */
class UsageError extends Error {}

/** --report FILE: the results JSON of an earlier run, or a one-line reason why not. */
function readResults(file: string): Results {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--report ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (typeof parsed !== 'object' || parsed === null || !('rows' in parsed))
    throw new UsageError(`--report ${file}: not a bench results file (bench/results/*.json)`);
  return parsed as Results;
}

const run = reportFile
  ? async () => {
      writeResults(readResults(reportFile), true);
    }
  : main;
run().catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
