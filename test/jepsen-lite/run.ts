// jepsen-lite: real raftseq nodes in Docker containers (testcontainers 11),
// real partitions (iptables inside the containers), kill -9, pause, crashes of
// the whole cluster and membership changes, under concurrent client load from
// this host; every operation recorded, the history checked for values handed
// out twice and for real-time order, and a report written per run.
//
//   npm run test:jepsen                                   # every scenario
//   npm run test:jepsen -- --scenario kill --time-limit 30
//   npm run test:jepsen -- --scenario self-test           # checker self-test, no Docker
//
// Options: --scenario NAME[,NAME...] | all (default all: self-test, then every
// scenario),
// --time-limit S (per scenario, default 30), --nodes N (override),
// --seed N, --clients-per-node N, --min-values N (fail when fewer values were
// checked in total), --build (rebuild the image first), --reports DIR,
// --tls (every node serves TLS with its own member certificate, peers speak
// mutual TLS, the clients trust the run's CA and the admin calls of the
// nemeses use an admin certificate; reports end in "-tls").
// Needs: a Docker engine, images from deploy/build-image.sh (built when
// missing). Exit 0 only if every history is valid and every cluster recovered.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { SequenceClient } from '../../src/index.js';
import { silenceIpServernameWarning } from '../../src/security/tls.js';
import { ensureLocalTls, type LocalTls } from '../../scripts/local-tls.js';
import { formatReport } from '../support/checker.js';
import { History, now, readHistory, toJsonl } from '../support/history.js';
import type { Op } from '../support/history.js';
import { Prng } from '../support/prng.js';
import { analyze, findingsJson } from './analyze.js';
import type { Analysis } from './analyze.js';
import { DOCKER, DockerCluster, IMAGE } from './cluster.js';
import { NEMESES, SCENARIOS, Timeline } from './nemesis.js';
import type { FaultCtx, Phase } from './nemesis.js';
import { plotSvg } from './plot.js';
import { startWorkload } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const runFile = promisify(execFile);

const ELECTION_MS = 600;
const HEARTBEAT_MS = 60;
const SEQUENCES = ['orders', 'invoices', 'tickets', 'events'];

interface Options {
  scenarios: string[];
  timeLimitS: number;
  nodes: number | null;
  seed: number;
  clientsPerNode: number;
  minValues: bigint;
  build: boolean;
  reports: string;
  tls: boolean;
}

