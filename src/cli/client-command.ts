// What every command that talks to a cluster shares: --endpoints (or
// RAFTSEQ_ENDPOINTS) and --timeout, checked before the action runs, and a
// SequenceClient built from them and closed after it.
import { Option, type Command } from 'commander';
import { CLIENT_DEFAULTS, SequenceClient, parseEndpoints } from '../client/index.js';
import type { SequenceClientOptions } from '../client/index.js';
import type { CliIo } from './io.js';
import { UsageError, parseMs } from './parse.js';

export const ENDPOINTS_ENV = 'RAFTSEQ_ENDPOINTS';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The options every client command has, as commander hands them to the action. */
export interface ClientOpts {
  endpoints?: string;
  timeout: number;
  json?: boolean;
}

/** A subcommand with the options every client command has. */
export function clientCommand(
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

/** Runs `fn` with a client built from the command's options, and closes the client after. */
export async function withClient(
  io: CliIo,
  opts: ClientOpts,
  fn: (client: SequenceClient) => Promise<void>,
): Promise<void> {
  const options: SequenceClientOptions = {
    endpoints: opts.endpoints ?? '',
    deadlineMs: opts.timeout,
    attemptTimeoutMs: Math.min(opts.timeout, CLIENT_DEFAULTS.attemptTimeoutMs),
  };
  const client = io.createClient ? io.createClient(options) : new SequenceClient(options);
  try {
    await fn(client);
  } finally {
    client.close();
  }
}
