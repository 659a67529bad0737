// A raftseq cluster in Docker containers for jepsen-lite: testcontainers 11
// (ryuk disabled: its image cannot be pulled here) starts one container per
// node from the image built by deploy/build-image.sh, on a Docker network the
// test creates. Each node listens on 0.0.0.0:7000 inside its container, peers
// dial each other by network alias (n1:7000 ...), and its port is published
// on a host port chosen by the test, which the node advertises as
// 127.0.0.1:<port> so that redirects lead clients on this host to the leader.
//
// Faults: kill -9 (docker kill), restart (docker start), pause / resume (the
// cgroup freezer: docker pause), and partitions with iptables inside the
// containers (NET_ADMIN), which cut peer traffic only: clients come in through
// the published port from the network's gateway and are never blocked.
//
// With `tls` (jepsen-lite --tls), every node serves TLS on its one port with
// its own member certificate (issued on demand, spares included, by
// scripts/local-tls.ts), peers speak mutual TLS, and the test's clients use
// clientOptions(): the CA for Next and Status, the admin certificate for
// membership and leadership changes.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { GenericContainer, Network, Wait } from 'testcontainers';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import type { ClientTls } from '../../src/index.js';
import { ensureMemberCert, type LocalTls } from '../../scripts/local-tls.js';
import { nodeStatus, type StatusReply } from '../support/node-rpc.js';
import { reservePorts, type PortReservation } from '../support/ports.js';

const run = promisify(execFile);

export const DOCKER =
  process.env['DOCKER'] ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
