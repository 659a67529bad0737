// A local raftseq cluster for the benchmark: real `bin/raftseq serve`
// processes (built dist/, real fsync) on free loopback ports, data in a tmp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SequenceClient } from '../../src/client/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const srv = createServer();
          srv.listen(0, '127.0.0.1', () => resolve(srv));
          srv.on('error', reject);
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Member {
  id: string;
  addr: string;
  dataDir: string;
  proc: ChildProcess | null;
  log: WriteStream;
  /** Added with `cluster join`: started without --initial-cluster. */
  joined: boolean;
}

export class RaftseqCluster {
  readonly members: Member[];
  private readonly initial: string;
  private readonly admin: SequenceClient;

  private constructor(
    readonly dir: string,
    ports: number[],
    private readonly extraArgs: string[],
  ) {
    mkdirSync(dir, { recursive: true });
    this.members = ports.map((p, i) => ({
      id: `n${i + 1}`,
      addr: `127.0.0.1:${p}`,
      dataDir: join(dir, `n${i + 1}`),
      proc: null,
      log: createWriteStream(join(dir, `n${i + 1}.log`), { flags: 'a' }),
      joined: false,
    }));
    this.initial = this.members.map((m) => `${m.id}=${m.addr}`).join(',');
    this.admin = new SequenceClient({ endpoints: this.endpoints, deadlineMs: 2000 });
  }

  static async start(dir: string, size = 3, extraArgs: string[] = []): Promise<RaftseqCluster> {
    const c = new RaftseqCluster(dir, await freePorts(size), extraArgs);
    for (const m of c.members) c.spawn(m);
    await c.waitServing();
    return c;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.addr);
  }

  member(id: string): Member {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  pids(): number[] {
    return this.members.flatMap((m) => (m.proc?.pid ? [m.proc.pid] : []));
  }

  spawn(m: Member): void {
    // RAFTSEQ_BENCH_CPU_PROF=<dir>: every node writes a V8 CPU profile there on exit.
    const prof = process.env['RAFTSEQ_BENCH_CPU_PROF'];
    // RAFTSEQ_BENCH_NODE_ARGS: more node flags for every node (e.g. --trace-gc).
    const nodeArgs = (process.env['RAFTSEQ_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const args = [
      ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
      ...nodeArgs,
      join(root, 'bin', 'raftseq'),
      'serve',
      '--id',
      m.id,
      '--listen',
      m.addr,
      '--data',
      m.dataDir,
      ...(m.joined ? [] : ['--initial-cluster', this.initial]),
      '--log-level',
      'warn',
      ...this.extraArgs,
    ];
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.pipe(m.log, { end: false });
    proc.stderr?.pipe(m.log, { end: false });
    m.proc = proc;
    proc.on('exit', () => {
      if (m.proc === proc) m.proc = null;
    });
  }

  /** The leader's id and address, asking the nodes (bounded wait). */
  async leader(timeoutMs = 15_000): Promise<{ id: string; address: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const s = await this.admin.clusterStatus({ deadlineMs: 1000 });
        if (s.leader !== null && s.leaderAddress !== null) {
          const m = this.members.find((x) => x.id === s.leader);
          if (m?.proc) return { id: s.leader, address: s.leaderAddress };
        }
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`no leader after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Waits until a Next succeeds (leader elected, lease confirmed). */
  async waitServing(timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    const c = new SequenceClient({ endpoints: this.endpoints, deadlineMs: timeoutMs });
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
  async join(id: string, timeoutMs = 300_000): Promise<number> {
    const [port] = await freePorts(1);
    const m: Member = {
      id,
      addr: `127.0.0.1:${port}`,
      dataDir: join(this.dir, id),
      proc: null,
      log: createWriteStream(join(this.dir, `${id}.log`), { flags: 'a' }),
      joined: true,
    };
    this.members.push(m);
    this.spawn(m);
    const admin = new SequenceClient({ endpoints: this.endpoints, deadlineMs: 10_000 });
    try {
      const t0 = Date.now();
      await admin.addMember({ id, address: m.addr });
      for (;;) {
        const s = await admin.clusterStatus({ deadlineMs: 2000 }).catch(() => null);
        const role = s?.members.find((x) => x.id === id)?.role;
        if (role !== undefined && role !== 'learner') return Date.now() - t0;
        if (Date.now() - t0 > timeoutMs) throw new Error(`${id} not a voter after ${timeoutMs} ms`);
        await sleep(50);
      }
    } finally {
      admin.close();
    }
  }

  kill(id: string): void {
    const m = this.member(id);
    m.proc?.kill('SIGKILL');
    m.proc = null;
  }

  async terminate(id: string, timeoutMs = 8000): Promise<number | null> {
    const m = this.member(id);
    const p = m.proc;
    if (!p) return null;
    const code = new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const c = await code;
    clearTimeout(t);
    return c;
  }

  restart(id: string): void {
    const m = this.member(id);
    if (m.proc) throw new Error(`${id} still running`);
    this.spawn(m);
  }

  async stop(): Promise<void> {
    this.admin.close();
    await Promise.all(this.members.map((m) => this.terminate(m.id, 6000)));
    for (const m of this.members) m.log.end();
  }
}
