// The raftseq command line: commands, options, help, exit codes.
//
// Exit codes: 0 success; 1 runtime error (unreachable endpoints, server
// errors, a node that fails to start); 2 usage error (unknown option, missing
// or invalid argument). Every error is one line on stderr: `raftseq: ...`.
import { Command, CommanderError, Option } from 'commander';
import type { NodeOptions, RunningNode } from '../node/index.js';
import { SequenceClient, parseEndpoints } from '../client/index.js';
import type { SequenceClientOptions } from '../client/index.js';
import { packageVersion } from '../client/paths.js';
import { waitForCatchUp } from './join.js';
import { probeMembers } from './probe.js';
import {
  formatRange,
  humanMs,
  memberJson,
  membersText,
  sequenceJson,
  sequenceText,
  sequencesText,
  statusJson,
  statusText,
} from './format.js';
import {
  UsageError,
  parseCount,
  parseHostPort,
  parseMemberId,
  parseMs,
  parseSequenceName,
  parseSequenceValue,
} from './parse.js';
import { addServeCommand } from './serve.js';
import { addCertsCommand } from './certs.js';
import { describeError, oneLine } from './util.js';

/** Where the CLI reads and writes; replaced in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Starts a node (`serve`); default: src/node's startNode, loaded on demand. */
  startNode?: (options: NodeOptions) => Promise<RunningNode>;
  /** Subscribes to SIGTERM/SIGINT; returns an unsubscribe function. */
  onStopSignal?: (handler: (signal: string) => void) => () => void;
  /** Ends the process at once (forced exit of `serve`). */
  exit?: (code: number) => void;
  /** How long `serve` waits for a graceful stop before exit(1); default 5000 ms. */
  stopGraceMs?: number;
  /** Builds the client of the admin and sequence commands. */
  createClient?: (options: SequenceClientOptions) => SequenceClient;
  /** Where `serve` writes the log line of a refused start; default stdout (pino). */
  logDestination?: { write(msg: string): void };
  /**
   * A terminal to draw progress bars on (`cluster join`), i.e. stderr when it
   * is a TTY. Without one, progress is printed as plain lines on stderr.
   */
  progressStream?: NodeJS.WriteStream;
  /** How often `cluster join` polls the leader while the member catches up; default 250 ms. */
  pollIntervalMs?: number;
}

export const ENDPOINTS_ENV = 'RAFTSEQ_ENDPOINTS';
const DEFAULT_TIMEOUT_MS = 10_000;
/** `cluster join` waits for the member to catch up: a longer default. */
const JOIN_TIMEOUT_MS = 120_000;
/** How long `cluster status` waits for each member's own answer. */
const PROBE_TIMEOUT_MS = 1_500;

interface ClientOpts {
  endpoints?: string;
  timeout: number;
  json?: boolean;
}