export const IMAGE = process.env['RAFTSEQ_IMAGE'] ?? 'raftseq:local';
const PORT = 7000;
/** Where a node finds its TLS files in its container. */
const TLS_DIR = '/etc/raftseq/tls';

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run(DOCKER, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface DockerNode {
  id: string;
  /** host:port a client on this host dials (127.0.0.1 and the published port). */
  addr: string;
  /** What it advertises (--advertise): where clients are redirected to. */
  advertise: string;
  hostPort: number;
  container: StartedTestContainer;
  /** Running (not killed). */
  up: boolean;
  paused: boolean;
  /** Removed from the cluster by the membership nemesis. */
  removed: boolean;
}

export interface DockerClusterOptions {
  size: number;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Prefix of container names and of the network name. */
  name: string;
  /** Serve TLS with certificates from this directory (a CA in it already); default plaintext. */
  tls?: LocalTls;
}

export class DockerCluster {
  readonly nodes: DockerNode[] = [];
  private readonly ips = new Map<string, string>();
  /** Pairs of node ids that cannot talk ("a|b" with a < b). */
  private cut = new Set<string>();

  /** How the test dials the nodes for its own status checks (plaintext, or TLS trusting the CA). */
  private readonly credentials: grpc.ChannelCredentials;

  private constructor(
    readonly opts: DockerClusterOptions,
    readonly network: StartedNetwork,
  ) {
    this.credentials =
      opts.tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(readFileSync(opts.tls.ca));
  }

  /**
   * What a SequenceClient of the test needs to reach the nodes: nothing in
   * plaintext; with TLS the CA, and for 'admin' (membership, leadership) the
   * admin certificate too.
   */
  clientOptions(role: 'client' | 'admin'): { tls?: ClientTls } {
    const tls = this.opts.tls;
    if (tls === undefined) return {};
    const ca = readFileSync(tls.ca);
    if (role === 'client') return { tls: { ca } };
    return { tls: { ca, cert: readFileSync(tls.admin.cert), key: readFileSync(tls.admin.key) } };
  }

  /**
   * The serve flags and files for node `id`'s TLS (none in plaintext). Its
   * certificate names it as the peers dial it (its network alias) and as
   * clients on this host do (127.0.0.1, the published port).
   */
  private async tlsFor(id: string): Promise<{
    args: string[];
    env: Record<string, string>;
    files: { source: string; target: string; mode: number }[];
  }> {
    const tls = this.opts.tls;
    if (tls === undefined) return { args: [], env: {}, files: [] };
    await ensureMemberCert(tls.dir, { id, hosts: [id, '127.0.0.1'] });
    const own = tls.member(id);
    const at = (name: string): string => `${TLS_DIR}/${name}`;
    return {
      args: ['--cert', at('cert.pem'), '--key', at('key.pem'), '--ca', at('ca.pem')],
      // The image's HEALTHCHECK dials the node: over TLS, trusting the CA.
      env: { RAFTSEQ_HEALTH_CA: at('ca.pem') },
      // Copied in as root; the node runs as the image's `node` user, so the
      // key must be readable by others in this throw-away test container.
      files: [
        { source: own.cert, target: at('cert.pem'), mode: 0o444 },
        { source: own.key, target: at('key.pem'), mode: 0o444 },
        { source: tls.ca, target: at('ca.pem'), mode: 0o444 },
      ],
    };
  }

  static async start(opts: DockerClusterOptions): Promise<DockerCluster> {
    process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
    const network = await new Network().start();
    const c = new DockerCluster(opts, network);
    const ids = Array.from({ length: opts.size }, (_, i) => `n${i + 1}`);
    const initial = ids.map((id) => `${id}=${id}:${PORT}`).join(',');
    const ports = await reservePorts(ids.length);
    try {
      const started = await Promise.all(
        ids.map((id, i) => c.startContainer(id, ports, ports.port(i), initial)),
      );
      c.nodes.push(...started);
    } catch (e) {
      await ports.releaseAll();
      await c.stop();
      throw e;
    }
    return c;
  }

  /**
   * Starts node `id` with its port published on `hostPort`, which `ports`
   * holds until just before the container starts (docker-proxy binds it).
   */
  private async startContainer(
    id: string,
    ports: PortReservation,
    hostPort: number,
    initialCluster: string | null,
  ): Promise<DockerNode> {
    const advertise = `127.0.0.1:${hostPort}`;
    const args = [
      'serve',
      '--id',
      id,
      '--listen',
      `0.0.0.0:${PORT}`,
      '--advertise',
      advertise,
      '--data',
      '/data',
      '--election-timeout',
      String(this.opts.electionTimeoutMs),
      '--heartbeat-interval',
      String(this.opts.heartbeatIntervalMs),
      '--enable-fault-injection',
    ];
    if (initialCluster !== null) args.push('--initial-cluster', initialCluster);
    const tls = await this.tlsFor(id);
    args.push(...tls.args);
    const container = new GenericContainer(IMAGE)
      .withName(`${this.opts.name}-${id}`)
      .withNetwork(this.network)
      .withNetworkAliases(id)
      .withExposedPorts({ container: PORT, host: hostPort })
      .withAddedCapabilities('NET_ADMIN')
      .withCommand(args)
      .withCopyFilesToContainer(tls.files)
      .withEnvironment(tls.env)
      .withWaitStrategy(Wait.forLogMessage(/"msg":"serving"/))
      .withStartupTimeout(30_000);
    await ports.release(hostPort);
    const started = await container.start();
    return {
      id,
      addr: `127.0.0.1:${hostPort}`,
      advertise,
      hostPort,
      container: started,
      up: true,
      paused: false,
      removed: false,
    };
  }

  /** Starts a new, empty node (no --initial-cluster), to be added with addMember. */
  async startSpare(id: string): Promise<DockerNode> {
    const ports = await reservePorts(1);
    const n = await this.startContainer(id, ports, ports.port(0), null).catch(
      async (e: unknown) => {
        await ports.releaseAll();
        throw e;
      },
    );
    this.nodes.push(n);
    return n;
  }

  /**
   * Re-creates member `id` with an empty data directory (a new container
   * under the same name and network alias, no --initial-cluster), to be
   * added back with addMember once it was removed.
   */
  async replace(id: string): Promise<DockerNode> {
    const old = this.node(id);
    await docker('rm', '-f', old.container.getId());
    this.ips.delete(id);
    const ports = await reservePorts(1);
    const n = await this.startContainer(id, ports, ports.port(0), null).catch(
      async (e: unknown) => {
        await ports.releaseAll();
        throw e;
      },
    );
    this.nodes[this.nodes.indexOf(old)] = n;
    await this.applyCut();
    return n;
  }

  node(id: string): DockerNode {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Members still in the cluster (up or not). */
  get members(): DockerNode[] {
    return this.nodes.filter((n) => !n.removed);
  }

  get endpoints(): string[] {
    return this.members.map((n) => n.addr);
  }

  /** kill -9 */
  async kill(id: string): Promise<void> {
    const n = this.node(id);
    if (n.paused) await this.resume(id);
    await docker('kill', '-s', 'KILL', n.container.getId());
    n.up = false;
    this.ips.delete(id);
  }

  /** Starts a killed node again (same data directory, same published port). */
  async restart(id: string): Promise<void> {
    const n = this.node(id);
    await docker('start', n.container.getId());
    n.up = true;
    this.ips.delete(id);
    // A restarted container has a fresh network namespace: re-apply the cut.
    await this.applyCut();
  }

  async pause(id: string): Promise<void> {
    const n = this.node(id);
    if (!n.up || n.paused) return;
    await docker('pause', n.container.getId());
    n.paused = true;
  }

  async resume(id: string): Promise<void> {
    const n = this.node(id);
    if (!n.paused) return;
    await docker('unpause', n.container.getId());
    n.paused = false;
  }

  private async ip(id: string): Promise<string> {
    let ip = this.ips.get(id);
    if (ip === undefined) {
      const out = await docker(
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "${this.network.getName()}").IPAddress}}`,
        this.node(id).container.getId(),
      );
      ip = out.trim();
      this.ips.set(id, ip);
    }
    return ip;
  }

  /**
   * Cuts exactly these links (both directions), healing every other: a list
   * of [a, b] pairs of node ids.
   */
  async setCut(pairs: readonly (readonly [string, string])[]): Promise<void> {
    this.cut = new Set(pairs.map(([a, b]) => (a < b ? `${a}|${b}` : `${b}|${a}`)));
    await this.applyCut();
  }

  /** Cuts every link between different components. */
  async partition(components: readonly (readonly string[])[]): Promise<void> {
    const pairs: [string, string][] = [];
    for (let i = 0; i < components.length; i++) {
      for (let j = i + 1; j < components.length; j++) {
        for (const a of components[i] as string[]) {
          for (const b of components[j] as string[]) pairs.push([a, b]);
        }
      }
    }
    await this.setCut(pairs);
  }

  async heal(): Promise<void> {
    await this.setCut([]);
  }

  cutPairs(): string[] {
    return [...this.cut].sort();
  }

  private async applyCut(): Promise<void> {
    const targets = this.nodes.filter((n) => n.up && !n.paused);
    await Promise.all(
      targets.map(async (n) => {
        const peers: string[] = [];
        for (const key of this.cut) {
          const [a, b] = key.split('|') as [string, string];
          const other = a === n.id ? b : b === n.id ? a : null;
          if (other !== null && this.node(other).up) peers.push(await this.ip(other));
        }
        const script = ['iptables -F INPUT', 'iptables -F OUTPUT'];
        for (const ip of peers) {
          script.push(`iptables -A INPUT -s ${ip} -j DROP`, `iptables -A OUTPUT -d ${ip} -j DROP`);
        }
        const r = await n.container.exec(['sh', '-c', script.join(' && ')], { user: 'root' });
        if (r.exitCode !== 0) throw new Error(`iptables on ${n.id}: ${r.output.trim()}`);
      }),
    );
  }

  /** The node that says it leads, in the highest term (null if none answers so). */
  async leader(): Promise<string | null> {
    const answers = await Promise.all(
      this.members
        .filter((n) => n.up && !n.paused)
        .map((n) => nodeStatus(n.addr, 800, this.credentials).catch(() => null)), // no answer
    );
    let best: StatusReply | null = null;
    for (const a of answers) {
      if (a === null || a.role !== 'leader') continue;
      if (best === null || BigInt(a.term) > BigInt(best.term)) best = a;
    }
    return best === null ? null : best.node_id;
  }

  async waitLeader(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.leader();
      if (l !== null) return l;
      if (Date.now() > deadline) throw new Error(`no leader after ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Heals everything: resumes paused nodes, restarts killed ones, clears the cut. */
  async healAll(): Promise<void> {
    for (const n of this.nodes) if (n.paused) await this.resume(n.id);
    this.cut.clear();
    for (const n of this.members) if (!n.up) await this.restart(n.id);
    await this.applyCut();
  }

  /** Saves every node's log into dir/<id>.log. */
  async saveLogs(dir: string): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        try {
          const { stdout, stderr } = await run(DOCKER, ['logs', n.container.getId()], {
            maxBuffer: 256 * 1024 * 1024,
          });
          await writeFile(join(dir, `${n.id}.log`), stdout + stderr);
        } catch (e) {
          await writeFile(join(dir, `${n.id}.log`), `docker logs failed: ${String(e)}\n`);
        }
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        try {
          if (n.paused) await docker('unpause', n.container.getId());
          await docker('rm', '-f', '-v', n.container.getId());
        } catch {
          // already gone
        }
      }),
    );
    try {
      await this.network.stop();
    } catch {
      // already gone
    }
  }
}

/** grpc.health.v1.Health/Check (service ""): SERVING? */
export function healthy(addr: string, timeoutMs = 1000): Promise<boolean> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      id,
      id,
      Buffer.alloc(0),
      { deadline: Date.now() + timeoutMs },
      (err, reply) => {
        client.close();
        resolve(!err && reply !== undefined && reply[0] === 0x08 && reply[1] === 0x01);
      },
    );
  });
}
