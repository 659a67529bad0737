// The simulator's command line:
//   npm run sim -- [--world core|node] --seeds N [--from S] [--nodes 3|5] [--mutant NAME]
//                  [--steps K] [--jobs J] [--verbose]
//   npm run sim -- [--world core|node] --list-mutants
// The core world (default) runs the Raft core with a toy application; the
// node world runs whole nodes (runtime, allocator, state machine, API).
// Prints every violation with its seed, invariant and trace, then exactly
// "N seeds, V violations"; exits 1 if V > 0. With --mutant, stops at the
// first violation and exits 0 when the mutant was caught (1 when not); its
// default seed budget is the suite's. Seeds per second go to stderr.

import { CORE_MUTANTS } from './core-mutants.js';
import { DEFAULT_STEPS, MUTANT_SEED_BUDGET } from './cluster.js';
import { NODE_MUTANTS } from './node/mutants.js';
import { DEFAULT_CHAOS_S, NODE_MUTANT_SEED_BUDGET } from './node/world.js';
import { defaultJobs, runSeeds } from './pool.js';
import { formatViolation } from './report.js';

interface Args {
  world: 'core' | 'node';
  /** Default: 100, or MUTANT_SEED_BUDGET with --mutant (a run stops at its first catch). */
  seeds: number | undefined;
  from: number;
  nodes: 3 | 5;
  mutant: string | undefined;
  steps: number | undefined;
  verbose: boolean;
  listMutants: boolean;
  jobs: number;
}

function usage(msg: string): never {
  process.stderr.write(
    `error: ${msg}\nusage: npm run sim -- [--world core|node] --seeds N [--from S] [--nodes 3|5] [--mutant NAME] [--steps K] [--jobs J] [--verbose]\n       npm run sim -- [--world core|node] --list-mutants\n`,
  );
  process.exit(2);
}

function parse(argv: string[]): Args {
  const a: Args = {
    world: 'core',
    seeds: undefined,
    from: 1,
    nodes: 3,
    mutant: undefined,
    steps: undefined,
    verbose: false,
    listMutants: false,
    jobs: defaultJobs(),
  };
  const int = (v: string | undefined, name: string): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 0)
      usage(`${name} needs a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=')
      ? (arg.split('=', 2) as [string, string])
      : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--seeds':
        a.seeds = int(value(), '--seeds');
        break;
      case '--from':
        a.from = int(value(), '--from');
        break;
      case '--nodes': {
        const n = int(value(), '--nodes');
        if (n !== 3 && n !== 5) usage('--nodes must be 3 or 5');
        a.nodes = n;
        break;
      }
      case '--world': {
        const w = value();
        if (w !== 'core' && w !== 'node') usage('--world must be core or node');
        a.world = w;
        break;
      }
      case '--mutant':
        a.mutant = value();
        break;
      case '--steps':
        a.steps = int(value(), '--steps');
        break;
      case '--jobs':
        a.jobs = Math.max(1, int(value(), '--jobs'));
        break;
      case '--verbose':
        a.verbose = true;
        break;
      case '--list-mutants':
        a.listMutants = true;
        break;
      case '--':
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  return a;
}

function mutantNames(world: Args['world']): readonly string[] {
  return world === 'core' ? CORE_MUTANTS : NODE_MUTANTS.map((m) => m.name);
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  if (args.listMutants) {
    if (args.world === 'core') for (const m of CORE_MUTANTS) process.stdout.write(`${m}\n`);
    else for (const m of NODE_MUTANTS) process.stdout.write(`${m.name}  ${m.what}\n`);
    return;
  }
  if (args.mutant !== undefined && !mutantNames(args.world).includes(args.mutant)) {
    usage(
      `unknown ${args.world}-world mutant ${args.mutant} (see --world ${args.world} --list-mutants)`,
    );
  }
  const budget = args.world === 'core' ? MUTANT_SEED_BUDGET : NODE_MUTANT_SEED_BUDGET;
  const defaultSteps = args.world === 'core' ? DEFAULT_STEPS : DEFAULT_CHAOS_S;
  const t0 = performance.now();
  let violations = 0;
  let bootstrapStuck = 0;
  const ran = await runSeeds(
    {
      world: args.world,
      nodes: args.nodes,
      ...(args.steps !== undefined ? { steps: args.steps } : {}),
      ...(args.mutant ? { mutant: args.mutant } : {}),
    },
    args.from,
    args.seeds ?? (args.mutant ? budget : 100),
    args.jobs,
    (r) => {
      if (r.stats.bootstrapStuck) bootstrapStuck++;
      if (r.violation === null) return true;
      violations++;
      process.stdout.write(`${formatViolation(r.seed, r.violation)}\n`);
      process.stdout.write(
        `  reproduce: npm run sim -- --world ${args.world} --seeds 1 --from ${r.seed} --nodes ${args.nodes}${args.mutant ? ` --mutant ${args.mutant}` : ''}${args.steps !== undefined && args.steps !== defaultSteps ? ` --steps ${args.steps}` : ''} --verbose\n`,
      );
      // With a mutant, the first violation is the point: it was caught.
      return args.mutant === undefined;
    },
    args.verbose ? (seed, line) => process.stdout.write(`[${seed}] ${line}\n`) : undefined,
  );
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(
    `${(ran / secs).toFixed(1)} seeds/s (${ran} seeds in ${secs.toFixed(1)} s, ${args.world} world, ${args.nodes} nodes, ${args.verbose ? 1 : args.jobs} jobs)\n`,
  );
  if (bootstrapStuck > 0) {
    process.stderr.write(
      `${bootstrapStuck} seeds ended unavailable by design: fewer than a majority of voters could vouch for their logs (at the bootstrap point, or not yet verified)\n`,
    );
  }
  process.stdout.write(`${ran} seeds, ${violations} violations\n`);
  if (args.mutant === undefined) {
    process.exitCode = violations > 0 ? 1 : 0;
    return;
  }
  // A mutant run passes when the mutant is caught.
  process.stdout.write(
    violations > 0
      ? `mutant ${args.mutant} caught at seed ${args.from + ran - 1}\n`
      : `mutant ${args.mutant} NOT caught in ${ran} seeds\n`,
  );
  process.exitCode = violations > 0 ? 0 : 1;
}

await main();
