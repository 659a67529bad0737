// The Ready driver: the one place that feeds the pure Raft core and carries
// out what its Ready asks for, in the order src/raft/types.ts demands.
//
//   timer ──catch up ticks──┐        ┌── transport.send(rd.messages)          (now)
//   peer msg ─catch up, step┼─> core ─ready()─> apply snapshot + committed entries
//   proposals ──────────────┘        └── pipeline: fsync batch ─> send rd.persistedMessages,
//                                                                  core.advance(rd)
//
// Ticks always catch up with the clock before anything else reaches the core.
// After an event-loop stall (a long GC pause, SIGSTOP) the inbound messages
// that queued meanwhile can run before the timer: a follower that stepped a
// leader's heartbeat at its stale tick count would date it up to one stall
// too early, and vote for another candidate before the leader's lease (which
// counts from when it sent the heartbeat) has run out.
//
// All inputs run on the one JS thread, so the core is never re-entered.

import type {
  ConfChange,
  Entry,
  Lease,
  Message,
  NodeId,
  ProposeResult,
  RaftNode,
  Ready,
  Role,
  Status,
} from '../raft/index.js';
import type { ApplyResult, SequenceStateMachine } from '../state/machine.js';
import type { RaftStorage } from '../storage/storage.js';
import type { Transport } from '../transport/transport.js';
import type { TickClock } from './clock.js';
import type { NodeEvents } from './events.js';
import { PersistPipeline } from './pipeline.js';
import type { CancelTimer, Clock } from './runtime.js';

/** What the driver tells the rest of the node. */
export interface DriverListener {
  /** The core's role, term or known leader changed (checked after every input). */
  roleChanged(now: RoleState, before: RoleState): void;
  /** After every tick round (the leader promotes learners here). */
  ticked(): void;
  /** A committed entry was applied to the state machine. */
  applied(entry: Entry, result: ApplyResult): void;
  /** A snapshot from the leader replaced the state machine. */
  snapshotInstalled(index: number): void;
  /** A peer message was dropped: no correct member could have sent it (`reason`). */
  refused(m: Message, reason: string): void;
  /** The node must stop: an invariant broke or a write failed. */
  fatal(err: Error): void;
}

export interface DriverOptions {
  raft: RaftNode;
  sm: SequenceStateMachine;
  storage: RaftStorage;
  transport: Transport;
  clock: Clock;
  tickMs: number;
  tickTimes: TickClock;
  events: NodeEvents;
  /** Take a snapshot and compact the log after this many applied entries. */
  snapshotEntries: number;
  listener: DriverListener;
  /**
   * When the core's tick 0 was (clock time), if before start(): the moment
   * this process opened its storage. Nothing this member sent before it
   * stopped can be later than that (it stops stepping before it closes the
   * storage, which another process must close before this one opens it), so
   * its refusal to vote for an election timeout after tick 0 still covers
   * every acknowledgement a leader's lease counts; the reading, decoding
   * and replaying of a large state then count toward the election timeout
   * instead of coming before it.
   */
  since?: number;
}

export interface RoleState {
  role: Role;
  term: number;
  leader: NodeId | null;
  /** The core's last log index at the change (a new leader's no-op). */
  lastIndex: number;
}

interface Waiter {
  term: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A proposal that was overtaken: another leader's entry took its index, or leadership ended. */
export class ProposalLostError extends Error {
  override name = 'ProposalLostError';
}

export class ReadyDriver {
  protected readonly raft: RaftNode;
  private readonly sm: SequenceStateMachine;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly tickTimes: TickClock;
  private readonly events: NodeEvents;
  private readonly snapshotEntries: number;
  private readonly listener: DriverListener;
  private readonly pipeline: PersistPipeline;
  private readonly waiters = new Map<number, Waiter>();
  private cancelTimer: CancelTimer | null = null;
  private startedAt = 0;
  private readonly since: number | undefined;
  private ticksDone = 0;
  private roleState: RoleState;
  private processScheduled = false;
  private ticking = true;
  private stopped = false;
  private lastCompactIndex: number;
  private lastKnownLeader: NodeId | null = null;

