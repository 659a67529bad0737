// The StatefulSet's pods, run for real: every pod of deploy/k8s/base with
// exactly the arguments and environment its container spec gives it (pod
// names as ids, stable DNS names as advertise and initial-cluster addresses,
// 0.0.0.0 listeners), each in its own network namespace with the cluster DNS
// as hosts files (see pods.ts). bin/raftseq runs from the built dist/, as in
// the image. Checks that they form a cluster reachable through the client
// Service name, redirect by DNS name, answer the kubelet's probes, stop
// gracefully within terminationGracePeriodSeconds, and come back with the
// same arguments.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { containerArgs, containerEnv } from './k8s-env.js';
import { K8S_DIR, renderKustomization } from './kustomize.js';
import { skipUnlessCi } from './tools.js';
import { PodNetwork, imageRuntime, podsUnavailable, type PodSpec, type RunResult } from './pods.js';

const NAMESPACE = 'default';
// Runs in CI (root) always; elsewhere skips without root or iproute2.
const skipReason = skipUnlessCi(podsUnavailable());

const objects = renderKustomization(join(K8S_DIR, 'base'));
const sts = objects.find((o) => o.kind === 'StatefulSet') as unknown as IStatefulSet;
const services = objects.filter((o) => o.kind === 'Service') as unknown as IService[];
const headless = services.find((s) => s.spec?.clusterIP === 'None') as IService;
const client = services.find((s) => s.spec?.clusterIP !== 'None') as IService;
const podSpec = sts.spec!.template.spec!;
const container = podSpec.containers[0] as IContainer;
const replicas = sts.spec!.replicas ?? 1;
const podNames = Array.from({ length: replicas }, (_, i) => `${sts.metadata!.name}-${i}`);

/** The cluster domain the pods were given (CLUSTER_DOMAIN in the container's env). */
const clusterDomain = containerEnv(container, { name: 'x', namespace: NAMESPACE, ip: '' }).get(
  'CLUSTER_DOMAIN',
) as string;
const podFqdn = (name: string): string =>
  `${name}.${headless.metadata!.name}.${NAMESPACE}.svc.${clusterDomain}`;
const clientFqdn = `${client.metadata!.name}.${NAMESPACE}.svc.${clusterDomain}`;

