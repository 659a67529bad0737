// The Raft consensus core: a synchronous, deterministic state machine.
//
// Input: step(message), tick(), propose(data), proposeConfChange(change),
// transferLeadership(to), advance(ready). Output: Ready (entries and hard
// state to persist, messages to send now or after persisting, committed
// entries to apply). No I/O, no clock, no randomness of its own: time is the
// tick count and randomness comes from the injected Rng.
//
// Roles are separate step functions (stepLeader / stepCandidate /
// stepFollower), as in etcd-io/raft. Section numbers refer to the Raft paper
// (Ongaro & Ousterhout 2014) and "§n.n (thesis)" to Ongaro's dissertation.
//
// Why one file of about 1,200 lines (over the 600-line rule for src): the
// step functions of the three roles, elections, log replication, the lease,
// membership and leadership transfer all read and write the same handful of
// fields (term, vote, role, lead, progress, the log's commit), and each
// safety rule is a check between two of them. Split across files, those
// checks would need the fields made public or passed around, and a reader
// checking one rule against the paper would jump between files. etcd-io/raft
// keeps the same shape in raft.go (about 2,000 lines) for the same reason.
// What does stand alone is already out: the log (log.ts), per-follower
// progress (progress.ts), quorum arithmetic (quorum.ts) and invariants.

import { invariant } from './invariant.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { majority, quorumValue, voteOutcome } from './quorum.js';
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfState,
  Entry,
  HardState,
  HeartbeatRequest,
  HeartbeatResponse,
  InitialState,
  Lease,
  Message,
  NodeId,
  ProposeResult,
  RaftConfig,
  Ready,
  Rng,
  Role,
  Snapshot,
  SnapshotRequest,
  SoftState,
  Status,
  VoteRequest,
  VoteResponse,
} from './types.js';

const EMPTY = new Uint8Array(0);

/** Index of the snapshot every initial member starts from (see bootstrapState). */
export const BOOTSTRAP_INDEX = 1;

/** Per-Ready bookkeeping needed when its persistence completes. */
interface ReadyRecord {
  number: number;
  lastIndex: number;
  lastTerm: number;
}

/** The configuration in force after applying the entry at `index`. */
interface ConfAt {
  index: number;
  conf: ConfState;
}

export class RaftNode {
  readonly id: NodeId;
  private readonly electionTick: number;
  private readonly heartbeatTick: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxEntriesPerMsg: number;
  private readonly leaseDriftTicks: number;
  private readonly rng: Rng;

  // Persistent state (§5.1, Figure 2).
  private term: number;
  private vote: NodeId | null;
  private readonly log: RaftLog;

  // Volatile state.
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private conf: ConfState;
  /** Configurations introduced by committed entries after the snapshot. */
  private confHistory: ConfAt[] = [];

  /** The node's logical clock. */
  private tickCount = 0;
  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private heartbeatElapsed = 0;
  /**
   * Tick of the last message from a live leader of our term (or of our own
   * start). Until electionTick ticks have passed since then we refuse to vote
   * for anyone else: that is what makes CheckQuorum and the leader lease sound.
   */
  private lastLeaderContact = 0;

  private votes = new Map<NodeId, boolean>();
  private verified = true;
  /** Voters whose grant came from the bootstrap point (see voteOutcome). */
  private votesUnverified = new Set<NodeId>();
  /** Highest log index already scanned for committed membership changes. */
  private confScanned = 0;

  // Leader state.
  private progress = new Map<NodeId, Progress>();
  private becameLeaderTick = 0;
  /** A conf change at or below this index is not yet committed (§4.1 thesis). */
  private pendingConfIndex = 0;
  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;
  /** Once TimeoutNow is out, another node may win without waiting: no lease for this term. */
  private leaseRevoked = false;
  /** This leader's own removal is committed; it is handing over (see onConfChanged). */
  private selfRemoval: { index: number; tick: number; knownAt: Map<NodeId, number> } | null = null;
  /** Appends should go out before the next Ready. */
  private broadcastPending = false;

  // Ready bookkeeping.
  private msgs: Message[] = [];
  private persistedMsgs: Message[] = [];
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyNumber = 0;
  private readyRecords: ReadyRecord[] = [];

