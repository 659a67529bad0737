// The fuzz run: generate cases with fast-check from a seed, send them with
// bounded concurrency, judge every answer, and count by service and code.
// The state checks (nothing changed, nothing consumed, nobody died) are the
// caller's: see checkAfterRun().
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { fuzzCases, malformed, type FuzzCase, type FuzzContext } from './cases.js';
import { Executor, type Outcome } from './exec.js';
import {
  deadNodes,
  KNOWN_SEQUENCE,
  observe,
  scanLogs,
  type FuzzTarget,
  type Observed,
} from './target.js';

export interface FuzzOptions {
  runs: number;
  seed: number;
  concurrency?: number;
  /** Only these services (e.g. ["Raft"]); default every one. */
  services?: readonly string[];
  /** Called after each chunk with the number sent so far. */
  progress?: (sent: number) => void;
}

export interface Failure {
  why: string;
  service: string;
  method: string;
  gen: string;
  as: string;
  end: string;
  outcome: string;
  /** The messages, hex, to replay the case. */
  hex: string[];
}

export interface ServiceCounts {
  sent: number;
  /** Answers by status code name (or reset, hang, no-status). */
  codes: Record<string, number>;
  /** Cases by generator (random, mutated, struct, oversize) and ending. */
  gens: Record<string, number>;
}

export interface FuzzReport {
  seed: number;
  sent: number;
  /** Generated cases not sent because they were valid requests that would act. */
  skippedValid: number;
  services: Record<string, ServiceCounts>;
  /** Per-request codes of NextStream answers. */
  streamCodes: Record<string, number>;
  /** Answers by service, code and message (numbers elided), for a closer look. */
  details: Record<string, number>;
  failures: Failure[];
  /** Nodes found dead during the run (the run stops then). */
  dead: string[];
  ms: number;
}

/** Codes that are never a clean answer to bad input. */
const UNCLEAN = new Set<number>([
  grpc.status.UNKNOWN,
  grpc.status.INTERNAL,
  grpc.status.UNIMPLEMENTED,
  grpc.status.DATA_LOSS,
]);

const codeName = (c: Outcome['code'] | number): string =>
  typeof c === 'number' ? (grpc.status[c] ?? String(c)) : c;

/** Why the answer to `c` is wrong, or null. */
export function judge(c: FuzzCase, o: Outcome): string | null {
  if (o.code === 'hang' || o.code === 'no-status') return `${o.code}: ${o.details}`;
  if (o.code === 'reset') return null;
  if (c.end === 'cancel') {
    return UNCLEAN.has(o.code) ? `${codeName(o.code)} before our cancel: ${o.details}` : null;
  }
  if (UNCLEAN.has(o.code)) return `${codeName(o.code)}: ${o.details}`;
  if (c.expect !== undefined && !c.expect.includes(o.code)) {
    return `${codeName(o.code)} (${o.details}), expected ${c.expect.map(codeName).join(' or ')}`;
  }
  const bad = o.streamCodes.filter((s) => s < 0 || UNCLEAN.has(s));
  if (bad.length > 0) return `stream answers with codes ${bad.join(', ')}`;
  return null;
}

const CHUNK = 2000;

export async function runFuzz(
  target: FuzzTarget,
  ctx: FuzzContext,
  opts: FuzzOptions,
): Promise<FuzzReport> {
  const started = Date.now();
  const exec = new Executor(target.cluster.endpoints, target.tls);
  const report: FuzzReport = {
    seed: opts.seed,
    sent: 0,
    skippedValid: 0,
    services: {},
    streamCodes: {},
    details: {},
    failures: [],
    dead: [],
    ms: 0,
  };
  const arb = fuzzCases(ctx);
  const bump = (rec: Record<string, number>, key: string): void => {
    rec[key] = (rec[key] ?? 0) + 1;
  };
  try {
    for (let chunk = 0; report.sent < opts.runs; chunk++) {
      const cases = fc
        .sample(arb, { seed: opts.seed + chunk, numRuns: CHUNK })
        .filter((c) => opts.services === undefined || opts.services.includes(c.service))
        .filter((c) => {
          if (malformed(c, ctx)) return true;
          report.skippedValid++;
          return false;
        })
        .slice(0, opts.runs - report.sent);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < cases.length) {
          const c = cases[next++]!;
          const o = await exec.run(c);
          const s = (report.services[c.service] ??= { sent: 0, codes: {}, gens: {} });
          s.sent++;
          bump(s.codes, codeName(o.code));
          bump(s.gens, `${c.gen}/${c.end}`);
          for (const sc of o.streamCodes) bump(report.streamCodes, codeName(sc));
          const text = o.details.replace(/[0-9]+/g, 'N').slice(0, 100);
          bump(report.details, `${c.service} ${codeName(o.code)}: ${text}`);
          const why = judge(c, o);
          if (why !== null && report.failures.length < 50) {
            report.failures.push({
              why,
              service: c.service,
              method: c.method,
              gen: c.gen,
              as: c.as,
              end: c.end,
              outcome: codeName(o.code),
              hex: c.messages.map((m) => m.subarray(0, 512).toString('hex')),
            });
          }
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
      report.sent += cases.length;
      opts.progress?.(report.sent);
      report.dead = deadNodes(target);
      if (report.dead.length > 0) break;
    }
  } finally {
    exec.close();
    report.ms = Date.now() - started;
  }
  return report;
}

export interface AfterRun {
  problems: string[];
  refusedPeerMessages: number;
}

/**
 * After a run: every node alive, the observable state as before, the known
 * sequence continuing at exactly the next value, no error in any log.
 */
export async function checkAfterRun(
  target: FuzzTarget,
  before: Observed,
  lastKnown: bigint,
): Promise<AfterRun> {
  const problems: string[] = [];
  const dead = deadNodes(target);
  if (dead.length > 0) problems.push(`nodes died: ${dead.join(', ')}`);
  if (dead.length === 0) {
    const after = await observe(target);
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      problems.push(
        `state changed:\n before ${JSON.stringify(before)}\n after  ${JSON.stringify(after)}`,
      );
    }
    const r = await target.admin.next(KNOWN_SEQUENCE);
    if (r.first !== lastKnown + 1n) {
      problems.push(`${KNOWN_SEQUENCE} continued at ${r.first}, expected ${lastKnown + 1n}`);
    }
  }
  const logs = scanLogs(target);
  problems.push(...logs.errors.slice(0, 10).map((e) => `log error: ${e}`));
  return { problems, refusedPeerMessages: logs.refusedPeerMessages };
}

/** The report as text: per service, the count and the histogram of codes. */
export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz: ${r.sent} malformed inputs sent (seed ${r.seed}) in ${(r.ms / 1000).toFixed(1)} s; ${r.skippedValid} valid ones generated and skipped`,
  ];
  for (const [name, s] of Object.entries(r.services).sort()) {
    const codes = Object.entries(s.codes)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    lines.push(`  ${name.padEnd(10)} ${String(s.sent).padStart(7)}  ${codes}`);
  }
  const sc = Object.entries(r.streamCodes)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  if (sc !== '') lines.push(`  NextStream per-request answers: ${sc}`);
  lines.push(
    `  failures: ${r.failures.length}${r.dead.length > 0 ? `; dead nodes: ${r.dead.join(', ')}` : ''}`,
  );
  for (const f of r.failures.slice(0, 10)) {
    lines.push(`    ${f.service}/${f.method} ${f.gen}/${f.end} as ${f.as}: ${f.why}`);
    lines.push(`      ${f.hex.map((h) => h.slice(0, 120)).join(' | ')}`);
  }
  return lines.join('\n');
}