interface ScenarioOutcome {
  scenario: string;
  nodes: number;
  dir: string;
  picture: string;
  valid: boolean;
  recovered: boolean;
  summary: Analysis['summary'] | null;
  error?: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'all' },
      'time-limit': { type: 'string', default: '30' },
      nodes: { type: 'string' },
      seed: { type: 'string' },
      'clients-per-node': { type: 'string', default: '3' },
      'min-values': { type: 'string', default: '0' },
      build: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      reports: { type: 'string', default: join(here, 'reports') },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run test:jepsen -- [--scenario NAME[,NAME..]|all] [--time-limit S] [--nodes N]\n' +
        '         [--seed N] [--clients-per-node N] [--min-values N] [--build]\n' +
        '         [--reports DIR] [--tls]\n' +
        'all: the checker self-test, then every scenario\n' +
        `scenarios: self-test, ${Object.keys(SCENARIOS).join(', ')}\n`,
    );
    process.exit(0);
  }
  const names =
    values.scenario === 'all'
      ? ['self-test', ...Object.keys(SCENARIOS)]
      : values.scenario.split(',').map((s) => s.trim());
  for (const n of names) {
    if (n !== 'self-test' && SCENARIOS[n] === undefined) {
      throw new Error(
        `unknown scenario ${n}; known: self-test, ${Object.keys(SCENARIOS).join(', ')}`,
      );
    }
  }
  const int = (s: string, what: string): number => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${what} must be a whole number`);
    return v;
  };
  return {
    scenarios: names,
    timeLimitS: int(values['time-limit'], 'time-limit'),
    nodes: values.nodes === undefined ? null : int(values.nodes, 'nodes'),
    seed: values.seed === undefined ? Date.now() % 1_000_000 : int(values.seed, 'seed'),
    clientsPerNode: Math.max(1, int(values['clients-per-node'], 'clients-per-node')),
    minValues: BigInt(int(values['min-values'], 'min-values')),
    build: values.build,
    reports: resolve(values.reports),
    tls: values.tls,
  };
}

function stamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, 'Z');
}

function ensureImage(force: boolean): void {
  let present = false;
  try {
    execFileSync(DOCKER, ['image', 'inspect', IMAGE], { stdio: 'ignore' });
    present = true;
  } catch {
    present = false;
  }
  if (present && !force) return;
  console.log(`jepsen: building ${IMAGE} (deploy/build-image.sh)`);
  execFileSync(join(root, 'deploy', 'build-image.sh'), { stdio: 'inherit', cwd: root });
}

/** Writes history.jsonl, results.json, latency.svg (+ .png when rsvg-convert exists). */
async function writeReport(
  dir: string,
  title: string,
  history: readonly Op[],
  phases: readonly Phase[],
  extra: Record<string, unknown>,
): Promise<{ analysis: Analysis; picture: string }> {
  mkdirSync(dir, { recursive: true });
  const historyFile = join(dir, 'history.jsonl');
  if (!existsSync(historyFile)) writeFileSync(historyFile, toJsonl(history));
  // Check what is on disk: the same path for real runs and the self-test.
  const ops = readHistory(historyFile);
  const analysis = analyze(ops, phases);
  const results = {
    ...extra,
    summary: analysis.summary,
    phases: analysis.phases,
    findings: findingsJson(analysis.check),
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(dir, 'checker.txt'), formatReport(analysis.check));
  const svg = join(dir, 'latency.svg');
  writeFileSync(svg, plotSvg(analysis, title));
  let picture = svg;
  try {
    await runFile('rsvg-convert', ['-o', join(dir, 'latency.png'), svg]);
    picture = join(dir, 'latency.png');
  } catch {
    // no rsvg-convert: the SVG is the picture
  }
  return { analysis, picture };
}

// ------------------------------------------------------------------ self-test

/**
 * A planted history through the same report path: a duplicate (two concurrent
 * ok ops share value 104), a real-time order violation (150 after 200 had
 * completed) and an ok op overlapping an info op (not a finding: info is
 * never counted). The checker must report exactly the first two.
 */
async function selfTest(o: Options): Promise<ScenarioOutcome> {
  const dir = join(o.reports, `${stamp()}-self-test`);
  mkdirSync(dir, { recursive: true });
  const base = now();
  const t = (ms: number): bigint => base + BigInt(Math.round(ms * 1e6));
  const h: Op[] = [];
  const add = (op: Omit<Op, 'f' | 'time'> & { ms: number }): void => {
    const { ms, ...rest } = op;
    h.push({ ...rest, f: 'next', time: t(ms) });
  };
  // A valid background: process 9 takes 1..50 one by one.
  for (let i = 0; i < 50; i++) {
    add({ process: 9, type: 'invoke', sequence: 's', count: 1, ms: i * 20 });
    add({ process: 9, type: 'ok', sequence: 's', count: 1, first: BigInt(i + 1), ms: i * 20 + 5 });
  }
  // Planted duplicate: concurrent ops, 100..104 and 104.
  add({ process: 0, type: 'invoke', sequence: 'dup', count: 5, ms: 100 });
  add({ process: 1, type: 'invoke', sequence: 'dup', count: 1, ms: 110 });
  add({ process: 0, type: 'ok', sequence: 'dup', count: 5, first: 100n, ms: 200 });
  add({ process: 1, type: 'ok', sequence: 'dup', count: 1, first: 104n, ms: 210 });
  // Planted order violation: 150 invoked after 200 completed.
  add({ process: 2, type: 'invoke', sequence: 'order', count: 1, ms: 300 });
  add({ process: 2, type: 'ok', sequence: 'order', count: 1, first: 200n, ms: 310 });
  add({ process: 3, type: 'invoke', sequence: 'order', count: 1, ms: 400 });
  add({ process: 3, type: 'ok', sequence: 'order', count: 1, first: 150n, ms: 410 });
  // An info op overlapping an ok op: not a duplicate, not an order problem.
  add({ process: 4, type: 'invoke', sequence: 'info', count: 10, ms: 500 });
  add({ process: 5, type: 'invoke', sequence: 'info', count: 1, ms: 510 });
  add({ process: 5, type: 'ok', sequence: 'info', count: 1, first: 300n, ms: 520 });
  add({
    process: 4,
    type: 'info',
    sequence: 'info',
    count: 10,
    error: 'DEADLINE_EXCEEDED',
    ms: 3000,
  });
  add({ process: 6, type: 'invoke', sequence: 'info', count: 1, ms: 3100 });
  add({ process: 6, type: 'ok', sequence: 'info', count: 1, first: 310n, ms: 3110 });
  h.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  writeFileSync(join(dir, 'history.jsonl'), toJsonl(h));

  const phases: Phase[] = [
    { name: 'planted', label: 'planted faults', fault: true, from: t(90), to: t(600), notes: [] },
  ];
  const { analysis, picture } = await writeReport(
    dir,
    'jepsen-lite self-test (planted history)',
    [],
    phases,
    {
      scenario: 'self-test',
    },
  );
  const c = analysis.check;
  const problems: string[] = [];
  const dup = c.duplicates[0];
  if (
    c.duplicatePairs !== 1 ||
    dup === undefined ||
    dup.sequence !== 'dup' ||
    dup.overlap[0] !== 104n
  ) {
    problems.push(
      `expected exactly the planted duplicate (dup: 104), got ${c.duplicatePairs} pairs`,
    );
  }
  const v = c.orderViolations[0];
  if (
    c.orderViolationCount !== 1 ||
    v === undefined ||
    v.sequence !== 'order' ||
    v.later.first !== 150n
  ) {
    problems.push(
      `expected exactly the planted order violation (order: 150 after 200), got ${c.orderViolationCount}`,
    );
  }
  if (
    c.counts.info !== 1 ||
    c.sequences.find((s) => s.sequence === 'info')?.duplicatedValues !== 0n
  ) {
    problems.push('the info op was counted');
  }
  if (c.valid) problems.push('the planted history was judged valid');
  for (const p of problems) console.log(`self-test: FAILED: ${p}`);
  console.log(
    `self-test: ${problems.length === 0 ? 'ok' : 'FAILED'}: planted duplicate and order violation caught, ` +
      `info op not counted (${relative(root, dir)})`,
  );
  return {
    scenario: 'self-test',
    nodes: 0,
    dir,
    picture,
    valid: problems.length === 0,
    recovered: true,
    summary: analysis.summary,
  };
}

// ------------------------------------------------------------------ scenarios

async function runScenario(name: string, o: Options, index: number): Promise<ScenarioOutcome> {
  const def = SCENARIOS[name];
  if (def === undefined) throw new Error(`unknown scenario ${name}`);
  const nodes = o.nodes ?? def.nodes;
  const seed = o.seed + index;
  const rng = new Prng(seed);
  const ts = stamp();
  const label = o.tls ? `${name}+tls` : name;
  const dir = join(o.reports, `${ts}-${o.tls ? `${name}-tls` : name}`);
  mkdirSync(dir, { recursive: true });
  const log = (msg: string): void => console.log(`[${label}] ${msg}`);
  log(`${def.about}; ${nodes} nodes, ${o.timeLimitS} s, seed ${seed}${o.tls ? ', TLS' : ''}`);

  const t0 = Date.now();
  // A CA and an admin certificate for this run only (members get theirs as
  // their containers start); removed at the end, never in the report.
  const tlsDir = o.tls ? mkdtempSync(join(tmpdir(), 'raftseq-jepsen-tls-')) : null;
  let cluster: DockerCluster;
  try {
    const tls: LocalTls | null = tlsDir === null ? null : (await ensureLocalTls(tlsDir, [])).tls;
    cluster = await DockerCluster.start({
      size: nodes,
      electionTimeoutMs: ELECTION_MS,
      heartbeatIntervalMs: HEARTBEAT_MS,
      name: `jl-${ts.toLowerCase().replace(/[^a-z0-9]/g, '')}-${name}`,
      ...(tls !== null ? { tls } : {}),
    });
  } catch (e) {
    if (tlsDir !== null) rmSync(tlsDir, { recursive: true, force: true });
    throw e;
  }
  let outcome: ScenarioOutcome | null = null;
  try {
    const leader = await cluster.waitLeader(20_000);
    // Serving before the load starts: one Next answered (not part of the history).
    const probe = new SequenceClient({
      endpoints: cluster.endpoints,
      ...cluster.clientOptions('client'),
      deadlineMs: 20_000,
    });
    try {
      await probe.next('warmup-probe');
    } finally {
      probe.close();
    }
    log(`cluster up and serving in ${Date.now() - t0} ms, leader ${leader}`);
    let spare = nodes;
    const ctx: FaultCtx = { cluster, rng, log, nextSpareId: () => `n${++spare}` };
    const history = new History();
    const timeline = new Timeline();
    // Maps the history's monotonic clock to wall-clock time, to read node logs.
    const wallAnchor = { monotonicNs: now().toString(), wallClock: new Date().toISOString() };
    const start = Date.now();
    const end = start + o.timeLimitS * 1000;
    const workload = startWorkload({
      endpoints: cluster.endpoints,
      clientsPerNode: o.clientsPerNode,
      sequences: SEQUENCES,
      history,
      untilMs: end + 60_000,
      seed,
      deadlineMs: 2000,
      attemptTimeoutMs: 500,
      batchProbability: 0.25,
      maxBatch: 400,
      ...cluster.clientOptions('client'),
    });
    timeline.begin('healthy', 'healthy', false);
    await sleep(2000);
    let faults = 0;
    while (faults === 0 || Date.now() + def.faultMs + def.healthyMs <= end) {
      const nemName = rng.pick(def.nemeses);
      const nemesis = NEMESES[nemName];
      if (nemesis === undefined) throw new Error(`no nemesis ${nemName}`);
      const phase = timeline.begin(nemName, nemName, true);
      faults++;
      try {
        const f = await nemesis(ctx);
        phase.label = f.label;
        log(`+${((Date.now() - start) / 1000).toFixed(1)}s ${f.label}`);
        await sleep(def.faultMs);
        await f.end();
        phase.notes.push(...f.notes);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        phase.notes.push(`nemesis error: ${msg}`);
        log(`nemesis error: ${msg}`);
        await cluster.healAll().catch(() => undefined); // the nemesis error is what is reported
      }
      timeline.begin('healthy', 'healthy', false);
      await sleep(def.healthyMs);
    }
    await cluster.healAll();
    // The final healthy phase runs until the time limit (at least 3 s).
    await sleep(Math.max(3000, end - Date.now()));
    await workload.stop();
    timeline.endCurrent();

    // Recovery: every member up and serving, one leader, a fresh client served.
    const recovery = await checkRecovery(cluster);
    log(recovery.ok ? `recovered: ${recovery.detail}` : `NOT RECOVERED: ${recovery.detail}`);
    await cluster.saveLogs(dir);
    const { analysis, picture } = await writeReport(
      dir,
      `jepsen-lite ${label}: ${def.about} (${nodes} nodes${o.tls ? ', TLS' : ''})`,
      history.ops,
      timeline.phases,
      {
        scenario: name,
        about: def.about,
        tls: o.tls,
        nodes,
        seed,
        timeLimitS: o.timeLimitS,
        clientsPerNode: o.clientsPerNode,
        electionTimeoutMs: ELECTION_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        recovery,
        wallAnchor,
        members: cluster.nodes.map((n) => ({ id: n.id, addr: n.addr, removed: n.removed })),
      },
    );
    const s = analysis.summary;
    log(formatReport(analysis.check).trimEnd().split('\n').slice(0, 12).join(`\n[${label}] `));
    for (const p of analysis.phases) {
      log(
        `  ${p.fromS.toFixed(1).padStart(5)}-${p.toS.toFixed(1).padEnd(5)} ${p.label.padEnd(44).slice(0, 44)} ` +
          `avail ${(p.availability * 100).toFixed(1).padStart(5)}%  ok ${String(p.ok).padStart(6)}  ` +
          `info ${String(p.info).padStart(4)}  skipped ${p.skipped.padStart(7)}  ` +
          `unavail ${p.longestUnavailabilityMs.toFixed(0).padStart(5)} ms`,
      );
      for (const n of p.notes) log(`      ${n}`);
    }
    log(`report: ${relative(root, dir)} (picture ${relative(root, picture)})`);
    outcome = {
      scenario: label,
      nodes,
      dir,
      picture,
      valid: s.valid,
      recovered: recovery.ok,
      summary: s,
    };
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    log(`ERROR: ${msg}`);
    await cluster.saveLogs(dir).catch(() => undefined); // best effort beside the real error
    outcome = {
      scenario: label,
      nodes,
      dir,
      picture: '',
      valid: false,
      recovered: false,
      summary: null,
      error: msg.split('\n')[0] as string,
    };
  } finally {
    await cluster.stop();
    if (tlsDir !== null) rmSync(tlsDir, { recursive: true, force: true });
  }
  return outcome;
}

/**
 * After healing everything: one leader; a fresh client is served; within
 * 15 s every member is a voter in contact with the leader and has replicated
 * everything the leader committed.
 */
async function checkRecovery(cluster: DockerCluster): Promise<{ ok: boolean; detail: string }> {
  const t0 = Date.now();
  let leader: string | null = null;
  try {
    leader = await cluster.waitLeader(15_000);
  } catch {
    return { ok: false, detail: 'no leader within 15 s after healing everything' };
  }
  const client = new SequenceClient({
    endpoints: cluster.endpoints,
    ...cluster.clientOptions('client'),
    deadlineMs: 10_000,
  });
  try {
    const r = await client.next('recovery-probe');
    const served = Date.now() - t0;
    let behind = '';
    let members = '';
    while (Date.now() - t0 < 15_000) {
      const st = await client.clusterStatus();
      members = st.members.map((m) => `${m.id}:${m.role}`).join(',');
      const lagging = st.members.filter(
        (m) =>
          m.role === 'learner' ||
          (m.role !== 'leader' && (m.lastContactMs < 0 || m.lastContactMs > 2000)) ||
          m.matchIndex < st.commitIndex,
      );
      behind = lagging
        .map(
          (m) =>
            `${m.id} (${m.role}, match ${m.matchIndex}/${st.commitIndex}, contact ${m.lastContactMs} ms)`,
        )
        .join(', ');
      if (st.role === 'leader' && lagging.length === 0) {
        return {
          ok: true,
          detail: `leader ${leader}, Next -> ${r.first} in ${served} ms, all caught up in ${Date.now() - t0} ms, members ${members}`,
        };
      }
      await sleep(250);
    }
    return {
      ok: false,
      detail: `leader ${leader} serves, but after 15 s not caught up: ${behind} (members ${members})`,
    };
  } catch (e) {
    return {
      ok: false,
      detail: `Next after healing failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  } finally {
    client.close();
  }
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';
  // Clients dial the published ports by IP over TLS; Node's DEP0123 about it is noise.
  if (o.tls) silenceIpServernameWarning();
  mkdirSync(o.reports, { recursive: true });
  const outcomes: ScenarioOutcome[] = [];
  const needsDocker = o.scenarios.some((s) => s !== 'self-test');
  if (needsDocker) ensureImage(o.build);
  let i = 0;
  for (const name of o.scenarios) {
    if (name === 'self-test') outcomes.push(await selfTest(o));
    else outcomes.push(await runScenario(name, o, i++));
  }

  console.log('\njepsen-lite summary');
  console.log(
    'scenario          nodes  valid  recov  values     ok      fail  info   avail    skipped    unavail_ms  picture',
  );
  let total = 0n;
  for (const r of outcomes) {
    const s = r.summary;
    if (r.scenario !== 'self-test' && s !== null) total += BigInt(s.valuesChecked);
    console.log(
      [
        r.scenario.padEnd(17),
        String(r.nodes).padStart(5),
        (r.valid ? 'yes' : 'NO').padStart(6),
        (r.recovered ? 'yes' : 'NO').padStart(6),
        (s?.valuesChecked ?? '-').padStart(9),
        String(s?.counts.ok ?? '-').padStart(7),
        String(s?.counts.fail ?? '-').padStart(6),
        String(s?.counts.info ?? '-').padStart(5),
        (s === null ? '-' : `${(s.availability * 100).toFixed(2)}%`).padStart(8),
        (s?.skippedValues ?? '-').padStart(10),
        (s === null ? '-' : s.longestUnavailabilityMs.toFixed(0)).padStart(11),
        ' ' + (r.picture === '' ? (r.error ?? '') : relative(root, r.picture)),
      ].join(' '),
    );
  }
  console.log(`values checked in total: ${total}`);
  writeFileSync(
    join(o.reports, `${stamp()}-summary.json`),
    JSON.stringify({ totalValuesChecked: total.toString(), outcomes }, null, 2) + '\n',
  );
  let failed = outcomes.filter((r) => !r.valid || !r.recovered).length > 0;
  if (needsDocker && total < o.minValues) {
    console.log(`FAILED: ${total} values checked, fewer than --min-values ${o.minValues}`);
    failed = true;
  }
  console.log(failed ? 'jepsen-lite: FAILED' : 'jepsen-lite: ok');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`jepsen-lite: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
