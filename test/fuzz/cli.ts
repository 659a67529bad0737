// npm run fuzz -- [--runs N] [--seed N] [--concurrency N] [--keep DIR]
//
// Starts a 3-node TLS cluster, sends N malformed inputs to every service
// (raftseq.v1.Sequencer, raftseq.v1.Cluster, the Raft peer service from a
// certified non-member, health, ops), then checks that nothing changed.
// Prints per-service counts and status-code histograms. Exit 1 on any failure,
// 2 on bad flags.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkAfterRun, formatReport, runFuzz } from './run.js';
import { fuzzContext, KNOWN_SEQUENCE, observe, startTarget } from './target.js';

function usage(message: string): never {
  process.stderr.write(
    `fuzz: ${message}\nusage: npm run fuzz -- [--runs N] [--seed N] [--concurrency N] [--keep] [--details] [--only Sequencer,Cluster,Raft,Health,Ops]\n`,
  );
  process.exit(2);
}

function positive(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        runs: { type: 'string' },
        seed: { type: 'string' },
        concurrency: { type: 'string' },
        keep: { type: 'boolean' },
        details: { type: 'boolean' },
        only: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    usage((e as Error).message);
  }
  if (args.help) {
    process.stdout.write(
      'usage: npm run fuzz -- [--runs N] [--seed N] [--concurrency N] [--keep] [--details] [--only Sequencer,Cluster,Raft,Health,Ops]\n',
    );
    return;
  }
  const runs = positive(args.runs, 'runs', 10_000);
  const seed = positive(args.seed, 'seed', 1);
  const concurrency = positive(args.concurrency, 'concurrency', 16);
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-fuzz-'));
  process.stderr.write(`fuzz: starting a 3-node TLS cluster in ${dir}\n`);
  const target = await startTarget(dir);
  let failed = false;
  try {
    const first = await target.admin.next(KNOWN_SEQUENCE);
    const before = await observe(target);
    const ctx = await fuzzContext(target);
    process.stderr.write(
      `fuzz: term ${ctx.term}, last index ${ctx.lastIndex}; sending ${runs} inputs\n`,
    );
    const report = await runFuzz(target, ctx, {
      runs,
      seed,
      concurrency,
      ...(args.only !== undefined ? { services: args.only.split(',') } : {}),
      progress: (n) => process.stderr.write(`\rfuzz: ${n}/${runs}`),
    });
    process.stderr.write('\n');
    const after = await checkAfterRun(target, before, first.first);
    process.stdout.write(`${formatReport(report)}\n`);
    if (args.details) {
      const top = Object.entries(report.details).sort((a, b) => b[1] - a[1]);
      for (const [d, n] of top.slice(0, 120))
        process.stdout.write(`  ${String(n).padStart(6)}  ${d}\n`);
    }
    process.stdout.write(
      `  peer messages refused as implausible (node logs): ${after.refusedPeerMessages}\n`,
    );
    process.stdout.write(
      after.problems.length === 0
        ? `  after the run: all nodes alive, state unchanged, ${KNOWN_SEQUENCE} continued at exactly ${first.first + 1n}, no error in the logs\n`
        : `  after the run:\n${after.problems.map((p) => `    ${p}`).join('\n')}\n`,
    );
    failed = report.failures.length > 0 || report.dead.length > 0 || after.problems.length > 0;
  } finally {
    await target.stop();
    if (args.keep) process.stderr.write(`fuzz: kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`fuzz: ${(e as Error).message}\n`);
  process.exit(1);
});
