// The pure Raft core. See docs/architecture.md for how the runtime drives it.
export { BOOTSTRAP_INDEX, RaftNode, applyConfChange, bootstrapState, emptyState } from './node.js';
export { RaftInvariantError } from './invariant.js';
export { majority, quorumValue, voteOutcome } from './quorum.js';
export type * from './types.js';