  constructor(o: DriverOptions) {
    this.raft = o.raft;
    this.sm = o.sm;
    this.transport = o.transport;
    this.clock = o.clock;
    this.tickMs = o.tickMs;
    this.tickTimes = o.tickTimes;
    this.events = o.events;
    this.snapshotEntries = o.snapshotEntries;
    this.listener = o.listener;
    this.since = o.since;
    const st = o.raft.status();
    // 'follower' with no leader is where every core starts: the first real
    // role (a single voter leads at once) is reported as a change.
    this.roleState = { role: 'follower', term: st.term, leader: null, lastIndex: st.lastIndex };
    this.lastCompactIndex = st.firstIndex - 1;
    this.pipeline = new PersistPipeline(
      o.storage,
      (readies) => this.onDurable(readies),
      (err) => this.fail(new Error(`disk write failed, stopping: ${err.message}`)),
      () => this.clock.now(),
      (ms, entries) => this.events.fsync(ms, entries),
    );
  }

  /** The term the core is in (for log lines). */
  get currentTerm(): number {
    return this.roleState.term;
  }

  /** Starts the tick timer. */
  start(): void {
    this.startedAt = Math.min(this.since ?? Infinity, this.clock.now());
    this.tickTimes.record(0, this.startedAt);
    this.armTimer();
    this.afterInput();
  }

  /**
   * Stops the tick timer; messages are still stepped (a stopping node keeps
   * answering until its transport closes).
   */
  stopTicking(): void {
    this.ticking = false;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Stops everything: no input reaches the core any more (stopped or failed). */
  halt(): void {
    this.stopTicking();
    this.stopped = true;
    this.pipeline.stop();
  }

  status(): Status {
    return this.raft.status();
  }

  /** The core's current lease, in ticks (see Leadership.leaseRemainingMs). */
  lease(): Lease | null {
    return this.raft.lease();
  }

  /** Resolves when every Ready handed to the disk so far is durable. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  // ---------------------------------------------------------------- inputs

  private armTimer(): void {
    if (this.stopped || !this.ticking) return;
    this.cancelTimer = this.clock.setTimer(this.tickMs, () => {
      this.cancelTimer = null;
      this.onTimer();
      this.armTimer();
    });
  }

  private onTimer(): void {
    if (this.stopped || !this.ticking) return;
    this.guard(() => {
      this.catchUpTicks();
      this.listener.ticked();
    });
    this.afterInput();
  }

  /**
   * Ticks the core until its tick count matches the clock. After a pause the
   * timer fires once, but the election clock must reflect how long we were away.
   */
  protected catchUpTicks(): void {
    const now = this.clock.now();
    const due = Math.floor((now - this.startedAt) / this.tickMs);
    while (this.ticksDone < due) {
      this.ticksDone++;
      this.raft.tick();
      this.tickTimes.record(this.raft.tickNow, now);
      this.checkRoleChange();
    }
  }

  /**
   * A message from a peer (the transport's onMessage). One no correct member
   * could send (src/raft/plausible.ts) is reported and dropped before anything,
   * the health watch included, takes it for the leader's word.
   */
  onPeerMessage(m: Message): void {
    if (this.stopped) return;
    let refused: string | null = null;
    this.guard(() => {
      this.catchUpTicks();
      refused = this.raft.implausible(m);
    });
    if (refused !== null) {
      this.listener.refused(m, refused);
    } else {
      this.events.peerMessage(m);
      this.guard(() => this.raft.step(m));
    }
    this.afterInput();
  }

  /** The transport's link to `id` broke: a leader's crash is noticed early. */
  onPeerUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.guard(() => {
      this.catchUpTicks();
      this.raft.reportUnreachable(id);
    });
    this.afterInput();
  }

  /** The transport could not deliver a snapshot to `to`. */
  onSnapshotFailure(to: NodeId): void {
    if (this.stopped) return;
    this.guard(() => this.raft.reportSnapshotFailure(to));
    this.afterInput();
  }

