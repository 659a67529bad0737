// `raftseq snapshot restore FILE --data DIR --id ID --initial-cluster LIST
// (--advance-by N | --advance-for DURATION)`: src/backup/restore.ts.
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ADVANCE_REQUIRED,
  describeAdvance,
  parseAdvance,
  type Advance,
} from '../backup/advance.js';
import { ConfigError, parseInitialClusterList } from '../node/config.js';
import type { CliIo } from './io.js';
import { UsageError, parseMemberId } from './parse.js';

interface RestoreOpts {
  data: string;
  id: string;
  initialCluster: Map<string, string>;
  advanceBy?: string;
  advanceFor?: string;
  unsafeNoAdvance?: boolean;
}

function initialCluster(value: string): Map<string, string> {
  try {
    return parseInitialClusterList(value);
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

/** The advance the options ask for; a UsageError (exit 2) without one. */
function advanceOf(opts: RestoreOpts): Advance {
  // Test-only (hidden): restore with no advance at all, so that the jepsen
  // scenario can show its checker catching the duplicates that follow.
  if (opts.unsafeNoAdvance === true) return { by: 0n };
  const a = parseAdvance(opts);
  if (!a.ok) throw new UsageError(a.problem);
  return a.value;
}

export function addRestoreCommand(snapshot: Command, io: CliIo): void {
  snapshot
    .command('restore')
    .description('write the data directory of one founding member of a NEW cluster from a snapshot')
    .argument('<file>', 'the snapshot file (raftseq snapshot save)')
    .requiredOption('--data <dir>', 'the data directory to create (must be empty or missing)')
    .requiredOption('--id <id>', "this member's id in the new cluster", parseMemberId)
    .requiredOption(
      '--initial-cluster <list>',
      'id=host:port,... of every founding member of the new cluster, this one included',
      initialCluster,
    )
    .option('--advance-by <n>', 'skip N values in every sequence')
    .option(
      '--advance-for <duration>',
      "skip each sequence's recorded rate times DURATION (e.g. 2h), at least one block",
    )
    .addOption(new Option('--unsafe-no-advance', 'tests only').hideHelp())
    .addHelpText(
      'after',
      `
${ADVANCE_REQUIRED}.
Choose --advance-for to cover the time from the snapshot's "saved at" (see
raftseq snapshot status) to the moment the old cluster stopped serving for
good, with a margin for traffic above the recorded rates.

Run it once per founding member, with the same FILE and options (the new
cluster's id is derived from them), then start each member with plain
\`raftseq serve --id ID --listen ... --data DIR\`. Members of the old cluster
are refused by the new one (another cluster id).

Examples:
  raftseq snapshot restore backup.snap --data /var/lib/raftseq --id n1 \\
      --initial-cluster n1=10.0.0.1:7001,n2=10.0.0.2:7001,n3=10.0.0.3:7001 --advance-for 2h`,
    )
    .action(async (file: string, opts: RestoreOpts) => {
      const advance = advanceOf(opts);
      if (!opts.initialCluster.has(opts.id)) {
        throw new UsageError(
          `--initial-cluster must include this member (--id ${opts.id}); it lists ${[...opts.initialCluster.keys()].join(', ')}`,
        );
      }
      // Loaded here: LevelDB's native module is not needed by other commands.
      const { restoreDataDir } = await import('../backup/restore.js');
      const r = await restoreDataDir({
        file,
        dataDir: opts.data,
        id: opts.id,
        members: opts.initialCluster,
        advance,
      });
      io.stdout(
        `restored ${opts.id} into ${opts.data}: new cluster ${r.clusterId} of ${opts.initialCluster.size} member(s), ` +
          `from cluster ${r.from.clusterId || '(none)'} index ${r.from.index} saved at ${r.from.savedAt}; ` +
          `${r.skipped.sequences} sequence(s) advanced (${describeAdvance(advance)}): ` +
          `${r.skipped.total} values skipped in all, ${r.skipped.min}..${r.skipped.max} per sequence\n`,
      );
    });
}
