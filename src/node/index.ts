// The node runtime: storage + Raft core + transport + state machine + API.
import type { NodeHost } from './host.js';
export type { NodeOptions } from './options.js';
export { DEFAULTS } from './options.js';

/** A running node. */
export interface RunningNode {
  readonly id: string;
  /** Graceful stop: hand leadership over (with the exact next values), flush, close. */
  shutdown(): Promise<void>;
  /** Resolves when the node stopped for a reason of its own (fatal error). */
  readonly stopped: Promise<Error | null>;
  /** The runtime, for tests and tools in this process. */
  readonly host: NodeHost;
  /** The bound port (useful with --listen host:0). */
  readonly port: number;
}

export { startNode } from './start.js';
export { NodeHost, StartupError } from './host.js';
