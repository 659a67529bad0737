// The node runtime: storage + Raft core + transport + state machine + API.
export type { NodeOptions } from './options.js';
export { DEFAULTS } from './options.js';

/** A running node. */
export interface RunningNode {
  readonly id: string;
  /** Graceful stop: hand leadership over (with the exact next values), flush, close. */
  shutdown(): Promise<void>;
  /** Resolves when the node stopped for a reason of its own (fatal error). */
  readonly stopped: Promise<Error | null>;
}

export { startNode } from './host.js';
