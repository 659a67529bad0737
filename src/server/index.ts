// The whole node, as `raftseq serve` runs it (see start.ts).
export { startNode, type RunningNode } from './start.js';
export { DataDirRefusedError, resetForRejoin, wipeProblem } from './rejoin.js';
