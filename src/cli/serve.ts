// `raftseq serve`: parse and validate the node's flags, start the node, stop
// it gracefully on SIGTERM / SIGINT (forced exit 1 after 5 s).
import { Option } from 'commander';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULTS } from '../node/options.js';
import type { NodeOptions } from '../node/options.js';
import type { RunningNode } from '../node/index.js';
import type { CliIo } from './program.js';
import {
  UsageError,
  integerParser,
  parseFraction,
  parseHostPort,
  parseInitialCluster,
  parseListen,
  parseMemberId,
  parseMs,
} from './parse.js';
import { describeError } from './util.js';

/** A graceful stop that takes longer than this ends the process with exit 1. */
export const STOP_GRACE_MS = 5_000;
/** The election timeout must be at least this many heartbeat intervals. */
export const MIN_ELECTION_HEARTBEAT_RATIO = 5;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The parsed flags of `serve` (commander's camelCase names). */
export interface ServeFlags {
  id: string;
  listen: string;
  data: string;
  initialCluster?: Map<string, string>;
  advertise?: string;
  electionTimeout: number;
  heartbeatInterval: number;
  maxCount: number;
  leaseDrift: number;
  snapshotEntries: number;
  logLevel: NodeOptions['logLevel'];
  enableFaultInjection?: boolean;
}

/** Cross-checks the flags and builds the node's options. Throws UsageError. */
export function buildNodeOptions(flags: ServeFlags): NodeOptions {
  if (flags.data.trim() === '') throw new UsageError('--data must name a directory');
  if (flags.electionTimeout < MIN_ELECTION_HEARTBEAT_RATIO * flags.heartbeatInterval) {
    throw new UsageError(
      `--election-timeout (${flags.electionTimeout} ms) must be at least ` +
        `${MIN_ELECTION_HEARTBEAT_RATIO} x --heartbeat-interval (${flags.heartbeatInterval} ms)`,
    );
  }
  const initial = flags.initialCluster ?? null;
  if (initial !== null && !initial.has(flags.id)) {
    throw new UsageError(
      `--initial-cluster must include this node (--id ${flags.id}); it lists ${[...initial.keys()].join(', ')}`,
    );
  }
  return {
    id: flags.id,
    listen: flags.listen,
    advertise: flags.advertise ?? flags.listen,
    dataDir: resolve(flags.data),
    initialCluster: initial,
    electionTimeoutMs: flags.electionTimeout,
    heartbeatIntervalMs: flags.heartbeatInterval,
    maxCount: flags.maxCount,
    leaseDriftFraction: flags.leaseDrift,
    snapshotEntries: flags.snapshotEntries,
    logLevel: flags.logLevel,
    enableFaultInjection: flags.enableFaultInjection === true,
  };
}

export function addServeCommand(program: Command, io: CliIo, exitCode: { value: number }): void {
  program
    .command('serve')
    .summary('run a raftseq node')
    .description(
      'Run a raftseq node (client API, admin API and Raft on one gRPC port).\n' +
        'Ready when grpc.health.v1.Health/Check answers SERVING. SIGTERM / SIGINT stop it\n' +
        'gracefully (leadership handed over, exact next values recorded) within 5 s.',
    )
    .requiredOption(
      '--id <id>',
      "this member's id, e.g. n1 (its identity; never the address)",
      parseMemberId,
    )
    .requiredOption(
      '--listen <host:port>',
      'address the gRPC server binds (port 0: any free port; then give --advertise)',
      parseListen,
    )
    .requiredOption('--data <dir>', 'data directory (created if missing; one node per directory)')
    .option(
      '--initial-cluster <list>',
      'id=host:port,... of every founding member, this one included: the address this ' +
        'node dials to reach each. Used only to bootstrap an empty data directory; omit it ' +
        'to restart, or to start a node that will be added with `cluster join`',
      parseInitialCluster,
    )
    .option(
      '--advertise <host:port>',
      'address clients are redirected to (default: --listen)',
      parseHostPort,
    )
    .addOption(
      new Option(
        '--election-timeout <ms>',
        `election timeout; at least ${MIN_ELECTION_HEARTBEAT_RATIO} x the heartbeat interval`,
      )
        .argParser(parseMs)
        .default(DEFAULTS.electionTimeoutMs),
    )
    .addOption(
      new Option('--heartbeat-interval <ms>', 'leader heartbeat interval')
        .argParser(parseMs)
        .default(DEFAULTS.heartbeatIntervalMs),
    )
    .addOption(
      new Option('--max-count <n>', 'largest count one Next may ask for')
        .argParser(integerParser('max count', 1, 0xffff_ffff))
        .default(DEFAULTS.maxCount),
    )
    .addOption(
      new Option(
        '--lease-drift <fraction>',
        'clock-drift bound of the leader lease, as a fraction of the election timeout',
      )
        .argParser(parseFraction)
        .default(DEFAULTS.leaseDriftFraction),
    )
    .addOption(
      new Option('--snapshot-entries <n>', 'snapshot and compact the log after this many entries')
        .argParser(integerParser('snapshot entries', 1, 1_000_000_000))
        .default(DEFAULTS.snapshotEntries),
    )
    .addOption(
      new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default(DEFAULTS.logLevel),
    )
    .addOption(
      new Option(
        '--enable-fault-injection',
        'serve the FaultInjection service (tests only)',
      ).hideHelp(),
    )
    .addHelpText(
      'after',
      `
Examples:
  # bootstrap a 3-node cluster (run each on its machine or port)
  raftseq serve --id n1 --listen 127.0.0.1:7001 --data ./data/n1 \\
      --initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003
  # restart: the data directory knows the cluster
  raftseq serve --id n1 --listen 127.0.0.1:7001 --data ./data/n1
  # a new member, then: raftseq cluster join --id n4 --addr 127.0.0.1:7004 ...
  raftseq serve --id n4 --listen 0.0.0.0:7004 --advertise 10.0.0.4:7004 --data ./data/n4`,
    )
    .action(async (flags: ServeFlags) => {
      const options = buildNodeOptions(flags);
      exitCode.value = await serve(options, io);
    });
}

type Outcome = { kind: 'signal'; signal: string } | { kind: 'stopped'; error: Error | null };

/** Runs one node until a stop signal or a fatal error; resolves to the exit code. */
export async function serve(options: NodeOptions, io: CliIo): Promise<number> {
  const exit = io.exit ?? ((code: number) => process.exit(code));
  const subscribe = io.onStopSignal ?? defaultStopSignals;
  const graceMs = io.stopGraceMs ?? STOP_GRACE_MS;

  let signalled: string | null = null;
  let onSignal: ((signal: string) => void) | null = null;
  let forceTimer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = subscribe((signal) => {
    if (signalled !== null) {
      io.stderr(`raftseq: ${signal} again: exiting without waiting for the graceful stop\n`);
      exit(1);
      return;
    }
    signalled = signal;
    forceTimer = setTimeout(() => {
      io.stderr(`raftseq: graceful stop took longer than ${graceMs} ms; exiting\n`);
      exit(1);
    }, graceMs);
    onSignal?.(signal);
  });

  try {
    let node: RunningNode;
    try {
      const start = io.startNode ?? (await import('../node/index.js')).startNode;
      node = await start(options);
    } catch (e) {
      io.stderr(`raftseq: ${describeError(e)}\n`);
      return 1;
    }

    const outcome = await new Promise<Outcome>((resolveOutcome) => {
      if (signalled !== null) {
        resolveOutcome({ kind: 'signal', signal: signalled });
        return;
      }
      onSignal = (signal) => resolveOutcome({ kind: 'signal', signal });
      node.stopped.then(
        (error) => resolveOutcome({ kind: 'stopped', error }),
        (error: unknown) =>
          resolveOutcome({
            kind: 'stopped',
            error: error instanceof Error ? error : new Error(String(error)),
          }),
      );
    });

    if (outcome.kind === 'stopped') {
      if (outcome.error === null) return 0;
      io.stderr(`raftseq: ${describeError(outcome.error)}\n`);
      return 1;
    }
    try {
      await node.shutdown();
      return 0;
    } catch (e) {
      io.stderr(`raftseq: graceful stop failed: ${describeError(e)}\n`);
      return 1;
    }
  } finally {
    if (forceTimer !== null) clearTimeout(forceTimer);
    unsubscribe();
  }
}

function defaultStopSignals(handler: (signal: string) => void): () => void {
  const onTerm = (): void => handler('SIGTERM');
  const onInt = (): void => handler('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return () => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  };
}
