// The whole node, as `raftseq serve` runs it (see start.ts).
export { startNode, type RunningNode } from './start.js';