/** Builds the command tree. `exitCode` receives what an action wants to exit with. */
export function buildProgram(io: CliIo, exitCode: { value: number }): Command {
  const program = new Command('raftseq')
    .description(
      'raftseq: sequence numbers from a Raft cluster, never handed out twice.\n' +
        'Run a node with `serve`; take values with `next`; administer with `cluster` and `sequence`.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
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
  addCertsCommand(program, io);

  // ------------------------------------------------------------------ next
  clientCommand(program, 'next', io)
    .description('take the next value(s) of a sequence (the sequence starts at 1 on first use)')
    .argument(
      '<sequence>',
      'sequence name: 1-200 bytes of A-Z a-z 0-9 . _ : / -',
      parseSequenceName,
    )
    .addOption(
      new Option('-n, --count <n>', 'how many consecutive values to take').argParser(parseCount),
    )
    .option(
      '--json',
      'print {"first":"<value>","count":<n>} (first as a string: it may exceed 2^53)',
    )
    .addHelpText(
      'after',
      `
Output:
  count 1: the value, e.g. 42
  count N: the range first..last, inclusive, e.g. 42..51
  --json:  {"first":"42","count":10}   (the values first .. first+count-1)

Examples:
  raftseq next orders --endpoints 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
  raftseq next orders --count 100 --endpoints 127.0.0.1:7001
  RAFTSEQ_ENDPOINTS=127.0.0.1:7001 raftseq next invoices/2024 --json`,
    )
    .action(async (sequence: string, opts: ClientOpts & { count?: number }) => {
      await withClient(io, opts, async (client) => {
        const r = await client.next(sequence, opts.count ?? 1);
        io.stdout(
          opts.json
            ? JSON.stringify({ first: r.first.toString(), count: r.count }) + '\n'
            : formatRange(r.first, r.count) + '\n',
        );
      });
    });

  // --------------------------------------------------------------- cluster
  const cluster = program
    .command('cluster')
    .description('cluster membership and leadership')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster status --endpoints 127.0.0.1:7001
  raftseq cluster join --id n4 --addr 127.0.0.1:7004 --endpoints 127.0.0.1:7001
  raftseq cluster leave --id n3 --endpoints 127.0.0.1:7001
  raftseq cluster transfer-leader --to n2 --endpoints 127.0.0.1:7001`,
    );

  clientCommand(cluster, 'status', io)
    .description("show the cluster's members, leader and replication progress")
    .option('--json', 'print one JSON object: {"leader":"<id>"|null,"term":N,"members":[...],...}')
    .addHelpText(
      'after',
      `
The leader is asked when it is reachable (any node tells where it is);
otherwise the first node that answers gives its own view.

Every member is asked for its own view too (at its advertised address), so
one row shows: ID (* = the node that answered), ADDRESS (what the members
dial), ROLE, and the member's own TERM, COMMIT and APPLIED index; LAG (the
leader's commit index minus what the leader knows the member holds) and
LAST CONTACT (since the member last answered the leader) are the leader's
view; LEASE is the leader's lease left; SERVED and SKIPPED count the values
the member handed out and skipped while leader (since it started).
A member that does not answer shows "-" and is named below the table.

Examples:
  raftseq cluster status --endpoints 127.0.0.1:7001,127.0.0.1:7002
  raftseq cluster status --json --endpoints 127.0.0.1:7001 | jq -r .leader`,
    )
    .action(async (opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const s = await client.clusterStatus();
        const probes = await probeMembers(s, Math.min(opts.timeout, PROBE_TIMEOUT_MS));
        io.stdout(opts.json ? JSON.stringify(statusJson(s, probes)) + '\n' : statusText(s, probes));
      });
    });

  clientCommand(cluster, 'join', io, JOIN_TIMEOUT_MS)
    .summary('add a member and wait until it has caught up and votes')
    .description(
      'Add a member (as a learner; the leader promotes it to voter once caught up), then\n' +
        'wait for that, showing its progress (entries it holds / commit index) on stderr.\n' +
        'Start it first with `raftseq serve --id <id> --listen <addr> --data <empty dir>`\n' +
        '(no --initial-cluster). --timeout covers the wait (default 2 min): if the member\n' +
        'has not caught up by then, exit 1 (it stays a learner).',
    )
    .requiredOption('--id <id>', 'id of the new member', parseMemberId)
    .requiredOption('--addr <host:port>', 'address the members dial to reach it', parseHostPort)
    .option(
      '--advertise <host:port>',
      'address clients are redirected to (default: --addr)',
      parseHostPort,
    )
    .option('--no-wait', 'return once the member is added, without waiting for it to catch up')
    .option('--json', 'print {"members":[...],"caughtUpMs":N}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq serve --id n4 --listen 127.0.0.1:7004 --data ./data/n4 &
  raftseq cluster join --id n4 --addr 127.0.0.1:7004 --endpoints 127.0.0.1:7001
  raftseq cluster join --id n5 --addr 10.0.0.5:7001 --timeout 600000 -e 10.0.0.1:7001`,
    )
    .action(
      async (
        opts: ClientOpts & { id: string; addr: string; advertise?: string; wait: boolean },
      ) => {
        const deadline = performance.now() + opts.timeout;
        await withClient(io, opts, async (client) => {
          let members = await client.addMember(
            {
              id: opts.id,
              address: opts.addr,
              ...(opts.advertise !== undefined ? { advertise: opts.advertise } : {}),
            },
            { deadlineMs: Math.min(opts.timeout, DEFAULT_TIMEOUT_MS) },
          );
          if (!opts.wait) {
            io.stdout(
              opts.json
                ? JSON.stringify({ members: members.map(memberJson) }) + '\n'
                : `added ${opts.id} (${opts.addr}); it becomes a voter once it has caught up\n\n` +
                    membersText(members),
            );
            return;
          }
          if (!opts.json) io.stderr(`added ${opts.id} (${opts.addr}) as a learner; catching up\n`);
          const done = await waitForCatchUp(
            client,
            io,
            { id: opts.id, address: opts.addr },
            deadline,
          );
          members = done.status.members;
          io.stdout(
            opts.json
              ? JSON.stringify({
                  members: members.map(memberJson),
                  caughtUpMs: Math.round(done.ms),
                }) + '\n'
              : `${opts.id} caught up in ${humanMs(done.ms)} and is a voter\n\n` +
                  membersText(members),
          );
        });
      },
    );

  clientCommand(cluster, 'leave', io)
    .description('remove a member (voter or learner, the leader included)')
    .requiredOption('--id <id>', 'id of the member to remove', parseMemberId)
    .option('--force', 'allow leaving fewer voters than can survive one failure')
    .option('--json', 'print {"members":[...]}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster leave --id n3 --endpoints 127.0.0.1:7001
  raftseq cluster leave --id n2 --force --endpoints 127.0.0.1:7001   # 2 -> 1 voter`,
    )
    .action(async (opts: ClientOpts & { id: string; force?: boolean }) => {
      await withClient(io, opts, async (client) => {
        const members = await client.removeMember(opts.id, { force: opts.force === true });
        if (opts.json) {
          io.stdout(JSON.stringify({ members: members.map(memberJson) }) + '\n');
        } else {
          io.stdout(`removed ${opts.id}\n\n` + membersText(members));
        }
      });
    });

  clientCommand(cluster, 'transfer-leader', io)
    .description('hand leadership to another voter, with no gap in any sequence')
    .option('--to <id>', 'the new leader (default: the most up-to-date voter)', parseMemberId)
    .option('--json', 'print {"leader":"<id>","term":N}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster transfer-leader --to n2 --endpoints 127.0.0.1:7001
  raftseq cluster transfer-leader --endpoints 127.0.0.1:7001   # to the best voter`,
    )
    .action(async (opts: ClientOpts & { to?: string }) => {
      await withClient(io, opts, async (client) => {
        const r = await client.transferLeadership(opts.to);
        io.stdout(
          opts.json
            ? JSON.stringify({ leader: r.leader, term: Number(r.term) }) + '\n'
            : `leader is now ${r.leader} (term ${r.term})\n`,
        );
      });
    });

  // -------------------------------------------------------------- sequence
  const sequence = program
    .command('sequence')
    .description('inspect and advance sequences')
    .addHelpText(
      'after',
      `
Examples:
  raftseq sequence list --endpoints 127.0.0.1:7001
  raftseq sequence show orders --endpoints 127.0.0.1:7001
  raftseq sequence advance orders --to 1000000 --endpoints 127.0.0.1:7001`,
    );

  clientCommand(sequence, 'list', io)
    .description('list every sequence with its next value and counters')
    .option('--json', 'print {"sequences":[{"name","next","reserved","served","skipped","block"}]}')
    .addHelpText(
      'after',
      `
Values are printed exactly; in JSON they are strings (they may exceed 2^53).

Examples:
  raftseq sequence list --endpoints 127.0.0.1:7001
  raftseq sequence list --json --endpoints 127.0.0.1:7001 | jq -r '.sequences[].name'`,
    )
    .action(async (opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const list = await client.listAllSequences();
        if (opts.json) {
          io.stdout(JSON.stringify({ sequences: list.map(sequenceJson) }) + '\n');
        } else {
          io.stdout(list.length === 0 ? 'no sequences yet\n' : sequencesText(list));
        }
      });
    });

  clientCommand(sequence, 'show', io)
    .description('show one sequence: next value, reserved, served, skipped, block size')
    .argument('<name>', 'sequence name', parseSequenceName)
    .option(
      '--json',
      'print {"name","next","reserved","served","skipped","block"} (values as strings)',
    )
    .addHelpText(
      'after',
      `
Examples:
  raftseq sequence show orders --endpoints 127.0.0.1:7001
  raftseq sequence show orders --json --endpoints 127.0.0.1:7001 | jq -r .next`,
    )
    .action(async (name: string, opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const s = await client.getSequence(name);
        io.stdout(opts.json ? JSON.stringify(sequenceJson(s)) + '\n' : sequenceText(s));
      });
    });

  clientCommand(sequence, 'advance', io)
    .description('move a sequence forward (never backward) so that its next value is >= --to')
    .argument('<name>', 'sequence name', parseSequenceName)
    .requiredOption(
      '--to <value>',
      'the lowest next value, 1 .. 9223372036854775807',
      parseSequenceValue,
    )
    .option('--json', 'print the sequence afterwards as JSON (values as strings)')
    .addHelpText(
      'after',
      `
A sequence never moves backward: the server refuses a value below its
current next value (FAILED_PRECONDITION). Useful after importing data that
already used numbers, e.g. from another system.

Examples:
  raftseq sequence advance orders --to 1000000 --endpoints 127.0.0.1:7001`,
    )
    .action(async (name: string, opts: ClientOpts & { to: bigint }) => {
      await withClient(io, opts, async (client) => {
        const s = await client.advanceSequence(name, opts.to);
        io.stdout(opts.json ? JSON.stringify(sequenceJson(s)) + '\n' : sequenceText(s));
      });
    });

  configureTree(program, io);
  return program;
}

