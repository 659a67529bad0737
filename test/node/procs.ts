// A cluster of real `raftseq serve` processes on loopback, for multi-process
// tests: start, kill -9, SIGSTOP/SIGCONT, SIGTERM, restart, and the
// transport's fault hook through the FaultInjection service.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { packageRoot } from '../../src/api/proto.js';

export interface ProcNode {
  id: string;
  /** Founding member (bootstraps with --initial-cluster) or joiner (empty directory). */
  founding: boolean;
  addr: string;
  dataDir: string;
  proc: ChildProcess | null;
  paused: boolean;
  logFile: WriteStream;
}

export interface ClusterOptions {
  size: number;
  electionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  extraArgs?: string[];
  /** Arguments for one node only (after extraArgs), e.g. its own --metrics-listen port. */
  nodeArgs?: (id: string) => string[];
}

/** Free loopback ports (bound then released). */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    ports.push(
      await new Promise<number>((resolve, reject) => {
        const srv = createServer();
        srv.listen(0, '127.0.0.1', () => {
          const a = srv.address();
          const port = typeof a === 'object' && a !== null ? a.port : 0;
          srv.close(() => resolve(port));
        });
        srv.on('error', reject);
      }),
    );
  }
  return ports;
}

const root = packageRoot();

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  /** Members removed from the cluster (their answers no longer count). */
  readonly removed = new Set<string>();
  readonly dir: string;
  private readonly initialCluster: string;

  private constructor(
    readonly opts: ClusterOptions,
    ports: number[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'raftseq-procs-'));
    for (let i = 0; i < opts.size; i++) {
      const id = `n${i + 1}`;
      this.nodes.push({
        id,
        founding: true,
        addr: `127.0.0.1:${ports[i]}`,
        dataDir: join(this.dir, id),
        proc: null,
        paused: false,
        logFile: createWriteStream(join(this.dir, `${id}.log`), { flags: 'a' }),
      });
    }
    this.initialCluster = this.nodes.map((n) => `${n.id}=${n.addr}`).join(',');
  }

  static async start(opts: ClusterOptions): Promise<ProcCluster> {
    const c = new ProcCluster(opts, await freePorts(opts.size));
    for (const n of c.nodes) c.spawn(n);
    return c;
  }

  get endpoints(): string[] {
    return this.nodes.map((n) => n.addr);
  }

  node(id: string): ProcNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  spawn(n: ProcNode): void {
    const args = [
      '--import',
      'tsx',
      join(root, 'src', 'cli', 'main.ts'),
      'serve',
      '--id',
      n.id,
      '--listen',
      n.addr,
      '--data',
      n.dataDir,
      ...(n.founding ? ['--initial-cluster', this.initialCluster] : []),
      '--election-timeout',
      String(this.opts.electionTimeoutMs ?? 600),
      '--heartbeat-interval',
      String(this.opts.heartbeatIntervalMs ?? 60),
      '--log-level',
      'info',
      '--enable-fault-injection',
      ...(this.opts.extraArgs ?? []),
      ...(this.opts.nodeArgs?.(n.id) ?? []),
    ];
    const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.pipe(n.logFile, { end: false });
    proc.stderr?.pipe(n.logFile, { end: false });
    n.proc = proc;
    n.paused = false;
    proc.on('exit', () => {
      if (n.proc === proc) n.proc = null;
    });
  }

  /** kill -9 */
  kill(id: string): void {
    const n = this.node(id);
    n.proc?.kill('SIGKILL');
    n.proc = null;
  }

  /** SIGTERM and wait for the exit code. */
  async terminate(id: string, timeoutMs = 8000): Promise<number | null> {
    const n = this.node(id);
    const p = n.proc;
    if (!p) return null;
    const code = new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const c = await code;
    clearTimeout(t);
    return c;
  }

  /**
   * Start a new member with an empty data directory and no --initial-cluster:
   * it waits to be added (cluster join / addMember) and caught up.
   */
  async addNode(id: string): Promise<ProcNode> {
    const [port] = await freePorts(1);
    const n: ProcNode = {
      id,
      founding: false,
      addr: `127.0.0.1:${port}`,
      dataDir: join(this.dir, id),
      proc: null,
      paused: false,
      logFile: createWriteStream(join(this.dir, `${id}.log`), { flags: 'a' }),
    };
    this.nodes.push(n);
    this.spawn(n);
    return n;
  }

  /** Nodes with a running process. */
  running(): ProcNode[] {
    return this.nodes.filter((n) => n.proc !== null);
  }

  restart(id: string): void {
    const n = this.node(id);
    if (n.proc) throw new Error(`${id} is still running`);
    this.spawn(n);
  }

  pause(id: string): void {
    const n = this.node(id);
    n.proc?.kill('SIGSTOP');
    n.paused = true;
  }

  resume(id: string): void {
    const n = this.node(id);
    n.proc?.kill('SIGCONT');
    n.paused = false;
  }

  /** Ask every running, unpaused node who leads; returns the majority answer. */
  async leader(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answers = await Promise.all(
        this.nodes
          .filter((n) => n.proc && !n.paused && !this.removed.has(n.id))
          .map((n) => status(n.addr).catch(() => null)),
      );
      const leaders = answers
        .filter((a) => a !== null && a.role === 'leader')
        .map((a) => a!.node_id);
      if (leaders.length === 1) return leaders[0] as string;
      if (Date.now() > deadline) throw new Error(`no single leader after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async setFault(
    on: string,
    peer: string,
    rule: { drop?: boolean; delay_ms?: number; drop_incoming?: boolean },
  ): Promise<void> {
    const client = faultClient(this.node(on).addr);
    await new Promise<void>((resolve, reject) =>
      client.SetFault({ peer, ...rule }, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    client.close();
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      if (n.paused) n.proc?.kill('SIGCONT');
      n.proc?.kill('SIGKILL');
      n.logFile.end();
    }
    await sleep(100);
    if (!process.env['RAFTSEQ_KEEP_TEST_DATA']) rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

type GrpcClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

function loadAll(): grpc.GrpcObject {
  const def = protoLoader.loadSync(['raftseq/v1/cluster.proto', 'raftseq/v1/raft.proto'], {
    includeDirs: [join(root, 'proto')],
    keepCase: true,
    longs: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(def);
}

let loaded: grpc.GrpcObject | null = null;
function pkg(): Record<string, grpc.ServiceClientConstructor> {
  loaded ??= loadAll();
  return (loaded['raftseq'] as grpc.GrpcObject)['v1'] as unknown as Record<
    string,
    grpc.ServiceClientConstructor
  >;
}

function faultClient(addr: string): GrpcClient {
  const Ctor = pkg()['FaultInjection'] as grpc.ServiceClientConstructor;
  return new Ctor(addr, grpc.credentials.createInsecure()) as unknown as GrpcClient;
}

export interface StatusReply {
  node_id: string;
  role: string;
  leader: string;
  term: string;
  commit_index: string;
}

export function status(addr: string, timeoutMs = 500): Promise<StatusReply> {
  const Ctor = pkg()['Cluster'] as grpc.ServiceClientConstructor;
  const client = new Ctor(addr, grpc.credentials.createInsecure()) as unknown as GrpcClient;
  return new Promise<StatusReply>((resolve, reject) => {
    client.Status({}, { deadline: Date.now() + timeoutMs }, (err: Error | null, r: StatusReply) => {
      client.close();
      if (err) reject(err);
      else resolve(r);
    });
  });
}
