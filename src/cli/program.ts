// The raftseq command line: commands, options, help, exit codes.
//
// Exit codes: 0 success; 1 runtime error (unreachable endpoints, server
// errors, a node that fails to start); 2 usage error (unknown option, missing
// or invalid argument). Every error is one line on stderr: `raftseq: ...`.
import { Command, CommanderError } from 'commander';
import { describeBuild } from '../common/build-info.js';
import { ENDPOINTS_ENV } from './client-command.js';
import { addClusterCommands } from './cluster.js';
import { addCompletionCommand } from './completion.js';
import type { CliIo } from './io.js';
import { addNextCommand } from './next.js';
import { UsageError } from './parse.js';
import { addSequenceCommands } from './sequence.js';
import { addServeCommand } from './serve.js';
import { addSnapshotCommands } from './snapshot.js';
import { addCertsCommand } from './certs.js';
import { describeError, oneLine } from './util.js';

export type { CliIo } from './io.js';
export { ENDPOINTS_ENV } from './client-command.js';

/** Builds the command tree. `exitCode` receives what an action wants to exit with. */
export function buildProgram(io: CliIo, exitCode: { value: number }): Command {
  const program = new Command('raftseq')
    .description(
      'raftseq: sequence numbers from a Raft cluster, never handed out twice.\n' +
        'Run a node with `serve`; take values with `next`; administer with `cluster` and `sequence`.',
    )
    .version(
      `raftseq ${describeBuild()}`,
      '-V, --version',
      'print the release version and git commit',
    )
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Environment:
  ${ENDPOINTS_ENV}   default for --endpoints (comma-separated host:port)

Exit codes:
  0 success, 1 runtime error (unreachable cluster, server error), 2 usage error

Examples:
  raftseq serve --id n1 --listen 127.0.0.1:7001 --data ./data/n1 \\
      --initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003
  raftseq next orders --endpoints 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
  raftseq cluster status --endpoints 127.0.0.1:7001
  raftseq <command> --help`,
    );

  addServeCommand(program, io, exitCode);
  addNextCommand(program, io);
  addClusterCommands(program, io);
  addSequenceCommands(program, io);
  addSnapshotCommands(program, io);
  addCompletionCommand(program, io);
  addCertsCommand(program, io);

  configureTree(program, io);
  return program;
}

/** The full name of a command, e.g. "raftseq cluster status". */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Errors on one line (plus a hint); exitOverride everywhere. */
function configureTree(cmd: Command, io: CliIo): void {
  const path = commandPath(cmd);
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.stdout(s),
    writeErr: (s) => io.stderr(s),
    outputError: (s, write) => {
      write(`raftseq: ${oneLine(s.replace(/^error: /, ''))} (see '${path} --help')\n`);
    },
  });
  for (const sub of cmd.commands) configureTree(sub, io);
}

/**
 * Runs the CLI on `argv` (the arguments after the executable and script) and
 * resolves to the exit code. Never throws.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const exitCode = { value: 0 };
  let program: Command;
  try {
    program = buildProgram(io, exitCode);
  } catch (e) {
    io.stderr(`raftseq: ${describeError(e)}\n`);
    return 1;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode.value;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
      return 2;
    }
    if (e instanceof UsageError) {
      io.stderr(`raftseq: ${oneLine(e.message)} (see '${leafPath(program, argv)} --help')\n`);
      return 2;
    }
    io.stderr(`raftseq: ${describeError(e)}\n`);
    if (io.env.RAFTSEQ_DEBUG && e instanceof Error && e.stack) io.stderr(e.stack + '\n');
    return 1;
  }
}

/** The deepest command named by argv, for the --help hint. */
function leafPath(root: Command, argv: readonly string[]): string {
  let cmd = root;
  for (const a of argv) {
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub === undefined) break;
    cmd = sub;
  }
  return commandPath(cmd);
}
