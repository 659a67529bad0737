// Names on the wire that both sides of the client API must agree on (pinned
// by the contract), with no dependencies so the client can carry them alone.

/** Trailing metadata key of an UNAVAILABLE answer: the leader's advertised host:port. */
export const LEADER_METADATA_KEY = 'raftseq-leader';
