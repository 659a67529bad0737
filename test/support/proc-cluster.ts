// A cluster of real `raftseq serve` processes on loopback, for the
// multi-process tests (test/node, test/client) and the benchmark: start,
// kill -9, SIGSTOP/SIGCONT, graceful SIGTERM with a bounded wait, restart on
// the same port and data, new members with an empty directory, and the
// transport's fault hook.
//
// Ports come from a reservation held until each node is spawned (see
// ports.ts for why a member cannot bind port 0 itself). A node counts as
// started once it printed its "serving" log line, which carries the port it
// bound; a node that exits instead fails the start with its last output.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as grpc from '@grpc/grpc-js';
import type { FaultRule } from '../../src/transport/grpc-options.js';
import { nodeStatus, setFault } from './node-rpc.js';
import { ROOT, raftseqNodeArgs, type RaftseqBuild } from './paths.js';
import { reservePorts, type PortReservation } from './ports.js';
import { ChildProc } from './process.js';

export interface ProcClusterOptions {
  size: number;
  /** Data directories and logs; default a fresh temporary directory that stop() removes. */
  dir?: string;
  /** Default 'sources'. */
  build?: RaftseqBuild;
  /**
   * The node arguments that run raftseq, instead of `build`'s: e.g. another
   * release's bin/raftseq (the upgrade test). A node's own `runner` wins.
   */
  runner?: string[];
  electionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Serve the FaultInjection service (setFault). Default true. */
  faultInjection?: boolean;
  /** More `serve` flags for every node. */
  serveArgs?: string[];
  /** More `serve` flags for one node (after serveArgs), e.g. its own certificate. */
  serveArgsFor?: (id: string) => string[];
  /** How the cluster helper itself dials the nodes (status, faults). Default plaintext. */
  credentials?: grpc.ChannelCredentials;
  /** Node flags for every node, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** More environment for every node, over this process's (e.g. glibc malloc settings). */
  env?: Record<string, string>;
  /** How long a node may take to print "serving" (it loads its state first). Default 60 s. */
  startTimeoutMs?: number;
}

export interface ProcNode {
  id: string;
  /** Founding member (bootstraps with --initial-cluster) or joiner (empty directory). */
  founding: boolean;
  port: number;
  /** 127.0.0.1:port: where it listens, what peers dial, what it advertises. */
  addr: string;
  dataDir: string;
  /** Output of every run of this node, appended. */
  logFile: string;
  /** The running process, or null once it exited. */
  proc: ChildProc | null;
  /** The port of its metrics endpoint (with --metrics-listen), as its last start logged it. */
  metricsPort: number | null;
  /** Runs this node with these node arguments from its next start on (see ProcClusterOptions.runner). */
  runner?: string[];
}

/**
 * `{"msg":"serving", "port": N[, "metricsPort": M]}` in a node's JSON log:
 * the bound ports, else undefined.
 */
