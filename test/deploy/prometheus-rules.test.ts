// The alert rules of deploy/prometheus through promtool: they load, and their
// unit tests (raftseq.rules.test.yml) pass.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { PROMETHEUS_DIR, RULES_FILE, prometheusTool } from './tools.js';

const promtool = prometheusTool('promtool');

describe.skipIf(promtool.skip !== null)(
  `alert rules${promtool.skip !== null ? ` (${promtool.skip})` : ''}`,
  () => {
    const promtoolRun = (args: string[]) =>
      spawnSync(promtool.path, args, { cwd: PROMETHEUS_DIR, encoding: 'utf8' });

    it('load (promtool check rules)', () => {
      const r = promtoolRun(['check', 'rules', RULES_FILE]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    it('pass their unit tests (promtool test rules), one for every alert', () => {
      const testFile = join(PROMETHEUS_DIR, 'raftseq.rules.test.yml');
      const r = promtoolRun(['test', 'rules', testFile]);
      expect(r.status, r.stdout + r.stderr).toBe(0);

      type Group = { rules: { alert?: string }[] };
      type Tests = {
        tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      const alerts = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Group[] }).groups
        .flatMap((g) => g.rules.map((rule) => rule.alert))
        .filter((a): a is string => a !== undefined);
      const fired = (parse(readFileSync(testFile, 'utf8')) as Tests).tests
        .flatMap((t) => t.alert_rule_test ?? [])
        .filter((t) => t.exp_alerts.length > 0)
        .map((t) => t.alertname);
      expect([...new Set(fired)].sort()).toEqual([...new Set(alerts)].sort());
    });
  },
);