/** A subcommand with the options every client command has. */
function clientCommand(
  parent: Command,
  name: string,
  io: CliIo,
  defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
): Command {
  return parent
    .command(name)
    .addOption(
      new Option(
        '-e, --endpoints <list>',
        `comma-separated host:port of cluster members; any will do (default: $${ENDPOINTS_ENV})`,
      ),
    )
    .addOption(
      new Option('-t, --timeout <ms>', 'overall deadline, retries included')
        .argParser(parseMs)
        .default(defaultTimeoutMs),
    )
    .hook('preAction', (_this, action) => {
      const opts = action.opts<ClientOpts>();
      const raw = opts.endpoints ?? io.env[ENDPOINTS_ENV];
      if (raw === undefined || raw.trim() === '') {
        throw new UsageError(`missing --endpoints (or ${ENDPOINTS_ENV})`);
      }
      try {
        action.setOptionValue('endpoints', parseEndpoints(raw).join(','));
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
    });
}

async function withClient(
  io: CliIo,
  opts: ClientOpts,
  fn: (client: SequenceClient) => Promise<void>,
): Promise<void> {
  const options: SequenceClientOptions = {
    endpoints: opts.endpoints ?? '',
    deadlineMs: opts.timeout,
    attemptTimeoutMs: Math.min(opts.timeout, 3_000),
  };
  const client = io.createClient ? io.createClient(options) : new SequenceClient(options);
  try {
    await fn(client);
  } finally {
    client.close();
  }
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