export function servingPorts(
  line: string,
): { port: number; metricsPort: number | null } | undefined {
  if (!line.includes('"msg":"serving"')) return undefined;
  try {
    const rec = JSON.parse(line) as { msg?: unknown; port?: unknown; metricsPort?: unknown };
    if (rec.msg !== 'serving' || typeof rec.port !== 'number') return undefined;
    return {
      port: rec.port,
      metricsPort: typeof rec.metricsPort === 'number' ? rec.metricsPort : null,
    };
  } catch {
    return undefined;
  }
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  /** Members removed from the cluster (their answers no longer count in leader()). */
  readonly removed = new Set<string>();
  readonly dir: string;
  private readonly ownsDir: boolean;
  private readonly initialCluster: string;

  private constructor(
    readonly opts: ProcClusterOptions,
    ports: readonly number[],
  ) {
    this.ownsDir = opts.dir === undefined;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'raftseq-procs-'));
    mkdirSync(this.dir, { recursive: true });
    for (const [i, port] of ports.entries()) this.nodes.push(this.newNode(`n${i + 1}`, port, true));
    this.initialCluster = this.nodes.map((n) => `${n.id}=${n.addr}`).join(',');
  }

  /** Starts `size` founding members; resolves once every one is serving. */
  static async start(opts: ProcClusterOptions): Promise<ProcCluster> {
    const ports = await reservePorts(opts.size);
    const c = new ProcCluster(opts, ports.ports);
    try {
      await Promise.all(c.nodes.map((n) => c.launch(n, ports)));
    } catch (e) {
      await ports.releaseAll();
      await c.stop();
      throw e;
    }
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

  /** Nodes with a running process (paused ones included). */
  running(): ProcNode[] {
    return this.nodes.filter((n) => n.proc !== null);
  }

  pids(): number[] {
    return this.nodes.flatMap((n) => (n.proc?.pid === undefined ? [] : [n.proc.pid]));
  }

  /**
   * Starts a new member with an empty data directory and no --initial-cluster:
   * it waits to be added (cluster join / addMember) and caught up. Resolves
   * once it is serving.
   */
  async addNode(id: string): Promise<ProcNode> {
    if (this.nodes.some((n) => n.id === id)) throw new Error(`node ${id} exists already`);
    const ports = await reservePorts(1);
    const n = this.newNode(id, ports.port(0), false);
    this.nodes.push(n);
    await this.launch(n, ports);
    return n;
  }

  /** Starts a stopped node again (same port, same data); resolves once it is serving. */
  async restart(id: string): Promise<ChildProc> {
    const n = this.node(id);
    if (n.proc) throw new Error(`${id} is still running`);
    return this.launch(n, null);
  }

  /** kill -9; resolves once the process is gone. */
  async kill(id: string): Promise<void> {
    await this.node(id).proc?.kill();
  }

  /** SIGSTOP. */
  pause(id: string): void {
    this.node(id).proc?.pause();
  }

  /** SIGCONT. */
  resume(id: string): void {
    this.node(id).proc?.resume();
  }

  /** SIGTERM, SIGKILL after `graceMs`; the exit code (null if it took a signal). */
  async terminate(id: string, graceMs = 8000): Promise<number | null> {
    const p = this.node(id).proc;
    if (!p) return null;
    return (await p.terminate(graceMs)).code;
  }

  /**
   * The leader, as the running, unpaused, unremoved nodes report it: waits
   * (bounded) until exactly one of them says it leads.
   */
  async leader(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const asked = this.nodes.filter((n) => n.proc && !n.proc.paused && !this.removed.has(n.id));
      const answers = await Promise.all(
        // a member that does not answer has no view
        asked.map((n) => nodeStatus(n.addr, 500, this.opts.credentials).catch(() => null)),
      );
      const leaders = answers.flatMap((a) => (a?.role === 'leader' ? [a.node_id] : []));
      if (leaders.length === 1) return leaders[0] as string;
      if (Date.now() > deadline) throw new Error(`no single leader after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** The fault rule of node `on` towards `peer` (`{}` clears it). */
  async setFault(on: string, peer: string, rule: FaultRule): Promise<void> {
    await setFault(this.node(on).addr, peer, rule, 2000, this.opts.credentials);
  }

  /**
   * Stops every node: kill -9 by default (tests), or a graceful SIGTERM
   * (the benchmark: --cpu-prof writes its profile on a clean exit). Removes
   * the directory if this cluster created it, unless RAFTSEQ_KEEP_TEST_DATA is set.
   */
  async stop(how: { graceful?: boolean } = {}): Promise<void> {
    await Promise.all(
      this.nodes.map((n) => (how.graceful ? n.proc?.terminate(6000) : n.proc?.kill())),
    );
    if (this.ownsDir && !process.env['RAFTSEQ_KEEP_TEST_DATA']) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private newNode(id: string, port: number, founding: boolean): ProcNode {
    return {
      id,
      founding,
      port,
      addr: `127.0.0.1:${port}`,
      dataDir: join(this.dir, id),
      logFile: join(this.dir, `${id}.log`),
      proc: null,
      metricsPort: null,
    };
  }

  /**
   * Spawns `n` (releasing its reserved port just before) and waits for its
   * "serving" line. Founding members always get --initial-cluster: a node
   * with data ignores it, so a restart is the same command.
   */
  private async launch(n: ProcNode, ports: PortReservation | null): Promise<ChildProc> {
    const o = this.opts;
    const args = [
      ...(o.nodeArgs ?? []),
      ...(n.runner ?? o.runner ?? raftseqNodeArgs(o.build ?? 'sources')),
      'serve',
      '--id',
      n.id,
      '--listen',
      n.addr,
      '--data',
      n.dataDir,
      ...(n.founding ? ['--initial-cluster', this.initialCluster] : []),
      '--election-timeout',
      String(o.electionTimeoutMs ?? 600),
      '--heartbeat-interval',
      String(o.heartbeatIntervalMs ?? 60),
      // info: the "serving" line this waits for is logged at info.
      '--log-level',
      'info',
      ...(o.faultInjection === false ? [] : ['--enable-fault-injection']),
      ...(o.serveArgs ?? []),
      ...(o.serveArgsFor?.(n.id) ?? []),
    ];
    await ports?.release(n.port);
    const proc = ChildProc.spawn(n.id, process.execPath, args, {
      cwd: ROOT,
      logFile: n.logFile,
      ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
    });
    n.proc = proc;
    void proc.exited.then(() => {
      if (n.proc === proc) n.proc = null;
    });
    const { port, metricsPort } = await proc.waitForLine(
      servingPorts,
      'its "serving" log line',
      o.startTimeoutMs ?? 60_000,
    );
    if (port !== n.port) throw new Error(`${n.id} serves on port ${port}, not ${n.port}`);
    n.metricsPort = metricsPort;
    return proc;
  }
}
