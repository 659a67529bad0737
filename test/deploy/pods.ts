// A stand-in for a Kubernetes node, just enough to run the StatefulSet's pods
// exactly as the manifest describes them, without a cluster:
//
//   - each pod gets its own network namespace with its own IP (10.244.0.1N/24,
//     a typical pod range), so every pod binds the manifest's 0.0.0.0:7000 and
//     0.0.0.0:9464 as it would in a pod; a bridge in a "node" namespace links
//     them, and the node namespace (10.244.0.1) is where the probes and the
//     client commands run, like the kubelet and an application pod would;
//   - cluster DNS is an /etc/hosts file per namespace (`ip netns exec` mounts
//     /etc/netns/<ns>/hosts over /etc/hosts), naming every pod's stable name
//     and the client Service; resolv.conf points at 127.0.0.1, where nothing
//     answers, so no lookup leaves the namespace;
//   - the pod's PersistentVolumeClaim is a temporary directory bind-mounted at
//     the container's mountPath inside the pod's own mount namespace;
//   - the image is deploy/Dockerfile's ENTRYPOINT, WORKDIR and ENV, with /app
//     mapped to this checkout (which is what the image copies there).
//
// Everything is created by the test and removed by destroy(). Needs root and
// iproute2 (`ip netns`); `available()` says why not otherwise. No address
// outside these namespaces is ever dialled.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/proto/package-root.js';

const ROOT = packageRoot();
const SUBNET_PREFIX = '10.244.0.';

/** Why pods cannot be run here, or null when they can. */
export function podsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network and mount namespaces)';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error !== undefined || ip.status !== 0) return 'needs iproute2 (`ip netns`)';
  return null;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
}

/** The image's runtime as deploy/Dockerfile defines it, mapped onto this checkout. */
export interface ImageRuntime {
  entrypoint: string[];
  workdir: string;
  env: Record<string, string>;
}

export function imageRuntime(): ImageRuntime {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const lines = text.split('\n').map((l) => l.trim());
  const value = (instr: string): string => {
    const found = lines.filter((l) => l.startsWith(instr + ' ')).at(-1);
    if (found === undefined) throw new Error(`deploy/Dockerfile has no ${instr}`);
    return found.slice(instr.length + 1).trim();
  };
  const workdir = value('WORKDIR');
  const toHost = (p: string): string =>
    p === 'node'
      ? process.execPath
      : p.startsWith(workdir + '/')
        ? join(ROOT, p.slice(workdir.length + 1))
        : p;
  const env: Record<string, string> = {};
  for (const l of lines.filter((x) => x.startsWith('ENV '))) {
    const m = /^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(l);
    if (m === null) throw new Error(`deploy/Dockerfile: cannot read ${l}`);
    env[m[1] as string] = m[2] as string;
  }
  return {
    entrypoint: (JSON.parse(value('ENTRYPOINT')) as string[]).map(toHost),
    workdir: ROOT,
    env,
  };
}

export interface PodSpec {
  name: string;
  args: string[];
  env: Map<string, string>;
  /** Container mountPath -> host directory standing in for the volume. */
  mounts: Map<string, string>;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class PodNetwork {
  readonly nodeNs: string;
  readonly nodeIp = `${SUBNET_PREFIX}1`;
  private readonly podNs: string[] = [];
  private readonly procs = new Map<string, ChildProcess>();

  private constructor(
    tag: string,
    readonly dir: string,
    podCount: number,
  ) {
    this.nodeNs = `${tag}-node`;
    for (let i = 0; i < podCount; i++) this.podNs.push(`${tag}-p${i}`);
  }

  /** Creates the node namespace with its bridge and `podCount` pod namespaces. */
  static create(podCount: number, dir: string): PodNetwork {
    const net = new PodNetwork(`rsk8s${process.pid}`, dir, podCount);
    try {
      net.build();
    } catch (e) {
      net.destroy();
      throw e;
    }
    return net;
  }

  podIp(i: number): string {
    return `${SUBNET_PREFIX}${10 + i}`;
  }

  private build(): void {
    const node = this.nodeNs;
    run('ip', ['netns', 'add', node]);
    run('ip', ['-n', node, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', node, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', node, 'addr', 'add', `${this.nodeIp}/24`, 'dev', 'br0']);
    run('ip', ['-n', node, 'link', 'set', 'br0', 'up']);
    this.podNs.forEach((ns, i) => {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', [
        '-n',
        node,
        'link',
        'add',
        `v${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      ]);
      run('ip', ['-n', node, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${this.podIp(i)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    });
  }

  /** The same hosts file (ip -> names) in every namespace: the cluster's DNS. */
  setDns(hosts: ReadonlyMap<string, readonly string[]>): void {
    const lines = ['127.0.0.1 localhost'];
    for (const [ip, names] of hosts) lines.push(`${ip} ${names.join(' ')}`);
    for (const ns of [this.nodeNs, ...this.podNs]) {
      const etc = join('/etc/netns', ns);
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'hosts'), lines.join('\n') + '\n');
      writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    }
  }

  /**
   * Starts pod `i`'s container: the image's entrypoint with the container's
   * args, only the image's and the container's environment (nothing of this
   * test process's), its volumes mounted. Output goes to <dir>/<name>.log.
   */
  startPod(i: number, pod: PodSpec, image: ImageRuntime): ChildProcess {
    const ns = this.podNs[i] as string;
    const mountSteps: string[] = [];
    const mountArgs: string[] = [];
    for (const [target, source] of pod.mounts) {
      // A mount point for the volume (an empty directory, left in place).
      mkdirSync(target, { recursive: true });
      mountSteps.push(`mount --bind "$${mountArgs.length + 1}" "$${mountArgs.length + 2}"`);
      mountArgs.push(source, target);
    }
    const script = [...mountSteps, `shift ${mountArgs.length}`, 'exec "$@"'].join(' && ');
    const env: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOSTNAME: pod.name,
      ...image.env,
      ...Object.fromEntries(pod.env),
    };
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'sh',
        '-c',
        script,
        'sh',
        ...mountArgs,
        ...image.entrypoint,
        ...pod.args,
      ],
      { cwd: image.workdir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(join(this.dir, `${pod.name}.log`), { flags: 'a' });
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    proc.once('exit', () => log.end());
    this.procs.set(pod.name, proc);
    return proc;
  }

  /** The last lines of a pod's log (for failure messages). */
  podLog(name: string, lines = 20): string {
    const path = join(this.dir, `${name}.log`);
    if (!existsSync(path)) return '(no log)';
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  }

  /** Runs a command in the node namespace (where the kubelet and clients are). */
  runOnNode(cmd: string, args: string[], timeoutMs = 15_000): Promise<RunResult> {
    return new Promise((resolve) => {
      const p = spawn('ip', ['netns', 'exec', this.nodeNs, cmd, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Kills every pod still running and removes the namespaces and their files. */
  destroy(): void {
    for (const p of this.procs.values()) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of [...this.podNs, this.nodeNs]) {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(join('/etc/netns', ns), { recursive: true, force: true });
    }
  }
}
