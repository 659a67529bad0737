// The vocabulary of the Raft core: log entries, hard state, snapshots,
// messages and the Ready a runtime must act on.
//
// Everything here is plain data. The core never serialises anything: the
// storage and the transport own their wire and disk formats, so the core stays
// free of Buffer, TextEncoder and every other host API.

/** A member is named by a stable id (e.g. "n1"), never by its address. */
export type NodeId = string;

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/**
 * Membership changes are single-server changes (Raft dissertation §4.1): each
 * one adds or removes at most one voter, so every majority of the old
 * configuration intersects every majority of the new one. A change takes
 * effect on a node when that node learns the entry is committed, and a leader
 * accepts a new change only after everything up to its own first entry of the
 * term (the no-op) is committed and the previous change is committed. That is
 * the fix Ongaro published for the single-server bug.
 */
export type ConfChangeType = 'add-learner' | 'promote' | 'remove';

export interface ConfChange {
  type: ConfChangeType;
  id: NodeId;
  /** Opaque to the core (the runtime stores the member's address here). */
  context: Uint8Array;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export type EntryType = 'normal' | 'conf';

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  /** Application payload. An empty normal entry is a leader's no-op. */
  data: Uint8Array;
  /** Present exactly when type === 'conf'. */
  change?: ConfChange;
}

export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The application state machine at meta.index. Opaque to the core. */
  data: Uint8Array;
}

interface MessageBase {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** RequestVote (§5.2) and the PreVote round (§9.6) that precedes it. */
export interface VoteRequest extends MessageBase {
  type: 'vote' | 'pre-vote';
  lastLogIndex: number;
  lastLogTerm: number;
  /** Set by a leadership transfer: voters skip the "heard from a leader" check. */
  transfer: boolean;
}

export interface VoteResponse extends MessageBase {
  type: 'vote-resp' | 'pre-vote-resp';
  granted: boolean;
  /**
   * The voter cannot vouch for its log: it holds nothing beyond the bootstrap
   * snapshot, or its data directory is new and the cluster has not verified
   * it yet, so it may have lost entries it once acknowledged (see voteOutcome).
   */
  unverified?: boolean;
}

/** AppendEntries (§5.3). */
export interface AppendRequest extends MessageBase {
  type: 'append';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  commit: number;
  /** The leader's tick when it sent this; echoed back for the lease. */
  sentTick: number;
}

export interface AppendResponse extends MessageBase {
  type: 'append-resp';
  success: boolean;
  /** On success: the follower's match index. On rejection: the rejected prevLogIndex. */
  index: number;
  /** On rejection: the follower's hint for fast back-off (§5.3, "optimization"). */
  hintIndex: number;
  hintTerm: number;
  /** Echo of AppendRequest.sentTick. */
  sentTick: number;
}

/**
 * Heartbeat: carries only a commit index the follower is known to match
 * (min of its match and the leader's commit), and the send tick for the lease.
 */
export interface HeartbeatRequest extends MessageBase {
  type: 'heartbeat';
  commit: number;
  sentTick: number;
}

export interface HeartbeatResponse extends MessageBase {
  type: 'heartbeat-resp';
  sentTick: number;
}

/** InstallSnapshot (§7). Chunking is the transport's business. */
export interface SnapshotRequest extends MessageBase {
  type: 'snapshot';
  snapshot: Snapshot;
  sentTick: number;
}

/** Leadership transfer: the target starts an election at once (§3.10). */
export interface TimeoutNow extends MessageBase {
  type: 'timeout-now';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow;

export type MessageType = Message['type'];

export interface SoftState {
  role: Role;
  leader: NodeId | null;
  term: number;
}

/**
 * What the runtime must do, in this order:
 *  1. Persist `snapshot` (if any; it replaces the log and everything up to its
 *     index), then `compacted` (a local snapshot: store it and drop entries up
 *     to its index), then `entries` (replacing any stored entries from
 *     entries[0].index on), then `hardState` — in one atomic, fsynced batch
 *     (one that changes only the hard state's commit index need not be
 *     fsynced: the core restarts from max(commit, snapshot index) and never
 *     relies on a durable commit). Batches of consecutive Readies may be
 *     merged, in order.
 *  2. Send `messages` at any time (they do not depend on this Ready's persist).
 *  3. After the batch is durable: send `persistedMessages`, call
 *     `advance(ready)`.
 *  4. Apply `snapshot` (restore the state machine) and then `committedEntries`,
 *     in order. Committed entries are always already durable locally.
 */
export interface Ready {
  /** Readies are numbered 1, 2, 3... so persistence may complete later. */
  number: number;
  softState: SoftState;
  hardState: HardState | null;
  snapshot: Snapshot | null;
  compacted: Snapshot | null;
  entries: Entry[];
  committedEntries: Entry[];
  messages: Message[];
  persistedMessages: Message[];
}

/** What the core starts from: what storage held at the last restart. */
export interface InitialState {
  hardState: HardState;
  snapshot: Snapshot;
  /** Entries after snapshot.meta.index, contiguous. */
  entries: Entry[];
}

/** A deterministic random source, injected: the core never calls Math.random. */
export interface Rng {
  /** A uniformly distributed integer in [0, n). */
  int(n: number): number;
}

export interface RaftConfig {
  id: NodeId;
  /** Minimum election timeout in ticks; the actual one is random in [e, 2e). */
  electionTick: number;
  heartbeatTick: number;
  rng: Rng;
  /** Default true. */
  preVote?: boolean;
  /** Default true. The lease requires it. */
  checkQuorum?: boolean;
  /** Max append messages in flight per follower in the replicate state. Default 64. */
  maxInflight?: number;
  /** Max entries per append message. Default 256. */
  maxEntriesPerMsg?: number;
  /**
   * Clock-drift allowance for the leader lease, in ticks. The lease ends this
   * many ticks before the earliest moment a follower could vote for someone
   * else. It must cover the fastest follower clock's lead over the leader's
   * clock across one election timeout. Default: ceil(electionTick / 10) + 1.
   */
  leaseDriftTicks?: number;
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; reason: 'not-leader' | 'transferring' | 'conf-change-pending' | 'invalid' };

export interface Progress {
  id: NodeId;
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  voter: boolean;
  /** Tick at which the newest message this member acknowledged was sent. */
  ackedSentTick: number;
}

export interface Status {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId | null;
  leader: NodeId | null;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  persistedIndex: number;
  conf: ConfState;
  tick: number;
  leadTransferee: NodeId | null;
  /** Only on the leader. */
  progress: Progress[];
}

export interface Lease {
  /** Tick at which the heartbeat round acknowledged by a quorum was sent. */
  basisTick: number;
  /** The lease is valid while tick < validUntilTick. */
  validUntilTick: number;
}
