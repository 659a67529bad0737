// The peers users would pick instead of raftseq, each started by the
// benchmark on loopback in a throwaway directory: PostgreSQL (nextval),
// Redis (INCR), a 3-member etcd cluster. Missing ones are installed through
// apt when running as root; a peer that cannot be had is skipped LOUDLY.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { reservePorts } from '../../test/support/ports.js';
import { withToolAffinity } from './pin.js';
import { cpuSecondsOfStatLine, treeCpuSeconds } from './procstat.js';
import { quantile } from './stats.js';
import type { Row } from './types.js';

export function loud(msg: string): void {
  const bar = '!'.repeat(Math.min(100, msg.length + 8));
  process.stderr.write(`\n${bar}\n!!! ${msg}\n${bar}\n\n`);
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Ensures `binary` exists, installing the Debian packages through apt as root. */
export function ensureInstalled(binary: string, packages: string[], find?: () => string | null) {
  const look = find ?? (() => which(binary));
  if (look() !== null) return true;
  if (!isRoot()) {
    loud(`${binary} missing and not root: cannot apt-get install ${packages.join(' ')}`);
    return false;
  }
  process.stderr.write(`bench: installing ${packages.join(' ')} through apt ...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { env, stdio: 'ignore' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { env, stdio: 'ignore' });
  }
  if (look() === null) {
    loud(`could not install ${packages.join(' ')} (apt-get exit ${r.status})`);
    return false;
  }
  return true;
}

/**
 * Runs a benchmark tool to completion and returns its output and the CPU it
 * used (read from the wrapping shell's cutime/cstime after waiting for it).
 */
export function runTool(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string; cpuSec: number | null }> {
  return new Promise((resolve) => {
    const [command, argv] = withToolAffinity(cmd, args);
    const p = spawn(
      'sh',
      [
        '-c',
        '"$@"; rc=$?; read -r l < /proc/$$/stat; echo "CPUSTAT $l" >&2; exit $rc',
        'sh',
        command,
        ...argv,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      const m = /CPUSTAT (.*)/.exec(stderr);
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/CPUSTAT .*\n?/, ''),
        cpuSec: m ? cpuSecondsOfStatLine(m[1] as string) : null,
      });
    });
  });
}

/** A row with nothing measured yet. */
export function emptyRow(system: string, config: string, concurrency: number): Row {
  return {
    system,
    config,
    concurrency,
    opsPerSec: 0,
    idsPerSec: 0,
    latencyMs: {},
    serverCores: null,
    clientCores: null,
    serverUsPerOp: null,
    clientUsPerOp: null,
    errors: 0,
  };
}

// ------------------------------------------------------------------ PostgreSQL

/**
 * Latencies (ms) from pgbench's per-transaction logs (-l), one text per log
 * file. Lines: `client_id transaction_no time script_no time_epoch time_us`.
 * The `time` field cannot be used: pgbench 15 reads the clock lazily, once
 * for many clients of a thread, so about half of the transactions log a
 * time of 0 (that was the p50 of 0.00 ms). The completion timestamps are
 * exact, and each client runs closed-loop with no think time (no -R), so a
 * transaction's latency is the time since the same client's previous
 * completion; each client's first transaction, which includes connecting,
 * is left out.
 */
export function pgbenchLatenciesMs(logs: readonly string[]): number[] {
  const out: number[] = [];
  for (const text of logs) {
    const last = new Map<string, number>();
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6) continue;
      const at = Number(f[4]) * 1e6 + Number(f[5]);
      if (!Number.isFinite(at)) continue;
      const prev = last.get(f[0]!);
      if (prev !== undefined) out.push((at - prev) / 1000);
      last.set(f[0]!, at);
    }
  }
  return out;
}

function pgBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0]!, 'bin') : null;
}

export class Postgres {
  private runs = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  private static asPg(cmd: string, args: string[]): string[] {
    return isRoot() ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args];
  }

  static async start(dir: string): Promise<Postgres | null> {
    if (!ensureInstalled('pg_ctl', ['postgresql'], pgBinDir)) return null;
    const bin = pgBinDir()!;
    mkdirSync(dir, { recursive: true });
    if (isRoot()) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    const run = (argv: string[]): void => {
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${argv.slice(0, 6).join(' ')}: ${r.stderr || r.stdout}`);
    };
    run(
      Postgres.asPg(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '--no-sync',
      ]),
    );
    const ports = await reservePorts(1);
    const port = ports.port(0);
    const opts = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c max_connections=400',
    ].join(' ');
    await ports.release(port);
    run(
      Postgres.asPg(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-w',
        '-l',
        join(dir, 'pg.log'),
        '-o',
        opts,
        'start',
      ]),
    );
    const pg = new Postgres(dir, port, bin);
    pg.psql('CREATE SEQUENCE s_cache1 CACHE 1; CREATE SEQUENCE s_cache100 CACHE 100;');
    return pg;
  }

  psql(sql: string): string {
    return execFileSync(
      join(this.bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-qAt', '-c', sql],
      { encoding: 'utf8' },
    );
  }

  postmasterPid(): number {
    return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** nextval through pgbench with a one-line custom script, -M prepared. */
  async nextval(
    sequence: string,
    concurrency: number,
    seconds: number,
    config: string,
  ): Promise<Row> {
    const script = join(this.dir, `${sequence}.sql`);
    writeFileSync(script, `SELECT nextval('${sequence}');\n`);
    const logDir = join(this.dir, `log-${sequence}-${concurrency}-${++this.runs}`);
    mkdirSync(logDir, { recursive: true });
    const server = [this.postmasterPid()];
    const cpu0 = treeCpuSeconds(server);
    const r = await runTool(
      join(this.bin, 'pgbench'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '-n',
        '-M',
        'prepared',
        '-f',
        script,
        '-c',
        String(concurrency),
        '-j',
        String(Math.min(2, concurrency)),
        '-T',
        String(seconds),
        '-l',
        `--log-prefix=${join(logDir, 'pgb')}`,
        'postgres',
      ],
      (seconds + 60) * 1000,
    );
    await sleep(300); // let the backends exit and be reaped
    const serverCpu = treeCpuSeconds(server) - cpu0;
    const row = emptyRow('PostgreSQL', config, concurrency);
    const tps = /tps = ([0-9.]+) \(without initial/.exec(r.stdout);
    if (r.code !== 0 || !tps) {
      row.note = `pgbench failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`;
      return row;
    }
    const lat = pgbenchLatenciesMs(
      readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')),
    ).sort((a, b) => a - b);
    const ops = Math.round(Number(tps[1]) * seconds);
    const mean = lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length);
    row.opsPerSec = Number(tps[1]);
    row.idsPerSec = row.opsPerSec;
    row.latencyMs = {
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      p999: quantile(lat, 0.999),
      max: lat[lat.length - 1] ?? NaN,
      mean,
    };
    row.serverCores = serverCpu / seconds;
    row.clientCores = r.cpuSec === null ? null : r.cpuSec / seconds;
    row.serverUsPerOp = ops ? (serverCpu / ops) * 1e6 : null;
    row.clientUsPerOp = ops && r.cpuSec !== null ? (r.cpuSec / ops) * 1e6 : null;
    return row;
  }

  stop(): void {
    spawnSync(
      Postgres.asPg(join(this.bin, 'pg_ctl'), [
        '-D',
        join(this.dir, 'data'),
        '-m',
        'immediate',
        'stop',
      ])[0]!,
      Postgres.asPg(join(this.bin, 'pg_ctl'), [
        '-D',
        join(this.dir, 'data'),
        '-m',
        'immediate',
        'stop',
      ]).slice(1),
      { stdio: 'ignore' },
    );
  }
}

// ----------------------------------------------------------------------- Redis

export class Redis {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static async start(dir: string, mode: 'none' | 'always'): Promise<Redis | null> {
    if (!ensureInstalled('redis-server', ['redis-server', 'redis-tools'])) return null;
    if (!ensureInstalled('redis-benchmark', ['redis-tools'])) return null;
    const d = join(dir, `redis-${mode}`);
    mkdirSync(d, { recursive: true });
    const ports = await reservePorts(1);
    const port = ports.port(0);
    const persistence =
      mode === 'none'
        ? ['--save', '', '--appendonly', 'no']
        : ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
    await ports.release(port);
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        d,
        '--daemonize',
        'no',
        ...persistence,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(join(d, 'redis.log'));
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    for (let i = 0; i < 100; i++) {
      const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], {
        encoding: 'utf8',
      });
      if (r.stdout.trim() === 'PONG') return new Redis(proc, port);
      await sleep(50);
    }
    proc.kill('SIGKILL');
    loud('redis-server did not answer PING');
    return null;
  }

  private async bench(concurrency: number, n: number) {
    return runTool(
      'redis-benchmark',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-c',
        String(concurrency),
        '-n',
        String(n),
        '-t',
        'incr',
        '--csv',
      ],
      120_000,
    );
  }

  /** INCR through redis-benchmark; the op count is sized from a short probe to last ~`seconds`. */
  async incr(concurrency: number, seconds: number, config: string): Promise<Row> {
    const row = emptyRow('Redis', config, concurrency);
    const probeN = Math.max(2000, concurrency * 50);
    const t0 = Date.now();
    await this.bench(concurrency, probeN);
    const rate = probeN / Math.max(0.05, (Date.now() - t0) / 1000);
    const n = Math.max(probeN, Math.min(5_000_000, Math.round(rate * seconds)));
    const server = [this.proc.pid!];
    const cpu0 = treeCpuSeconds(server);
    const w0 = Date.now();
    const r = await this.bench(concurrency, n);
    const wall = (Date.now() - w0) / 1000;
    const serverCpu = treeCpuSeconds(server) - cpu0;
    const lines = r.stdout.trim().split('\n');
    const header = (lines[0] ?? '').split(',').map((s) => s.replace(/"/g, ''));
    const values = (lines[1] ?? '').split(',').map((s) => Number(s.replace(/"/g, '')));
    const get = (k: string): number => values[header.indexOf(k)] ?? NaN;
    if (r.code !== 0 || header.indexOf('rps') < 0) {
      row.note = `redis-benchmark failed: ${r.stderr.trim().slice(0, 200)}`;
      return row;
    }
    row.opsPerSec = get('rps');
    row.idsPerSec = row.opsPerSec;
    row.latencyMs = {
      p50: get('p50_latency_ms'),
      p99: get('p99_latency_ms'),
      max: get('max_latency_ms'),
      mean: get('avg_latency_ms'),
    };
    row.serverCores = serverCpu / wall;
    row.clientCores = r.cpuSec === null ? null : r.cpuSec / wall;
    row.serverUsPerOp = (serverCpu / n) * 1e6;
    row.clientUsPerOp = r.cpuSec === null ? null : (r.cpuSec / n) * 1e6;
    row.note = 'redis-benchmark reports no p999';
    return row;
  }

  pids(): number[] {
    return this.proc.pid ? [this.proc.pid] : [];
  }

  stop(): void {
    this.proc.kill('SIGKILL');
  }
}

// ------------------------------------------------------------------------ etcd

export class Etcd {
  private constructor(
    private readonly procs: ChildProcess[],
    readonly clientAddrs: string[],
  ) {}

  static async start(dir: string): Promise<Etcd | null> {
    if (!ensureInstalled('etcd', ['etcd-server'])) return null;
    if (!ensureInstalled('etcdctl', ['etcd-client'])) return null;
    const ports = await reservePorts(6);
    const names = ['e1', 'e2', 'e3'];
    const peer = (i: number): string => `http://127.0.0.1:${ports.port(3 + i)}`;
    const client = (i: number): string => `http://127.0.0.1:${ports.port(i)}`;
    // Every member's ports are in --initial-cluster; release them all, then start all three.
    await ports.releaseAll();
    const initial = names.map((n, i) => `${n}=${peer(i)}`).join(',');
    const procs = names.map((name, i) => {
      const d = join(dir, `etcd-${name}`);
      mkdirSync(d, { recursive: true });
      const p = spawn(
        'etcd',
        [
          '--name',
          name,
          '--data-dir',
          join(d, 'data'),
          '--listen-client-urls',
          client(i),
          '--advertise-client-urls',
          client(i),
          '--listen-peer-urls',
          peer(i),
          '--initial-advertise-peer-urls',
          peer(i),
          '--initial-cluster',
          initial,
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          'raftseq-bench',
          '--log-level',
          'warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } },
      );
      const log = createWriteStream(join(d, 'etcd.log'));
      p.stdout?.pipe(log);
      p.stderr?.pipe(log);
      return p;
    });
    const e = new Etcd(
      procs,
      names.map((_, i) => `127.0.0.1:${ports.port(i)}`),
    );
    for (let i = 0; i < 200; i++) {
      if (e.leader() !== null) return e;
      await sleep(100);
    }
    e.stop();
    loud('etcd cluster did not elect a leader in 20 s');
    return null;
  }

  pids(): number[] {
    return this.procs.flatMap((p) => (p.pid ? [p.pid] : []));
  }

  /** The cluster's revision (one more per put), as `address` reports it. */
  revision(address: string): bigint {
    const r = spawnSync(
      'etcdctl',
      ['--endpoints', `http://${address}`, 'endpoint', 'status', '-w', 'json'],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5000 },
    );
    const m = /"revision":(\d+)/.exec(r.stdout);
    if (r.status !== 0 || m === null)
      throw new Error(`etcdctl endpoint status: ${r.stderr.trim()}`);
    return BigInt(m[1]!);
  }

  /** host:port of the leader's client URL, or null. */
  leader(): string | null {
    const r = spawnSync(
      'etcdctl',
      [
        '--endpoints',
        this.clientAddrs.map((a) => `http://${a}`).join(','),
        'endpoint',
        'status',
        '-w',
        'json',
      ],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5000 },
    );
    if (r.status !== 0) return null;
    try {
      const list = JSON.parse(r.stdout) as {
        Endpoint: string;
        Status: { header: { member_id: number | string }; leader: number | string };
      }[];
      const l = list.find((x) => String(x.Status.header.member_id) === String(x.Status.leader));
      return l ? l.Endpoint.replace(/^http:\/\//, '') : null;
    } catch {
      return null;
    }
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }
}
