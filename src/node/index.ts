// The node runtime: storage + Raft core + transport + state machine, behind
// the seams of host.ts. src/server/start.ts assembles the production node.
export type { NodeOptions } from './options.js';
export { DEFAULTS } from './options.js';
export { NodeHost, StartupError, type NodeDeps } from './host.js';
