// How the CLI meets the outside world (streams, environment, process
// control, node start-up), in one interface that tests replace. Its own
// module so that every command module can take it without importing
// program.ts, which imports them all.
import type { NodeOptions } from '../node/index.js';
import type { RunningNode } from '../server/index.js';
import type { SequenceClient, SequenceClientOptions } from '../client/index.js';

/** Where the CLI reads and writes; replaced in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Starts a node (`serve`); default: src/server's startNode, loaded on demand. */
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
  /** stdout is a terminal: `cluster status --watch` redraws in place. */
  stdoutIsTerminal?: boolean;
  /** How often `cluster join` polls the leader while the member catches up; default 250 ms. */
  pollIntervalMs?: number;
}
