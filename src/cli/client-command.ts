// What every command that talks to a cluster shares: --endpoints (or
// RAFTSEQ_ENDPOINTS), --timeout and the TLS options (--ca, --cert, --key,
// --token-file, or RAFTSEQ_CA, ...), checked before the action runs, and a
// SequenceClient built from them and closed after it. A TLS mismatch (a
// plaintext client at a TLS node, or the reverse) is one line at once, not a
// 10 s retry loop.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CLIENT_DEFAULTS, SequenceClient, parseEndpoints } from '../client/index.js';
import type { ClientTls, SequenceClientOptions } from '../client/index.js';
import { fileProblem } from '../security/file-problem.js';
import { describeConnectProblem, speaksTls } from '../security/mismatch.js';
import { TlsUsageError, clientTlsFiles, type ClientTlsFiles } from '../security/tls.js';
import { readClientToken } from '../security/tokens.js';
import type { CliIo } from './io.js';
import { UsageError, parseMs } from './parse.js';

export const ENDPOINTS_ENV = 'RAFTSEQ_ENDPOINTS';
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The options every client command has, as commander hands them to the action. */
export interface ClientOpts {
  endpoints?: string;
  timeout: number;
  json?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  tokenFile?: string;
}

/** The TLS options of client commands, each with its environment variable. */
const TLS_OPTIONS = [
  ['ca', '--ca <file>', 'RAFTSEQ_CA', 'CA that signed the nodes (PEM): turns TLS on'],
  ['cert', '--cert <file>', 'RAFTSEQ_CERT', 'client certificate for mutual TLS (PEM)'],
  ['key', '--key <file>', 'RAFTSEQ_KEY', 'private key of --cert (PEM)'],
  [
    'tokenFile',
    '--token-file <file>',
    'RAFTSEQ_TOKEN_FILE',
    'file holding an admin bearer token (TLS only)',
  ],
] as const;

/** A subcommand with the options every client command has. */
export function clientCommand(
  parent: Command,
  name: string,
  io: CliIo,
  defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
): Command {
  const cmd = parent
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
    );
  for (const [, flags, env, help] of TLS_OPTIONS) {
    cmd.addOption(new Option(flags, `${help} (env: ${env})`));
  }
  return cmd.hook('preAction', (_this, action) => {
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
    for (const [name, , env] of TLS_OPTIONS) {
      const fromEnv = io.env[env];
      if (opts[name] === undefined && fromEnv !== undefined && fromEnv !== '') {
        action.setOptionValue(name, fromEnv);
      }
    }
    try {
      clientTlsFiles(action.opts<ClientOpts>());
    } catch (e) {
      if (e instanceof TlsUsageError) throw new UsageError(e.message);
      throw e;
    }
  });
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${flag} ${path}: ${fileProblem(e)}`);
  }
}

function clientTls(files: ClientTlsFiles | null): ClientTls | undefined {
  if (files === null) return undefined;
  const ca = readPem(files.ca, '--ca');
  if (files.cert === undefined || files.key === undefined) return { ca };
  return { ca, cert: readPem(files.cert, '--cert'), key: readPem(files.key, '--key') };
}

/**
 * Before a command talks to the cluster: does the first endpoint speak TLS
 * when the client does not, or the reverse? Then say so in one line now,
 * rather than retrying until the deadline. (Unreachable: nothing to say.)
 */
async function checkTlsMatch(endpoint: string, clientTls: boolean): Promise<void> {
  const serverTls = await speaksTls(endpoint, 1_000);
  if (serverTls === true && !clientTls)
    throw new Error(describeConnectProblem(endpoint, 'speaks-tls'));
  if (serverTls === false && clientTls)
    throw new Error(describeConnectProblem(endpoint, 'not-tls'));
}

/** Runs `fn` with a client built from the command's options, and closes the client after. */
export async function withClient(
  io: CliIo,
  opts: ClientOpts,
  fn: (client: SequenceClient) => Promise<void>,
): Promise<void> {
  const files = clientTlsFiles(opts);
  const tls = clientTls(files);
  const token = opts.tokenFile === undefined ? undefined : readClientToken(opts.tokenFile);
  const options: SequenceClientOptions = {
    endpoints: opts.endpoints ?? '',
    deadlineMs: opts.timeout,
    attemptTimeoutMs: Math.min(opts.timeout, CLIENT_DEFAULTS.attemptTimeoutMs),
    ...(tls !== undefined ? { tls } : {}),
    ...(token !== undefined ? { token } : {}),
  };
  if (io.createClient === undefined) {
    await checkTlsMatch(parseEndpoints(options.endpoints)[0] as string, tls !== undefined);
  }
  const client = io.createClient ? io.createClient(options) : new SequenceClient(options);
  try {
    await fn(client);
  } finally {
    client.close();
  }
}
