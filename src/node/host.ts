import type { NodeOptions } from './options.js';
import type { RunningNode } from './index.js';

/** Start a node (being written; see docs/architecture.md). */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  throw new Error(`node runtime not implemented yet (${options.id})`);
}
