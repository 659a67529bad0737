// PromQL as the deploy artefacts use it: the queries of the Grafana dashboard
// and the expressions of the alert rules, the metric names they read (parsed
// with Prometheus's own grammar, @prometheus-io/lezer-promql), and the series
// names a node's /metrics offers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';
import { packageRoot } from '../../src/proto/package-root.js';
import { RULES_FILE } from './tools.js';

export const DASHBOARD_FILE = join(packageRoot(), 'deploy', 'grafana', 'raftseq.json');

/** Where a query comes from (for messages) and its text. */
export interface Query {
  where: string;
  expr: string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr?: string; refId?: string }[];
}

export interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/**
 * A Grafana query as Prometheus receives it: the interval variables
 * ($__rate_interval, ...) become 1m, the dashboard's own variables a regex
 * matching anything (they only appear in =~ matchers).
 */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__[a-z_]+/g, '1m').replace(/\$\{?[A-Za-z_]\w*\}?/g, '.+');
}

/** Every PromQL query of the dashboard: panel targets and variable queries. */
export function dashboardQueries(d: Dashboard): Query[] {
  const out: Query[] = [];
  for (const p of d.panels) {
    for (const t of p.targets ?? []) {
      out.push({
        where: `panel "${p.title}" ${t.refId}`,
        expr: withoutGrafanaVariables(t.expr ?? ''),
      });
    }
  }
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    // label_values(<series selector>, <label>): the selector is PromQL.
    const m = /^label_values\((.*),\s*\w+\)$/.exec(v.definition ?? '');
    if (m === null) throw new Error(`variable ${v.name}: unexpected query ${v.definition}`);
    out.push({ where: `variable ${v.name}`, expr: withoutGrafanaVariables(m[1] as string) });
  }
  return out;
}

/** Every alert rule's expression. */
export function ruleQueries(): Query[] {
  const rules = parse(readFileSync(RULES_FILE, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  );
}

/** The metric names a PromQL expression selects. Throws on a syntax error. */
export function metricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) {
      throw new Error(`syntax error at ${cursor.from} in ${expr}`);
    }
    if (cursor.name === 'Identifier' && cursor.node.parent?.name === 'VectorSelector') {
      names.push(expr.slice(cursor.from, cursor.to));
    }
  } while (cursor.next());
  return names;
}

/** Series suffixes each metric type adds to its name (text exposition format). */
const SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** The series names a scrape offers, from its `# TYPE name type` lines. */
export function servedSeriesNames(scrape: string): Set<string> {
  const out = new Set<string>();
  for (const line of scrape.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m === null) continue;
    for (const suffix of SUFFIXES[m[2] as string] ?? ['']) out.add(`${m[1]}${suffix}`);
  }
  return out;
}