  propose(data: Uint8Array): ProposeResult {
    const r = this.raft.propose(data);
    this.afterInput();
    return r;
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    const r = this.raft.proposeConfChange(cc);
    this.afterInput();
    return r;
  }

  transferLeadership(to: NodeId): boolean {
    const ok = this.raft.transferLeadership(to);
    this.afterInput();
    return ok;
  }

  /** Whether this member's data directory is verified (see RaftNode.setVerified). */
  setVerified(verified: boolean): void {
    this.raft.setVerified(verified);
  }

  /** Ends a transfer in progress now (see RaftNode.cancelTransfer). */
  cancelTransfer(): void {
    this.guard(() => this.raft.cancelTransfer());
    this.afterInput();
  }

  /**
   * Resolves once the entry at `index` of `term` is applied here; rejects with
   * ProposalLostError if another entry took that index or this node stepped
   * down first (the entry may still commit later: the outcome is unknown).
   */
  waitApplied(index: number, term: number): Promise<void> {
    if (this.stopped) return Promise.reject(new ProposalLostError('node stopped'));
    return new Promise<void>((resolve, reject) =>
      this.waiters.set(index, { term, resolve, reject }),
    );
  }

  /** Rejects every waiting proposal (leadership lost, node failed). */
  rejectWaiters(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** After any input to the core: notice role changes, then process Readies soon. */
  private afterInput(): void {
    if (this.stopped) return;
    this.guard(() => this.checkRoleChange());
    if (this.processScheduled) return;
    this.processScheduled = true;
    queueMicrotask(() => {
      this.processScheduled = false;
      this.processReadies();
    });
  }

  private checkRoleChange(): void {
    const st = this.raft.status();
    const before = this.roleState;
    if (st.role === before.role && st.term === before.term && st.leader === before.leader) return;
    this.roleState = { role: st.role, term: st.term, leader: st.leader, lastIndex: st.lastIndex };
    if (before.role === 'leader' && (st.role !== 'leader' || st.term !== before.term)) {
      this.rejectWaiters(new ProposalLostError('stepped down'));
    }
    this.listener.roleChanged(this.roleState, before);
  }

  // ---------------------------------------------------------------- Ready

  private processReadies(): void {
    if (this.stopped) return;
    this.guard(() => {
      while (this.raft.hasReady()) {
        const rd = this.raft.ready();
        if (rd.softState.leader !== null && rd.softState.leader !== this.lastKnownLeader) {
          this.lastKnownLeader = rd.softState.leader;
          this.events.leaderKnown(rd.softState.leader);
        }
        this.transport.send(rd.messages);
        if (rd.snapshot !== null) {
          this.sm.load(rd.snapshot.data);
          this.listener.snapshotInstalled(rd.snapshot.meta.index);
        }
        for (const e of rd.committedEntries) this.applyEntry(e);
        this.pipeline.submit(rd);
      }
      this.maybeCompact();
    });
  }

  private onDurable(readies: Ready[]): void {
    if (this.stopped) return;
    this.guard(() => {
      for (const rd of readies) this.transport.send(rd.persistedMessages);
      this.raft.advance(readies[readies.length - 1] as Ready);
    });
    this.afterInput();
  }

  private applyEntry(e: Entry): void {
    const result = this.sm.apply(e);
    this.listener.applied(e, result);
    const w = this.waiters.get(e.index);
    if (w !== undefined) {
      this.waiters.delete(e.index);
      if (w.term === e.term) w.resolve();
      else w.reject(new ProposalLostError('superseded by another leader'));
    }
  }

  private maybeCompact(): void {
    const applied = this.sm.lastApplied;
    if (applied - this.lastCompactIndex < this.snapshotEntries) return;
    const started = this.clock.now();
    const data = this.sm.snapshot();
    this.raft.compact(applied, data);
    this.lastCompactIndex = applied;
    this.events.snapshotTaken(applied, data.length, this.clock.now() - started);
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.halt();
    this.rejectWaiters(err);
    this.listener.fatal(err);
  }
}