/** A container port by name or number. */
function portOf(port: number | string): number {
  if (typeof port === 'number') return port;
  const p = container.ports?.find((x) => x.name === port);
  if (p === undefined) throw new Error(`no container port named ${port}`);
  return p.containerPort;
}
const grpcPort = portOf(client.spec!.ports![0]!.targetPort as string);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipReason !== null)(
  `StatefulSet pods on a stand-in node${skipReason !== null ? ` (${skipReason})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-k8s-'));
    const image = imageRuntime();
    let net: PodNetwork;
    const pods: PodSpec[] = [];
    const procs: (ChildProcess | null)[] = [];

    const cli = (args: string[]): Promise<RunResult> =>
      net.runOnNode(process.execPath, ['bin/raftseq', ...args]);

    const start = (i: number): void => {
      procs[i] = net.startPod(i, pods[i] as PodSpec, image);
    };

    /** `raftseq next` from the node namespace; the first value. */
    async function next(endpoints: string[], count = 1): Promise<bigint> {
      const r = await cli([
        'next',
        'orders',
        '--count',
        String(count),
        '--json',
        '--endpoints',
        endpoints.join(','),
      ]);
      expect(r.code, `${r.stderr}\n${podNames.map((n) => net.podLog(n, 5)).join('\n')}`).toBe(0);
      return BigInt((JSON.parse(r.stdout) as { first: string }).first);
    }

    async function clusterStatus(endpoint: string): Promise<{
      leader: string | null;
      members: { id: string; address: string; advertise: string; role: string }[];
    }> {
      const r = await cli(['cluster', 'status', '--json', '--endpoints', endpoint]);
      if (r.code !== 0) throw new Error(r.stderr.trim());
      return JSON.parse(r.stdout) as Awaited<ReturnType<typeof clusterStatus>>;
    }

    /** Polls until some member reports a leader (bounded). */
    async function waitForLeader(endpoint: string): Promise<string> {
      let last = '';
      for (let attempt = 0; attempt < 40; attempt++) {
        try {
          const s = await clusterStatus(endpoint);
          if (s.leader !== null) return s.leader;
          last = 'no leader yet';
        } catch (e) {
          last = (e as Error).message;
        }
        await sleep(250);
      }
      throw new Error(
        `no leader through ${endpoint}: ${last}\n${podNames.map((n) => net.podLog(n)).join('\n')}`,
      );
    }

    beforeAll(() => {
      net = PodNetwork.create(replicas, dir);
      const dns = new Map<string, string[]>();
      podNames.forEach((name, i) => dns.set(net.podIp(i), [podFqdn(name)]));
      // The client Service's name stands for its ClusterIP; here it reaches pod 0.
      dns.get(net.podIp(0))!.push(clientFqdn);
      net.setDns(dns);
      podNames.forEach((name, i) => {
        const env = containerEnv(container, { name, namespace: NAMESPACE, ip: net.podIp(i) });
        const mounts = new Map<string, string>();
        for (const m of container.volumeMounts ?? []) {
          const host = join(dir, `${name}-${m.name}`);
          mkdirSync(host, { recursive: true });
          mounts.set(m.mountPath, host);
        }
        pods.push({ name, args: containerArgs(container, env), env, mounts });
        start(i);
      });
    });

    afterAll(() => {
      net?.destroy();
      if (!process.env['RAFTSEQ_KEEP_TEST_DATA']) rmSync(dir, { recursive: true, force: true });
    });

    it('the pods elect a leader and serve Next through the client Service name', async () => {
      const leader = await waitForLeader(`${clientFqdn}:${grpcPort}`);
      expect(podNames).toContain(leader);
      const s = await clusterStatus(`${clientFqdn}:${grpcPort}`);
      expect(s.members.map((m) => m.id).sort()).toEqual(podNames);
      for (const m of s.members) {
        expect(m.address).toBe(`${podFqdn(m.id)}:${grpcPort}`);
        expect(m.advertise).toBe(`${podFqdn(m.id)}:${grpcPort}`);
      }
      expect(await next([`${clientFqdn}:${grpcPort}`], 5)).toBe(1n);
    });

    it('a follower sends clients on to the leader by its stable DNS name', async () => {
      const leader = await waitForLeader(`${clientFqdn}:${grpcPort}`);
      const follower = podNames.find((n) => n !== leader) as string;
      // The only endpoint given is the follower: the value can only come
      // from dialling the advertised name of the leader it redirects to.
      expect(await next([`${podFqdn(follower)}:${grpcPort}`])).toBe(6n);
    });

    it("answers the kubelet's probes on the pod IP", async () => {
      const probes: [string, IProbe | undefined, RegExp][] = [
        ['liveness', container.livenessProbe, /"live":true/],
        ['readiness', container.readinessProbe, /"ready":true/],
      ];
      for (const [kind, probe, body] of probes) {
        const get = probe?.httpGet;
        expect(get, `${kind} probe is an HTTP GET`).toBeDefined();
        for (let i = 0; i < replicas; i++) {
          const url = `http://${net.podIp(i)}:${portOf(get!.port)}${get!.path}`;
          const r = await net.runOnNode(process.execPath, [
            '-e',
            'fetch(process.argv[1]).then(async (r) => console.log(r.status, await r.text()))',
            url,
          ]);
          expect(Number(r.stdout.split(' ')[0]), `${url}: ${r.stdout}${r.stderr}`).toBe(200);
          expect(r.stdout, url).toMatch(body);
        }
      }
    });

    it('SIGTERM: the leader exits 0 within terminationGracePeriodSeconds; no value is skipped; it rejoins with the same arguments', async () => {
      const leader = await waitForLeader(`${clientFqdn}:${grpcPort}`);
      const i = podNames.indexOf(leader);
      const proc = procs[i] as ChildProcess;
      const last = await next([`${clientFqdn}:${grpcPort}`]);

      // As the kubelet: SIGTERM, then SIGKILL once the grace period is over.
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        proc.once('exit', (code, signal) => resolve({ code, signal })),
      );
      proc.kill('SIGTERM');
      const grace = setTimeout(
        () => proc.kill('SIGKILL'),
        (podSpec.terminationGracePeriodSeconds ?? 30) * 1000,
      );
      const { code, signal } = await exited;
      clearTimeout(grace);
      expect({ code, signal }, net.podLog(leader)).toEqual({ code: 0, signal: null });

      // The members left continue at the exact next value (graceful hand-over).
      const others = podNames.filter((n) => n !== leader).map((n) => `${podFqdn(n)}:${grpcPort}`);
      expect(await next(others)).toBe(last + 1n);

      // The StatefulSet recreates the pod with the same spec (so with
      // --initial-cluster again, and its data directory kept).
      start(i);
      const rejoined = `${podFqdn(leader)}:${grpcPort}`;
      await waitForLeader(rejoined);
      expect(await next([rejoined])).toBe(last + 2n);
    });
  },
);
