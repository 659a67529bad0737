// The no-leader alert against a real cluster (and every dashboard query and
// rule expression evaluated by a real Prometheus): three raftseq processes with
// --metrics-listen, a real Prometheus (Debian's binary, on 127.0.0.1, its
// own config and storage in a temporary directory, scraping and evaluating
// every second) loading deploy/prometheus/raftseq.rules.yml. Two members are
// killed; the one left loses its quorum, and Prometheus's HTTP API must show
// RaftseqNoLeader firing.
//
// Only `for:` is shortened (to 2 s, from 1m) so that the test takes seconds;
// the expression is the file's. The durations are covered by promtool's unit
// tests (prometheus-rules.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcCluster } from '../support/proc-cluster.js';
import { reservePorts } from '../support/ports.js';
import { dashboardQueries, readDashboard, ruleQueries } from './promql.js';
import { RULES_FILE, prometheusTool } from './tools.js';

const prometheus = prometheusTool('prometheus');
const ALERT = 'RaftseqNoLeader';
const JOB = 'raftseq';

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; for?: string; expr: string }[] }[];
}

/** The rules file with `for` of the alert under test shortened. */
function rulesForTest(): string {
  const rules = parse(readFileSync(RULES_FILE, 'utf8')) as RuleGroups;
  const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === ALERT);
  if (rule === undefined) throw new Error(`${RULES_FILE} has no ${ALERT}`);
  rule.for = '2s';
  return stringify(rules);
}

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

describe.skipIf(prometheus.skip !== null)(
  `Prometheus on a real cluster${prometheus.skip !== null ? ` (${prometheus.skip})` : ''}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-prom-'));
    let cluster: ProcCluster;
    let prom: ChildProcess;
    let api: string;
    const metricsPort = new Map<string, number>();

    async function get<T>(path: string): Promise<T> {
      const res = await fetch(`${api}${path}`);
      const body = (await res.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
      return body.data;
    }

    /** Polls `check` once a second until it returns a value (bounded). */
    async function until<T>(
      what: string,
      check: () => Promise<T | null>,
      seconds = 30,
    ): Promise<T> {
      let last: unknown = null;
      for (let i = 0; i < seconds * 4; i++) {
        try {
          const v = await check();
          if (v !== null) return v;
        } catch (e) {
          last = e;
        }
        await sleep(250);
      }
      const log = readFileSync(join(dir, 'prometheus.log'), 'utf8').split('\n').slice(-10);
      throw new Error(`${what}: not within ${seconds} s (${String(last)})\n${log.join('\n')}`);
    }

    const alerts = async (): Promise<PromAlert[]> =>
      (await get<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts.filter(
        (a) => a.labels['alertname'] === ALERT,
      );

    beforeAll(async () => {
      cluster = await ProcCluster.start({
        size: 3,
        serveArgs: ['--metrics-listen', '127.0.0.1:0'],
      });
      for (const n of cluster.nodes) metricsPort.set(n.id, n.metricsPort as number);
      await cluster.leader(20_000);

      writeFileSync(join(dir, 'raftseq.rules.yml'), rulesForTest());
      writeFileSync(
        join(dir, 'prometheus.yml'),
        stringify({
          global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
          rule_files: [join(dir, 'raftseq.rules.yml')],
          scrape_configs: [
            {
              job_name: JOB,
              static_configs: [{ targets: [...metricsPort.values()].map((p) => `127.0.0.1:${p}`) }],
            },
          ],
        }),
      );
      const web = await reservePorts(1);
      const webPort = web.port(0);
      api = `http://127.0.0.1:${webPort}`;
      await web.release(webPort); // Prometheus binds it right after
      prom = spawn(
        prometheus.path,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${webPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const log = createWriteStream(join(dir, 'prometheus.log'));
      prom.stdout?.pipe(log);
      prom.stderr?.pipe(log);
    }, 40_000);

    afterAll(async () => {
      if (prom !== undefined && prom.exitCode === null) {
        const exited = new Promise((r) => prom.once('exit', r));
        prom.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (prom.exitCode === null) prom.kill('SIGKILL');
      }
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('scrapes the three members, then fires RaftseqNoLeader once two are stopped', async () => {
      // Every member scraped, the leader seen, the rule evaluated and quiet.
      await until('three targets up', async () => {
        const { activeTargets } = await get<{ activeTargets: { health: string }[] }>(
          '/api/v1/targets',
        );
        return activeTargets.length === 3 && activeTargets.every((t) => t.health === 'up')
          ? true
          : null;
      });
      await until('a leader in the scraped metrics', async () => {
        const { result } = await get<{ result: { value: [number, string] }[] }>(
          `/api/v1/query?query=${encodeURIComponent('sum(raftseq_is_leader)')}`,
        );
        return result[0]?.value[1] === '1' ? true : null;
      });
      await until(`${ALERT} evaluated`, async () => {
        const { groups } = await get<{
          groups: { rules: { name: string; health: string; lastEvaluation: string }[] }[];
        }>('/api/v1/rules?type=alert');
        const rule = groups.flatMap((g) => g.rules).find((r) => r.name === ALERT);
        return rule?.health === 'ok' && !rule.lastEvaluation.startsWith('0001') ? true : null;
      });
      // Quiet with a leader. (A fresh cluster on a busy machine may lose its
      // leader for a moment, and the alert then rightly goes pending; it must
      // clear once a leader is back.)
      await until(`${ALERT} quiet`, async () => ((await alerts()).length === 0 ? true : null));

      // Prometheus 2.42 (not only the newer grammar the dashboard test parses
      // with) evaluates every dashboard query and rule expression.
      for (const q of [...dashboardQueries(readDashboard()), ...ruleQueries()]) {
        await expect(
          get(`/api/v1/query?query=${encodeURIComponent(q.expr)}`),
          q.where,
        ).resolves.toBeDefined();
      }

      // Stop both followers: the leader loses its quorum and steps down.
      const leader = await cluster.leader();
      for (const n of cluster.nodes) if (n.id !== leader) await cluster.kill(n.id);

      const firing = await until(`${ALERT} firing`, async () => {
        const a = (await alerts()).find((x) => x.state === 'firing');
        return a ?? null;
      });
      expect(firing.labels).toEqual({ alertname: ALERT, job: JOB, severity: 'critical' });
    });
  },
);