  constructor(config: RaftConfig, initial: InitialState) {
    invariant(config.electionTick > config.heartbeatTick, 'electionTick must exceed heartbeatTick');
    invariant(config.heartbeatTick >= 1, 'heartbeatTick must be at least 1');
    this.id = config.id;
    this.electionTick = config.electionTick;
    this.heartbeatTick = config.heartbeatTick;
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.maxInflight = config.maxInflight ?? 64;
    this.maxEntriesPerMsg = config.maxEntriesPerMsg ?? 256;
    this.leaseDriftTicks = config.leaseDriftTicks ?? Math.ceil(config.electionTick / 10) + 1;
    invariant(
      this.leaseDriftTicks < this.electionTick,
      'leaseDriftTicks must be smaller than electionTick',
    );
    this.rng = config.rng;

    const { hardState, snapshot, entries } = initial;
    invariant(hardState.term >= snapshot.meta.term, 'hard state term below snapshot term');
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.log = this.createLog(snapshot, entries, Math.max(hardState.commit, snapshot.meta.index));
    this.conf = cloneConf(snapshot.meta.conf);
    // Membership changes take effect when committed: replay the committed ones.
    this.applyConfChanges(snapshot.meta.index, this.log.committed);
    this.prevHardState = this.hardState();
    this.prevSoftState = this.softState();
    this.resetRandomizedElectionTimeout();
  }

  // ---------------------------------------------------------------- inputs

