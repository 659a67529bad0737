// What the gRPC handlers need from a node, and nothing more. The node runtime
// (src/node/host.ts) implements it; the deterministic simulator calls the
// same handlers on real nodes. Keeping it narrow keeps the API layer out of
// the runtime's internals (the allocator, the state machine, the transport).

import type { ConfChange, NodeId, ProposeResult, Status } from '../raft/index.js';
import type { NodeVersions } from '../node/versions.js';
import type { AllocatorTotals } from '../state/allocator.js';

/** Time as the handlers need it: client deadlines are wall-clock instants. */
export interface ApiClock {
  wallNow(): number;
  setTimer(ms: number, fn: () => void): () => void;
}

export interface MemberView {
  id: NodeId;
  /** The address peers dial it at. */
  address: string;
  /** Its --advertise: where clients are redirected. */
  advertise: string;
  role: 'leader' | 'follower' | 'learner';
  /** The leader's view of its log (the leader: its own durable index); 0 elsewhere. */
  matchIndex: number;
  /** Milliseconds since the leader last heard from it; -1 unknown, 0 itself. */
  lastContactMs: number;
}

export interface SequenceView {
  name: string;
  next: string;
  reserved: string;
  served: string;
  skipped: string;
  block: string;
}

export interface ApiNode {
  readonly id: NodeId;
  /** Largest `count` one Next may ask for. */
  readonly maxCount: number;
  readonly clock: ApiClock;
  readonly log: { error(fields: object, msg: string): void };
  /** Counts a Next refused before the allocator (`not_leader`, `invalid_argument`). */
  nextRejected(outcome: string): void;

  status(): Status;
  /** The leader's client address, if a leader is known. */
  leaderAddress(): string | null;
  /** The client address of member `id` (its --advertise, as recorded in the log). */
  advertisedAddress(id: NodeId): string | null;
  members(): MemberView[];
  appliedIndex(): number;
  sequenceCount(): number;
  totals(): AllocatorTotals;
  leaseRemainingMs(): number;
  /** This node's release, commit, storage and wire formats (and the cluster's wire format). */
  versions(): NodeVersions;
  /** The cluster this node belongs to ('' while it knows none). */
  clusterId(): string;

  /** Hands out `count` values; rejects with an AllocatorError having consumed nothing. */
  next(
    sequence: string,
    count: number,
    opts: { signal?: AbortSignal },
  ): Promise<{ first: bigint; count: number }>;
  /** The next value the leader would hand out (1 for a new sequence). */
  sequenceNext(name: string): bigint;
  sequenceInfo(name: string): SequenceView | null;
  sequenceInfos(after: string, limit: number): SequenceView[];
  /** Commits `advance` through the log; resolves once applied here. */
  advance(name: string, to: bigint): Promise<void>;

  proposeConfChange(cc: ConfChange): ProposeResult;
  waitApplied(index: number, term: number): Promise<void>;
  /** Graceful hand-over; resolves with the new leader, or null if none took over in time. */
  handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null>;
  registerMember(
    id: NodeId,
    incarnation: string,
    advertise: string,
  ): Promise<'ok' | 'replaced' | 'not-member'>;
}
