// Runs seeds on worker threads (one simulation per seed, fully independent),
// reporting results strictly in seed order so the output does not depend on
// the number of workers. jobs <= 1 runs in-process. Two worlds: `core` (the
// Raft core with a toy application, cluster.ts) and `node` (whole nodes,
// node/world.ts).

import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import type { CoreMutant } from './core-mutants.js';
import { runSeed } from './cluster.js';
import { nodeMutant, type NodeMutant } from './node/mutants.js';
import { runNodeSeed } from './node/world.js';

export interface SeedReport {
  seed: number;
  violation: { invariant: string; detail: string; trace: string[] } | null;
  /** Counters of the run; `bootstrapStuck`: ended unavailable by the documented bootstrap rule. */
  stats: { bootstrapStuck: boolean } & Record<string, number | boolean>;
}

export interface Base {
  world: 'core' | 'node';
  nodes: 3 | 5;
  /** Core world: ticks of chaos; node world: simulated seconds of chaos. */
  steps?: number;
  mutant?: string;
}

function nodeMutantOptions(name: string): {
  mutant: string;
  classes?: NodeMutant['classes'];
  checkDurable?: NodeMutant['checkDurable'];
  mustSync?: NodeMutant['mustSync'];
} {
  const m = nodeMutant(name);
  return {
    mutant: name,
    ...(m.classes !== undefined ? { classes: m.classes } : {}),
    ...(m.checkDurable !== undefined ? { checkDurable: m.checkDurable } : {}),
    ...(m.mustSync !== undefined ? { mustSync: m.mustSync } : {}),
  };
}

async function runOne(
  base: Base,
  seed: number,
  verbose?: (l: string) => void,
): Promise<SeedReport> {
  const common = { seed, nodes: base.nodes, ...(verbose ? { verbose } : {}) };
  const r =
    base.world === 'core'
      ? runSeed({
          ...common,
          ...(base.steps !== undefined ? { steps: base.steps } : {}),
          ...(base.mutant !== undefined ? { mutant: base.mutant as CoreMutant } : {}),
        })
      : await runNodeSeed({
          ...common,
          ...(base.steps !== undefined ? { chaosSeconds: base.steps } : {}),
          ...(base.mutant !== undefined ? nodeMutantOptions(base.mutant) : {}),
        });
  const v = r.violation;
  return {
    seed,
    violation: v ? { invariant: v.invariant, detail: v.detail, trace: v.trace } : null,
    stats: { ...r.stats },
  };
}

export function defaultJobs(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * Runs seeds from..from+count-1. `onReport` sees them in order; returning
 * false stops the run (later seeds are not reported). Resolves to the number
 * of seeds reported.
 */
export async function runSeeds(
  base: Base,
  from: number,
  count: number,
  jobs: number,
  onReport: (r: SeedReport) => boolean,
  verbose?: (seed: number, line: string) => void,
): Promise<number> {
  if (jobs <= 1 || count <= 1 || verbose) {
    let n = 0;
    for (let s = from; s < from + count; s++) {
      n++;
      if (!onReport(await runOne(base, s, verbose ? (l) => verbose(s, l) : undefined))) break;
    }
    return n;
  }
  const src = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const workers = Array.from(
    { length: Math.min(jobs, count) },
    () => new Worker(src, { eval: true, workerData: base }),
  );
  return new Promise((resolve, reject) => {
    const done = new Map<number, SeedReport>();
    let nextToAssign = from;
    let nextToReport = from;
    let reported = 0;
    let stopped = false;
    const end = from + count;
    const finish = (): void => {
      for (const w of workers) void w.terminate();
      resolve(reported);
    };
    const assign = (w: Worker): void => {
      if (stopped || nextToAssign >= end) return;
      w.postMessage(nextToAssign++);
    };
    for (const w of workers) {
      w.on('message', (r: SeedReport) => {
        if (stopped) return;
        done.set(r.seed, r);
        while (done.has(nextToReport)) {
          const rep = done.get(nextToReport) as SeedReport;
          done.delete(nextToReport);
          nextToReport++;
          reported++;
          if (!onReport(rep)) {
            stopped = true;
            finish();
            return;
          }
        }
        if (nextToReport >= end) {
          stopped = true;
          finish();
          return;
        }
        assign(w);
      });
      w.on('error', (e) => {
        stopped = true;
        for (const x of workers) void x.terminate();
        reject(e);
      });
      assign(w);
    }
  });
}

if (!isMainThread && parentPort !== null) {
  const { workerData } = await import('node:worker_threads');
  const port = parentPort;
  port.on('message', (seed: number) => {
    void runOne(workerData as Base, seed).then((r) => port.postMessage(r));
  });
}