  /** Advance the logical clock by one tick. */
  tick(): void {
    this.tickCount++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.isPromotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    if (this.heartbeatElapsed >= this.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
    if (
      this.selfRemoval !== null &&
      this.tickCount - this.selfRemoval.tick >= 2 * this.electionTick
    ) {
      // The new voters did not all hear of our removal in time; leave anyway
      // (the next leader's log holds the committed removal either way).
      this.becomeFollower(this.term, null);
      return;
    }
    // CheckQuorum: a leader that has not heard from a majority within an
    // election timeout steps down; by then its lease has already ended.
    if (this.checkQuorum) {
      const basis = Math.max(this.quorumAckTick(), this.becameLeaderTick);
      if (this.tickCount - basis >= this.electionTick) {
        this.becomeFollower(this.term, null);
        return;
      }
    }
    if (this.leadTransferee !== null) {
      this.transferElapsed++;
      if (this.transferElapsed >= this.electionTick) this.abortTransfer();
    }
    for (const pr of this.progress.values()) {
      // A snapshot that got lost would otherwise pin the follower forever.
      if (
        pr.state === 'snapshot' &&
        this.tickCount - pr.snapshotSentTick >= 2 * this.electionTick
      ) {
        pr.becomeProbe();
      }
    }
  }

  /**
   * Start an election now (tests and operator tools). Does nothing while this
   * node heard from a live leader less than an election timeout ago: that
   * leader's lease may count on us not helping anyone else win. (A planned
   * change of leader is transferLeadership, which revokes the lease first.)
   */
  campaign(): void {
    if (this.role === 'leader' || !this.isPromotable() || this.inLeaderContact()) return;
    this.hup(false);
  }

  /** Deliver a message addressed to this node. */
  step(m: Message): void {
    invariant(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'pre-vote') {
        if (!m.transfer && this.inLeaderContact()) {
          // We heard from a live leader less than an election timeout ago:
          // ignore the request without even adopting its term (§9.6 thesis).
          return;
        }
      }
      if (m.type === 'pre-vote') {
        // A pre-vote carries a future term; it does not change ours.
      } else if (m.type === 'pre-vote-resp' && m.granted) {
        // Granted pre-votes carry the term we asked for.
      } else {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term) {
      if (m.type === 'append' || m.type === 'heartbeat') {
        // A stale leader (e.g. healed from a partition) learns our term from
        // the reply and steps down; otherwise it could stay leader forever
        // with CheckQuorum on while we ignore its messages.
        this.send(this.rejectAppend(m.from, 0, 0, 0, 0), 'now');
      } else if (m.type === 'pre-vote') {
        this.send(
          { type: 'pre-vote-resp', from: this.id, to: m.from, term: this.term, granted: false },
          'now',
        );
      }
      return;
    }

    switch (m.type) {
      case 'vote':
      case 'pre-vote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /**
   * Propose an application entry. Only the leader accepts; the entry is
   * appended to its log and replicated with the next Ready.
   */
  propose(data: Uint8Array): ProposeResult {
    if (this.role !== 'leader' || this.selfRemoval !== null)
      return { ok: false, reason: 'not-leader' };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transferring' };
    if (data.length === 0) return { ok: false, reason: 'invalid' }; // empty data is the no-op
    const entry = this.appendEntry('normal', data, undefined);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Propose a single-server membership change. Refused while an earlier
   * change (or this term's no-op) is uncommitted: one change at a time, and
   * never before the leader has committed an entry of its own term.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.role !== 'leader' || this.selfRemoval !== null)
      return { ok: false, reason: 'not-leader' };
    if (this.leadTransferee !== null) return { ok: false, reason: 'transferring' };
    if (this.pendingConfIndex > this.log.committed) {
      return { ok: false, reason: 'conf-change-pending' };
    }
    if (applyConfChange(this.conf, cc) === null) return { ok: false, reason: 'invalid' };
    const entry = this.appendEntry('conf', EMPTY, cc);
    this.pendingConfIndex = entry.index;
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Hand leadership to `to` (§3.10 thesis): stop accepting proposals, bring
   * the target up to date, then tell it to campaign at once. Aborted after an
   * election timeout.
   */
  transferLeadership(to: NodeId): boolean {
    if (this.role !== 'leader' || this.selfRemoval !== null) return false;
    if (to === this.id || !this.conf.voters.includes(to)) return false;
    if (this.leadTransferee === to) return true;
    if (this.leadTransferee !== null) this.abortTransfer();
    if (this.role !== 'leader') return false;
    this.leadTransferee = to;
    this.transferElapsed = 0;
    const pr = this.progress.get(to) as Progress;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
    return true;
  }

  /**
   * The runtime gives up on a transfer before the core's own timeout: end it
   * now, exactly as the timeout would (clear it; or, if TimeoutNow went out,
   * step down, since the target may already have won). Proposals are
   * accepted again once it returns, if this node still leads.
   */
  cancelTransfer(): void {
    if (this.role === 'leader' && this.leadTransferee !== null) this.abortTransfer();
  }

  /** The runtime made the state machine's snapshot at applied `index`. */
  compact(index: number, data: Uint8Array): void {
    if (index <= this.log.snapshot.meta.index) return;
    invariant(index <= this.log.applied, `compact(${index}) beyond applied ${this.log.applied}`);
    const term = this.log.term(index) as number;
    const conf = this.confAt(index);
    this.log.compact({ meta: { index, term, conf: cloneConf(conf) }, data });
    this.confHistory = this.confHistory.filter((c) => c.index > index);
  }

  /** The runtime could not deliver a snapshot: resume probing. */
  reportSnapshotFailure(to: NodeId): void {
    const pr = this.progress.get(to);
    if (this.role === 'leader' && pr !== undefined && pr.state === 'snapshot') pr.becomeProbe();
  }

  /**
   * The link to `id` broke (its process is gone: the connection was reset or
   * refused). If `id` is our leader, campaign as soon as its lease can have
   * run out, an election timeout after we last heard from it, instead of
   * waiting out a randomized timeout of up to twice that. Every follower is
   * told at about the same moment, so they take turns by rank (their place
   * among the other voters, sorted by id) an eighth of an election timeout
   * apart, or they would split the vote and all wait a full randomized
   * timeout. It changes nothing about voting: inLeaderContact() still
   * refuses every vote until an election timeout after the last contact, so
   * the lease holds; a live leader's next message resets the clock as usual.
   */
  reportUnreachable(id: NodeId): void {
    if (this.role !== 'follower' || this.leader !== id) return;
    const rank = Math.max(
      0,
      this.conf.voters
        .filter((v) => v !== id)
        .sort()
        .indexOf(this.id),
    );
    const step = Math.max(1, Math.floor(this.electionTick / 8));
    const soon = this.electionTick + rank * step + this.rng.int(Math.max(1, Math.floor(step / 4)));
    if (soon < this.randomizedElectionTimeout) this.randomizedElectionTimeout = soon;
  }

  // ---------------------------------------------------------------- Ready

  hasReady(): boolean {
    this.flushBroadcast();
    return (
      this.msgs.length > 0 ||
      this.persistedMsgs.length > 0 ||
      this.log.hasUnstable() ||
      this.log.pendingSnapshot !== null ||
      this.log.pendingCompacted !== null ||
      this.log.applicableTo() > this.log.applied ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  /** Take the next Ready. Its contents count as handed out. */
  ready(): Ready {
    this.flushBroadcast();
    const number = ++this.readyNumber;
    const snapshot = this.log.pendingSnapshot;
    const compacted = this.log.pendingCompacted;
    this.log.pendingSnapshot = null;
    this.log.pendingCompacted = null;
    const entries = this.log.takeUnstable();
    const hs = this.hardState();
    const hardState = sameHardState(hs, this.prevHardState) ? null : hs;
    this.prevHardState = hs;
    const softState = this.softState();
    this.prevSoftState = softState;
    const committedEntries = this.log.takeCommitted();
    const messages = this.msgs;
    const persistedMessages = this.persistedMsgs;
    this.msgs = [];
    this.persistedMsgs = [];

    const last = entries.length > 0 ? (entries[entries.length - 1] as Entry) : null;
    if (last !== null) {
      this.readyRecords.push({ number, lastIndex: last.index, lastTerm: last.term });
    } else if (snapshot !== null) {
      this.readyRecords.push({
        number,
        lastIndex: snapshot.meta.index,
        lastTerm: snapshot.meta.term,
      });
    }
    return {
      number,
      softState,
      hardState,
      snapshot,
      compacted,
      entries,
      committedEntries,
      messages,
      persistedMessages,
    };
  }

  /** Everything in Ready `rd` (and every earlier Ready) is durable now. */
  advance(rd: Ready): void {
    while (
      this.readyRecords.length > 0 &&
      (this.readyRecords[0] as ReadyRecord).number <= rd.number
    ) {
      const rec = this.readyRecords.shift() as ReadyRecord;
      this.log.persistedTo(rec.lastIndex, rec.lastTerm);
    }
    if (this.role === 'leader') {
      // The leader counts itself toward a commit only for what it has fsynced.
      // (A leader winding down after its own removal has no progress of its own.)
      this.progress.get(this.id)?.maybeUpdate(this.log.persisted);
      if (this.maybeCommit()) this.broadcastPending = true;
      this.flushBroadcast();
    }
  }

  // ---------------------------------------------------------------- queries

  status(): Status {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      persistedIndex: this.log.persisted,
      conf: cloneConf(this.conf),
      tick: this.tickCount,
      leadTransferee: this.leadTransferee,
      progress:
        this.role === 'leader'
          ? [...this.progress.values()].map((p) => p.view(this.conf.voters.includes(p.id)))
          : [],
    };
  }

  /** This node's logical clock. */
  get tickNow(): number {
    return this.tickCount;
  }

  /**
   * The leader lease: until `validUntilTick` (this node's clock) no other node
   * can have become leader. A majority acknowledged a message we sent at
   * `basisTick`; each of them received it at or after that tick and refuses
   * to vote until an election timeout after receiving it. We subtract the
   * clock-drift allowance for followers whose clocks run faster than ours.
   * There is no lease while a transfer is under way or after TimeoutNow was
   * sent in this term, and none before the first acknowledged round.
   */
  lease(): Lease | null {
    if (
      this.role !== 'leader' ||
      this.leadTransferee !== null ||
      this.leaseRevoked ||
      this.selfRemoval !== null
    ) {
      return null;
    }
    if (!this.checkQuorum) return null;
    const basis = this.quorumAckTick();
    if (basis < this.becameLeaderTick) return null;
    const lease = {
      basisTick: basis,
      validUntilTick: basis + this.electionTick - this.leaseDriftTicks,
    };
    return lease;
  }

  // ---------------------------------------------------------------- rules as hooks
  //
  // Four of the core's safety rules, each in a protected method of its own so
  // that a test-only subclass (test/sim/core-mutants.ts) can break exactly
  // one and show that the simulator's checkers catch it. Nothing in src
  // overrides them.

  /** Builds the log; the keep-conflicting-entries mutant builds one that keeps conflicts. */
  protected createLog(snapshot: Snapshot, entries: Entry[], committed: number): RaftLog {
    return new RaftLog(snapshot, entries, committed);
  }

  /** §5.4.1: grant a vote only to a candidate whose log is at least as up to date as ours. */
  protected candidateUpToDate(m: VoteRequest): boolean {
    return this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }

  /** A granted vote is durable before anyone hears of it; a pre-vote promises nothing. */
  protected voteResponseTiming(isPre: boolean): 'now' | 'after-persist' {
    return isPre ? 'now' : 'after-persist';
  }

  /** §5.4.2 (Figure 8): a leader commits by counting replicas only entries of its own term. */
  protected mayCommitByCounting(index: number): boolean {
    return this.log.term(index) === this.term;
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leader: NodeId | null): void {
    invariant(term >= this.term, `term going back from ${this.term} to ${term}`);
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = 'follower';
    this.leader = leader;
    if (leader !== null) this.lastLeaderContact = this.tickCount;
    this.resetLeaderState();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become pre-candidate');
    // A pre-candidate keeps its term and vote: the pre-vote round changes nothing durable.
    this.role = 'pre-candidate';
    this.leader = null;
    this.votes = new Map();
    this.votesUnverified = new Set();
    this.resetLeaderState();
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become candidate');
    this.term += 1;
    this.vote = this.id;
    this.role = 'candidate';
    this.leader = null;
    this.votes = new Map();
    this.votesUnverified = new Set();
    this.resetLeaderState();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', `${this.role} cannot become leader`);
    this.role = 'leader';
    this.leader = this.id;
    this.becameLeaderTick = this.tickCount;
    this.heartbeatElapsed = 0;
    this.leadTransferee = null;
    this.leaseRevoked = false;
    this.progress = new Map();
    const next = this.log.lastIndex() + 1;
    for (const id of members(this.conf)) {
      this.progress.set(id, new Progress(id, next, this.maxInflight));
    }
    const self = this.progress.get(this.id);
    if (self !== undefined) {
      self.match = this.log.persisted;
      self.becomeReplicate();
    }
    // §5.4.2 / §8: commit an entry of our own term first; it also commits
    // everything before it. No membership change until it is committed.
    const noop = this.appendEntry('normal', EMPTY, undefined);
    this.pendingConfIndex = noop.index;
  }

  private resetLeaderState(): void {
    this.progress = new Map();
    this.leadTransferee = null;
    this.transferElapsed = 0;
    this.leaseRevoked = false;
    this.broadcastPending = false;
    this.selfRemoval = null;
  }

  /** Start an election: a pre-vote round first if enabled (§9.6 thesis). */
  private hup(transfer: boolean): void {
    if (this.preVote && !transfer) this.campaignRound('pre-vote', false);
    else this.campaignRound('vote', transfer);
  }

  private campaignRound(kind: 'vote' | 'pre-vote', transfer: boolean): void {
    if (kind === 'pre-vote') this.becomePreCandidate();
    else this.becomeCandidate();
    const term = kind === 'pre-vote' ? this.term + 1 : this.term;
    this.votes.set(this.id, true);
    if (this.unverified()) this.votesUnverified.add(this.id);
    if (this.tallyVotes(kind)) return;
    for (const id of this.conf.voters) {
      if (id === this.id) continue;
      const req: VoteRequest = {
        type: kind,
        from: this.id,
        to: id,
        term,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer,
      };
      // A real vote request follows our own vote for ourselves: persist first.
      this.send(req, kind === 'vote' ? 'after-persist' : 'now');
    }
  }

  /** Returns true once the election is decided. */
  private tallyVotes(kind: 'vote' | 'pre-vote'): boolean {
    const outcome = voteOutcome(this.conf.voters, this.votes, this.votesUnverified);
    if (outcome === 'won') {
      if (kind === 'pre-vote') this.campaignRound('vote', false);
      else this.becomeLeader();
      return true;
    }
    if (outcome === 'lost') {
      this.becomeFollower(this.term, null);
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- voting

  private handleVoteRequest(m: VoteRequest): void {
    const isPre = m.type === 'pre-vote';
    // We may vote for m.from if we already did in this term, or if we have
    // not voted and know no leader; a pre-vote for a future term is always
    // possible (it promises nothing).
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (isPre && m.term > this.term);
    const logOk = this.candidateUpToDate(m);
    // A leader or a follower with a live leader never helps a non-transfer
    // election (this guards the same-term case; higher terms were filtered in step).
    const leaseOk = m.transfer || !this.inLeaderContact();
    // A node that holds no log at all (it lost its data or has not joined
    // yet) knows nothing of what was committed: it must never vote.
    const hasLog = this.log.lastIndex() > 0;
    const granted = canVote && logOk && leaseOk && hasLog && this.role !== 'leader';
    const resp: VoteResponse = {
      type: isPre ? 'pre-vote-resp' : 'vote-resp',
      from: this.id,
      to: m.from,
      // A granted pre-vote answers in the requested term so the pre-candidate counts it.
      term: isPre && granted ? m.term : this.term,
      granted,
      // A member that cannot vouch for its log may have lost entries it once
      // acknowledged: its grant counts only where every voter grants (see
      // voteOutcome).
      ...(granted && this.unverified() ? { unverified: true } : {}),
    };
    if (granted && !isPre) {
      this.vote = m.from;
      this.electionElapsed = 0;
    }
    // A granted vote must be durable before anyone hears of it.
    this.send(resp, this.voteResponseTiming(isPre));
  }

  /**
   * This member cannot vouch for its log: it holds nothing beyond the
   * bootstrap snapshot (new, or its data directory was lost), or the runtime
   * says its data directory is not verified yet (see setVerified).
   */
  private unverified(): boolean {
    return !this.verified || this.log.lastIndex() <= BOOTSTRAP_INDEX;
  }

  /**
   * Whether this member's data directory is known to be the one the cluster
   * has on record (the runtime verifies it; default true). Until then its
   * vote grants are flagged: a directory that was emptied and is catching up
   * holds less than it once acknowledged, yet is past the bootstrap point.
   */
  setVerified(verified: boolean): void {
    this.verified = verified;
  }

  private inLeaderContact(): boolean {
    if (!this.checkQuorum) return false;
    if (this.role === 'leader') return true;
    return this.tickCount - this.lastLeaderContact < this.electionTick;
  }

  // ---------------------------------------------------------------- per role

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.acceptLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.acceptLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.acceptLeader(m.from);
        this.handleSnapshot(m);
        return;
      case 'timeout-now':
        // §3.10 thesis: campaign at once, skipping pre-vote and the lease check.
        if (this.isPromotable()) this.hup(true);
        return;
      default:
        return; // stale responses
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Someone won this term (§5.2).
        this.becomeFollower(this.term, m.from);
        this.stepFollower(m);
        return;
      case 'vote-resp':
      case 'pre-vote-resp': {
        const kind = m.type === 'vote-resp' ? 'vote' : 'pre-vote';
        if ((kind === 'vote') !== (this.role === 'candidate')) return;
        // Pre-vote replies that granted carry term+1; refusals carry the
        // replier's term, which is ours here (higher ones were handled in step).
        if (kind === 'pre-vote' && m.granted && m.term !== this.term + 1) return;
        this.votes.set(m.from, m.granted);
        if (m.granted && m.unverified === true) this.votesUnverified.add(m.from);
        else this.votesUnverified.delete(m.from);
        this.tallyVotes(kind);
        return;
      }
      default:
        return;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        invariant(false, `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        return;
      case 'append-resp':
        this.handleAppendResponse(m);
        return;
      case 'heartbeat-resp':
        this.handleHeartbeatResponse(m);
        return;
      default:
        return;
    }
  }

  private acceptLeader(from: NodeId): void {
    this.leader = from;
    this.lastLeaderContact = this.tickCount;
    this.electionElapsed = 0;
  }

  // ---------------------------------------------------------------- follower

  private handleAppend(m: AppendRequest): void {
    if (m.prevLogIndex < this.log.committed) {
      // Everything up to our commit index matches the leader already.
      this.send(this.acceptAppend(m.from, this.log.committed, m.sentTick), 'after-persist');
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
    if (lastNew !== null) {
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.applyConfChangesUpToCommit();
      this.send(this.acceptAppend(m.from, lastNew, m.sentTick), 'after-persist');
      return;
    }
    // Fast back-off: point the leader at the last index where our log could
    // still match, i.e. the newest entry whose term is <= the term it tried.
    const hintIndex = this.log.findConflictByTerm(
      Math.min(m.prevLogIndex, this.log.lastIndex()),
      m.prevLogTerm,
    );
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send(
      this.rejectAppend(m.from, m.prevLogIndex, hintIndex, hintTerm, m.sentTick),
      'after-persist',
    );
  }

  private handleHeartbeat(m: HeartbeatRequest): void {
    if (m.commit > this.log.lastIndex()) {
      // The leader says we acknowledged entries we do not have: our log was
      // lost (a replaced data directory). Tell it where our log really ends,
      // so it replicates to us from there instead of trusting the old match.
      this.send(
        this.rejectAppend(m.from, m.commit, this.log.lastIndex(), this.log.lastTerm(), m.sentTick),
        'now',
      );
      return;
    }
    // The leader sends a commit index we are known to match.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.applyConfChangesUpToCommit();
    const resp: HeartbeatResponse = {
      type: 'heartbeat-resp',
      from: this.id,
      to: m.from,
      term: this.term,
      sentTick: m.sentTick,
    };
    this.send(resp, 'now');
  }

  private handleSnapshot(m: SnapshotRequest): void {
    const meta = m.snapshot.meta;
    if (meta.index <= this.log.committed) {
      this.send(this.acceptAppend(m.from, this.log.committed, m.sentTick), 'after-persist');
      return;
    }
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already hold that prefix: just learn that it is committed.
      this.log.commitTo(meta.index);
      this.applyConfChangesUpToCommit();
    } else {
      this.log.restore(m.snapshot);
      this.conf = cloneConf(meta.conf);
      this.confHistory = [];
      this.confScanned = meta.index;
    }
    this.send(this.acceptAppend(m.from, meta.index, m.sentTick), 'after-persist');
  }

  private acceptAppend(to: NodeId, index: number, sentTick: number): AppendResponse {
    return {
      type: 'append-resp',
      from: this.id,
      to,
      term: this.term,
      success: true,
      index,
      hintIndex: 0,
      hintTerm: 0,
      sentTick,
    };
  }

  private rejectAppend(
    to: NodeId,
    index: number,
    hintIndex: number,
    hintTerm: number,
    sentTick: number,
  ): AppendResponse {
    return {
      type: 'append-resp',
      from: this.id,
      to,
      term: this.term,
      success: false,
      index,
      hintIndex,
      hintTerm,
      sentTick,
    };
  }

  // ---------------------------------------------------------------- leader

  private appendEntry(
    type: Entry['type'],
    data: Uint8Array,
    change: ConfChange | undefined,
  ): Entry {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    if (change !== undefined) entry.change = change;
    this.log.append([entry]);
    this.broadcastPending = true;
    // A single-voter cluster commits as soon as the entry is persisted (advance).
    return entry;
  }

  private flushBroadcast(): void {
    if (!this.broadcastPending || this.role !== 'leader') return;
    this.broadcastPending = false;
    for (const id of this.progress.keys()) {
      if (id !== this.id) this.sendAppend(id, true);
    }
  }

  /** Send what `to` needs next: entries, or a snapshot if we compacted them. */
  private sendAppend(to: NodeId, allowEmpty = false): void {
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isPaused()) return;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      const snap = this.log.snapshot;
      const req: SnapshotRequest = {
        type: 'snapshot',
        from: this.id,
        to,
        term: this.term,
        snapshot: snap,
        sentTick: this.tickCount,
      };
      pr.becomeSnapshot(snap.meta.index, this.tickCount);
      this.send(req, 'now');
      return;
    }
    const last = Math.min(this.log.lastIndex(), prevIndex + this.maxEntriesPerMsg);
    const entries = this.log.slice(prevIndex + 1, last);
    // In probe state an empty append still finds where the logs match. In
    // replicate state it carries a new commit index, or (after a heartbeat
    // reply from a follower that is behind) detects lost appends: the
    // transport is ordered, so it arrives after anything still in flight.
    if (entries.length === 0 && pr.state === 'replicate' && !allowEmpty) return;
    const req: AppendRequest = {
      type: 'append',
      from: this.id,
      to,
      term: this.term,
      prevLogIndex: prevIndex,
      prevLogTerm: prevTerm,
      entries,
      commit: this.log.committed,
      sentTick: this.tickCount,
    };
    pr.sentEntries(prevIndex + entries.length, entries.length);
    this.send(req, 'now');
  }

  private broadcastHeartbeat(): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      const hb: HeartbeatRequest = {
        type: 'heartbeat',
        from: this.id,
        to: id,
        term: this.term,
        commit: Math.min(pr.match, this.log.committed),
        sentTick: this.tickCount,
      };
      this.send(hb, 'now');
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseRevoked = true;
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term }, 'now');
  }

  private abortTransfer(): void {
    const sent = this.leaseRevoked;
    this.leadTransferee = null;
    this.transferElapsed = 0;
    if (sent) {
      // TimeoutNow went out, so the target may have won without waiting for
      // our lease: we can never hold a lease again in this term. Step down
      // and let a fresh election restore one.
      this.becomeFollower(this.term, null);
    }
  }

  private recordAck(pr: Progress, sentTick: number): void {
    if (sentTick > pr.ackedSentTick) pr.ackedSentTick = sentTick;
  }

  /** The newest send tick acknowledged by a majority of voters (we count as now). */
  private quorumAckTick(): number {
    return quorumValue(
      this.conf.voters,
      (id) => (id === this.id ? this.tickCount : this.progress.get(id)?.ackedSentTick),
      -1,
    );
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    this.recordAck(pr, m.sentTick);
    this.checkSelfRemovalKnown();
    if (this.role !== 'leader') return;
    if (!m.success) {
      if (m.hintIndex < pr.match) {
        // A follower's log never ends below what it acknowledged unless it
        // lost its log (its hint would otherwise be >= match): start over
        // from where its log really ends.
        pr.match = m.hintIndex;
        pr.becomeProbe();
        this.sendAppend(m.from);
        return;
      }
      const probeHint =
        m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrTo(m.index, probeHint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      if (wasPaused && !pr.isPaused()) this.sendAppend(m.from);
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
    if (this.maybeCommit()) this.broadcastPending = true;
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex() && !this.leaseRevoked) {
      this.sendTimeoutNow(m.from);
    }
    if (this.role === 'leader') this.sendAppend(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    this.recordAck(pr, m.sentTick);
    this.checkSelfRemovalKnown();
    if (this.role !== 'leader') return;
    pr.onHeartbeatReply();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);
  }

  /**
   * Advance the commit index to the largest index stored on a majority of
   * voters — but only if that entry is from our term (§5.4.2, Figure 8).
   */
  private maybeCommit(): boolean {
    const index = quorumValue(this.conf.voters, (id) => this.progress.get(id)?.match, 0);
    if (index <= this.log.committed) return false;
    if (!this.mayCommitByCounting(index)) return false;
    this.log.commitTo(index);
    this.applyConfChangesUpToCommit();
    return true;
  }

  // ---------------------------------------------------------------- membership

  private applyConfChangesUpToCommit(): void {
    this.applyConfChanges(this.confScanned, this.log.committed);
  }

  private applyConfChanges(after: number, upTo: number): void {
    for (let i = Math.max(after, this.log.snapshot.meta.index) + 1; i <= upTo; i++) {
      const e = this.log.entry(i) as Entry;
      if (e.type !== 'conf' || e.change === undefined) continue;
      const next = applyConfChange(this.conf, e.change);
      invariant(next !== null, `committed conf change at ${i} is invalid`);
      this.conf = next;
      this.confHistory.push({ index: i, conf: cloneConf(next) });
      this.onConfChanged(e.change, i);
    }
    if (upTo > this.confScanned) this.confScanned = upTo;
  }

  private onConfChanged(cc: ConfChange, index: number): void {
    if (this.role !== 'leader') return;
    if (cc.type === 'remove') {
      this.progress.delete(cc.id);
      if (cc.id === this.id) {
        // §4.2.2 (thesis): a removed leader steps down once the change is
        // committed. But the followers switch configuration only when they
        // learn the commit; if we left at once, they could stay in the old
        // configuration that still counts us. So we keep leading (without
        // counting ourselves, without proposing or serving) until a majority
        // of the new voters have acknowledged a message that told them.
        this.selfRemoval = { index, tick: this.tickCount, knownAt: new Map() };
        this.progress.delete(this.id);
        this.broadcastPending = true;
        this.checkSelfRemovalKnown();
        return;
      }
      if (this.leadTransferee === cc.id) this.abortTransfer();
    } else if (!this.progress.has(cc.id)) {
      const pr = new Progress(cc.id, this.log.lastIndex() + 1, this.maxInflight);
      this.progress.set(cc.id, pr);
      this.broadcastPending = true;
    }
  }

  /**
   * While a removed leader winds down: step down once a majority of the new
   * voters acknowledged a message sent after we knew they hold the removal
   * entry (every such message carries a commit index that includes it).
   */
  private checkSelfRemovalKnown(): void {
    const sr = this.selfRemoval;
    if (sr === null || this.role !== 'leader') return;
    let confirmed = 0;
    for (const id of this.conf.voters) {
      const pr = this.progress.get(id);
      if (pr === undefined || pr.match < sr.index) continue;
      const known = sr.knownAt.get(id);
      if (known === undefined) {
        sr.knownAt.set(id, this.tickCount);
        continue;
      }
      if (pr.ackedSentTick > known) confirmed++;
    }
    if (confirmed >= majority(this.conf.voters.length)) this.becomeFollower(this.term, null);
  }

  private confAt(index: number): ConfState {
    let conf = this.log.snapshot.meta.conf;
    for (const c of this.confHistory) if (c.index <= index) conf = c.conf;
    return conf;
  }

  private isPromotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  // ---------------------------------------------------------------- helpers

  private send(m: Message, when: 'now' | 'after-persist'): void {
    if (when === 'now') this.msgs.push(m);
    else this.persistedMsgs.push(m);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { role: this.role, leader: this.leader, term: this.term };
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTick + this.rng.int(this.electionTick);
  }
}

// ------------------------------------------------------------------ pure helpers

function cloneConf(c: ConfState): ConfState {
  return { voters: c.voters.slice(), learners: c.learners.slice() };
}

function members(c: ConfState): NodeId[] {
  return [...c.voters, ...c.learners];
}

/** The configuration after `cc`, or null if `cc` does not apply to `conf`. */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState | null {
  const isVoter = conf.voters.includes(cc.id);
  const isLearner = conf.learners.includes(cc.id);
  switch (cc.type) {
    case 'add-learner':
      if (isVoter || isLearner) return null;
      return { voters: conf.voters.slice(), learners: [...conf.learners, cc.id] };
    case 'promote':
      if (!isLearner) return null;
      return {
        voters: [...conf.voters, cc.id],
        learners: conf.learners.filter((id) => id !== cc.id),
      };
    case 'remove':
      if (!isVoter && !isLearner) return null;
      if (isVoter && conf.voters.length === 1) return null; // never zero voters
      return {
        voters: conf.voters.filter((id) => id !== cc.id),
        learners: conf.learners.filter((id) => id !== cc.id),
      };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}

/** The state of a member of a brand-new cluster (all initial members start from it). */
export function bootstrapState(voters: NodeId[], data: Uint8Array): InitialState {
  const snapshot: Snapshot = {
    meta: { index: BOOTSTRAP_INDEX, term: 1, conf: { voters: voters.slice(), learners: [] } },
    data,
  };
  return { hardState: { term: 1, vote: null, commit: BOOTSTRAP_INDEX }, snapshot, entries: [] };
}

/** The state of a node that will join an existing cluster: no log, no configuration. */
export function emptyState(): InitialState {
  return {
    hardState: { term: 0, vote: null, commit: 0 },
    snapshot: { meta: { index: 0, term: 0, conf: { voters: [], learners: [] } }, data: EMPTY },
    entries: [],
  };
}
