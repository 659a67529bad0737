// The node runtime: drives the pure Raft core with real time, real disk and a
// real network, applies committed entries to the sequence state machine, and
// runs the leader's allocator.
//
//   timer ──tick()──┐        ┌── transport.send(rd.messages)           (now)
//   peer msg ─step()┼─> core ─ready()─> apply snapshot + committed entries
//   allocator ──────┘        └── pipeline: fsync batch ─> send rd.persistedMessages,
//     propose()                                           core.advance(rd)
//
// Everything the core needs is done in the order its Ready demands (see
// src/raft/types.ts). All inputs run on the one JS thread, so the core is
// never re-entered.

import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  BOOTSTRAP_INDEX,
  RaftNode,
  bootstrapState,
  emptyState,
  type ConfChange,
  type Entry,
  type InitialState,
  type Message,
  type NodeId,
  type Ready,
  type Role,
  type Status,
} from '../raft/index.js';
import { Allocator, NotLeaderError } from '../state/allocator.js';
import { encodeCommand, encodeMemberContext, type Command } from '../state/commands.js';
import { SequenceStateMachine, bootstrapData, type SequenceInfo } from '../state/machine.js';
import { smallest } from '../state/select.js';
import { LevelStorage } from '../storage/level.js';
import type { RaftStorage } from '../storage/storage.js';
import { GrpcTransport } from '../transport/grpc-transport.js';
import { TickClock, monotonicMs } from './clock.js';
import { createLogger, type Logger } from './logger.js';
import { NodeMetrics } from './metrics.js';
import type { NodeOptions } from './options.js';
import { PersistPipeline } from './pipeline.js';

/** A refused start, with a one-line message for the operator. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface SequenceInfoView {
  name: string;
  next: string;
  reserved: string;
  served: string;
  skipped: string;
  block: string;
}

interface Waiter {
  term: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const META_NODE_ID = 'node-id';
/**
 * How long a stopping leader waits for its handover entry to commit. A leader
 * that lost its quorum cannot commit anything; it must still exit within the
 * contract's 5 s, and the next leader then starts above the reserved blocks.
 */
const HANDOVER_COMMIT_MS = 1500;
/** A random id made when the data directory is created (see MemberCommand). */
const META_INCARNATION = 'incarnation';

/**
 * The cluster knows another incarnation of this member: its data directory
 * was lost or replaced while the cluster existed. Going on could let it vote
 * or acknowledge without the entries it once acknowledged.
 */
export class DataDirectoryReplacedError extends Error {
  override name = 'DataDirectoryReplacedError';
  constructor(id: string, dataDir: string) {
    super(
      `member ${id}: the cluster knows another data directory for this member, so ${dataDir} was lost or replaced; ` +
        `remove the member (raftseq cluster leave --id ${id}) and add it back (raftseq cluster join) with an empty data directory`,
    );
  }
}

/** How many ticks of tick→time history to keep (several election timeouts). */
const CLOCK_HISTORY_ELECTIONS = 8;

export class NodeHost {
  readonly log: Logger;
  readonly raft: RaftNode;
  readonly sm: SequenceStateMachine;
  readonly allocator: Allocator;
  readonly transport: GrpcTransport;
  readonly clock: TickClock;
  /** Prometheus metrics (served only with --metrics-listen; see metrics.ts). */
  readonly metrics: NodeMetrics;
  private readonly pipeline: PersistPipeline;
  private readonly waiters = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private ticksDone = 0;
  private role: Role = 'follower';
  private term = 0;
  private processScheduled = false;
  private stopping = false;
  private fatalError: Error | null = null;
  private lastCompactIndex: number;
  private resolveStopped!: (e: Error | null) => void;
  readonly stopped: Promise<Error | null> = new Promise((r) => (this.resolveStopped = r));
  /** Called when the node fails and must exit (set by the server layer). */
  onFatal: (err: Error) => void = () => {};
  /** Called after each leadership change (role, term, leader). */
  onLeaderChange: (s: { role: Role; term: number; leader: NodeId | null }) => void = () => {};

  private constructor(
    readonly options: NodeOptions,
    private readonly storage: RaftStorage,
    initial: InitialState,
    electionTick: number,
    readonly tickMs: number,
    /** This data directory's incarnation. */
    readonly incarnation: string,
  ) {
    this.log = createLogger(options.id, options.logLevel, () => this.term);
    this.sm =
      initial.snapshot.data.length > 0
        ? SequenceStateMachine.restore(initial.snapshot.data)
        : new SequenceStateMachine();
    const heartbeatTick = Math.max(1, Math.round(options.heartbeatIntervalMs / tickMs));
    this.raft = new RaftNode(
      {
        id: options.id,
        electionTick,
        heartbeatTick,
        rng: { int: (n: number) => randomInt(n) },
        leaseDriftTicks: Math.ceil(electionTick * options.leaseDriftFraction) + 1,
      },
      initial,
    );
    this.term = initial.hardState.term;
    this.lastCompactIndex = initial.snapshot.meta.index;
    this.clock = new TickClock(tickMs, electionTick * CLOCK_HISTORY_ELECTIONS);
    this.transport = new GrpcTransport({
      selfId: options.id,
      onMessage: (m: Message) => this.onPeerMessage(m),
      onSnapshotFailure: (to: string) => {
        this.raft.reportSnapshotFailure(to);
        this.afterInput();
      },
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      enableFaultInjection: options.enableFaultInjection,
      selfAddress: this.peerFacingAddress(),
      onUnknownPeer: (id: string, address: string) => {
        // Until the log tells us the members (a joining node knows nobody
        // before the leader's snapshot), answer whoever contacts us at the
        // address it announces.
        if (this.sm.members().has(id)) return;
        this.learnedPeers.set(id, address);
        this.log.info({ peer: id, address }, 'learned a peer address from an incoming stream');
        this.updatePeers();
      },
    });
    this.pipeline = new PersistPipeline(
      storage,
      (readies) => this.onDurable(readies),
      (err) => this.fail(new Error(`disk write failed, stopping: ${err.message}`)),
      monotonicMs,
      (ms, entries) => this.metrics.observeFsync(ms, entries),
    );
    this.allocator = new Allocator({
      sm: this.sm,
      propose: (cmd) => this.proposeCommand(cmd),
      now: monotonicMs,
      leaseValid: () => this.leaseValid(),
    });
    this.metrics = new NodeMetrics(this);
    this.updatePeers();
  }

  /** Open (or bootstrap) the data directory and build the node; not yet ticking. */
  static async open(options: NodeOptions): Promise<NodeHost> {
    mkdirSync(options.dataDir, { recursive: true });
    const storage = await LevelStorage.open(options.dataDir);
    try {
      const initial = await loadOrBootstrap(storage, options);
      const incarnation = await loadIncarnation(storage);
      const tickMs = Math.max(1, Math.min(options.heartbeatIntervalMs / 5, 20));
      const electionTick = Math.max(2, Math.round(options.electionTimeoutMs / tickMs));
      const host = new NodeHost(options, storage, initial, electionTick, tickMs, incarnation);
      host.checkIncarnation();
      return host;
    } catch (err) {
      await storage.close().catch(() => {});
      throw err;
    }
  }

  /** Start the clock. */
  start(): void {
    this.startedAt = monotonicMs();
    this.clock.record(0, this.startedAt);
    const st = this.raft.status();
    this.log.info(
      {
        commit: st.commit,
        lastIndex: st.lastIndex,
        voters: st.conf.voters,
        learners: st.conf.learners,
      },
      st.conf.voters.length === 0
        ? 'started with an empty data directory; waiting to be added to a cluster (raftseq cluster join)'
        : 'started',
    );
    this.timer = setInterval(() => this.onTimer(), this.tickMs);
    this.afterInput();
  }

  // ---------------------------------------------------------------- inputs

  private onTimer(): void {
    if (this.fatalError) return;
    const now = monotonicMs();
    // Catch up with real time: after a pause (SIGSTOP, GC) the timer fires
    // once, but the election clock must reflect how long we were away.
    const due = Math.floor((now - this.startedAt) / this.tickMs);
    try {
      while (this.ticksDone < due) {
        this.ticksDone++;
        this.raft.tick();
        this.clock.record(this.raft.tickNow, now);
        this.checkRoleChange();
      }
      this.maybePromoteLearners();
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.afterInput();
  }

  private onPeerMessage(m: Message): void {
    if (this.fatalError) return;
    this.metrics.onPeerMessage(m);
    try {
      this.raft.step(m);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.afterInput();
  }

  /** After any input to the core: notice role changes, then process Readies soon. */
  private afterInput(): void {
    this.checkRoleChange();
    if (this.processScheduled) return;
    this.processScheduled = true;
    queueMicrotask(() => {
      this.processScheduled = false;
      this.processReadies();
    });
  }

  private checkRoleChange(): void {
    const st = this.raft.status();
    if (st.role === this.role && st.term === this.term) return;
    const wasLeader = this.role === 'leader';
    this.role = st.role;
    this.term = st.term;
    if (wasLeader) {
      this.allocator.stepDown();
      this.rejectWaiters(new NotLeaderError('stepped-down'));
    }
    if (st.role === 'leader') {
      // The core appended its no-op as the last act of becoming leader, and
      // nothing else can have been proposed since: it is the last index.
      this.allocator.becomeLeader(st.term, st.lastIndex);
      this.log.info({ noopIndex: st.lastIndex }, 'became leader');
    } else if (wasLeader) {
      this.log.info({ role: st.role }, 'no longer leader');
    }
    this.onLeaderChange({ role: st.role, term: st.term, leader: st.leader });
  }

  // ---------------------------------------------------------------- Ready

  private processReadies(): void {
    if (this.fatalError) return;
    try {
      while (this.raft.hasReady()) {
        const rd = this.raft.ready();
        if (rd.softState.leader !== null && rd.softState.leader !== this.lastKnownLeader) {
          this.lastKnownLeader = rd.softState.leader;
          this.metrics.leaderChanged();
          this.log.info({ leader: rd.softState.leader }, 'leader known');
        }
        this.transport.send(rd.messages);
        if (rd.snapshot !== null) {
          this.sm.load(rd.snapshot.data);
          this.checkIncarnation();
          this.allocator.onApplied(rd.snapshot.meta.index);
          this.updatePeers();
          this.metrics.snapshotInstalled();
          this.log.info({ index: rd.snapshot.meta.index }, 'installed snapshot from leader');
        }
        for (const e of rd.committedEntries) this.applyEntry(e);
        this.pipeline.submit(rd);
      }
      this.maybeCompact();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private lastKnownLeader: NodeId | null = null;

  private onDurable(readies: Ready[]): void {
    if (this.fatalError) return;
    try {
      for (const rd of readies) this.transport.send(rd.persistedMessages);
      this.raft.advance(readies[readies.length - 1] as Ready);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.afterInput();
  }

  private applyEntry(e: Entry): void {
    const result = this.sm.apply(e);
    if (result.kind === 'command' && result.command.type === 'member') {
      if (result.command.id === this.options.id) this.checkIncarnation();
    }
    if (result.kind === 'conf') {
      this.updatePeers();
      this.log.info(
        { change: result.change, member: result.id, index: e.index },
        'membership changed',
      );
      if (result.change === 'remove' && result.id === this.options.id) {
        this.log.warn(
          'this member was removed from the cluster: it no longer votes or serves; stop it, and add it back with an empty data directory (raftseq cluster join) to reuse it',
        );
      }
    }
    this.allocator.onApplied(e.index);
    const w = this.waiters.get(e.index);
    if (w !== undefined) {
      this.waiters.delete(e.index);
      if (w.term === e.term) w.resolve();
      else w.reject(new NotLeaderError('superseded'));
    }
  }

  private maybeCompact(): void {
    const applied = this.sm.lastApplied;
    if (applied - this.lastCompactIndex < this.options.snapshotEntries) return;
    const started = monotonicMs();
    const data = this.sm.snapshot();
    this.raft.compact(applied, data);
    this.lastCompactIndex = applied;
    this.metrics.snapshotTaken();
    this.log.info(
      { index: applied, bytes: data.length, ms: Math.round(monotonicMs() - started) },
      'took snapshot and compacted the log',
    );
  }

  /** Addresses announced by peers the log does not (yet) know. */
  private readonly learnedPeers = new Map<NodeId, string>();

  /**
   * The address a peer that does not know us yet (a joining node) should
   * answer us at: our own entry in the member list, which is how the other
   * members dial us (from --initial-cluster or `cluster join --addr`). Not
   * --advertise: that is for clients and may be a published or NAT address
   * that peers cannot reach (as in deploy/docker-compose.yml).
   */
  private peerFacingAddress(): string {
    return this.sm.members().get(this.options.id) || this.options.advertise;
  }

  private updatePeers(): void {
    this.transport.setSelfAddress(this.peerFacingAddress());
    const peers = new Map(this.sm.members());
    if (peers.size === 0) for (const [id, address] of this.learnedPeers) peers.set(id, address);
    peers.delete(this.options.id);
    this.transport.setPeers(peers);
  }

  // ---------------------------------------------------------------- proposals

  /** Propose a command; resolves once it is committed and applied here. */
  proposeCommand(cmd: Command): Promise<void> {
    const r = this.raft.propose(encodeCommand(cmd));
    this.afterInput();
    if (!r.ok) return Promise.reject(new NotLeaderError('not-leader'));
    const proposedAt = monotonicMs();
    return this.waitApplied(r.index, r.term).then(() =>
      this.metrics.observeCommit(monotonicMs() - proposedAt),
    );
  }

  proposeConfChange(
    cc: ConfChange,
  ): { ok: true; index: number; term: number } | { ok: false; reason: string } {
    const r = this.raft.proposeConfChange(cc);
    this.afterInput();
    return r;
  }

  waitApplied(index: number, term: number): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.waiters.set(index, { term, resolve, reject }),
    );
  }

  private rejectWaiters(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }

  // ---------------------------------------------------------------- lease

  /**
   * Checked at the moment of answering, against the monotonic clock: the
   * lease runs from the real time at which the acknowledged round was sent.
   */
  leaseValid(): boolean {
    return this.leaseRemainingMs() > 0;
  }

  leaseRemainingMs(): number {
    const lease = this.raft.lease();
    if (lease === null) return 0;
    const sentAt = this.clock.timeOf(lease.basisTick);
    if (sentAt === undefined) return 0;
    const end = sentAt + (lease.validUntilTick - lease.basisTick) * this.tickMs;
    return Math.max(0, end - monotonicMs());
  }

  // ---------------------------------------------------------------- queries

  status(): Status {
    return this.raft.status();
  }

  memberAddress(id: NodeId): string | null {
    if (id === this.options.id) return this.options.advertise;
    return this.sm.members().get(id) ?? null;
  }

  /** The address clients are redirected to for `id`: its --advertise, as recorded in the log. */
  advertisedAddress(id: NodeId): string | null {
    if (id === this.options.id) return this.options.advertise;
    return this.sm.member(id)?.advertise || this.memberAddress(id);
  }

  /** The address clients should be redirected to, if a leader is known. */
  leaderAddress(): string | null {
    const leader = this.raft.status().leader;
    return leader === null ? null : this.advertisedAddress(leader);
  }

  // ---------------------------------------------------------------- member info

  /** Throws (fail-stop) if the log records another incarnation of this member. */
  checkIncarnation(): void {
    const known = this.sm.member(this.options.id);
    if (known !== undefined && known.incarnation !== this.incarnation) {
      throw new DataDirectoryReplacedError(this.options.id, this.options.dataDir);
    }
  }

  /**
   * Whether this member should (re-)register its incarnation and advertised
   * address: it is a member, has caught up with everything it knows to be
   * committed (so it would have seen an older record of itself), and the
   * log holds no record or a different advertised address.
   */
  needsRegistration(): boolean {
    const st = this.raft.status();
    const isMember = st.conf.voters.includes(st.id) || st.conf.learners.includes(st.id);
    if (!isMember || st.commit <= BOOTSTRAP_INDEX || this.sm.lastApplied < st.commit) return false;
    const known = this.sm.member(this.options.id);
    return known === undefined || known.advertise !== this.options.advertise;
  }

  /**
   * Leader side of RegisterMember: record a member's incarnation and address.
   * Refused when the log already holds another incarnation of it.
   */
  async registerMember(
    id: string,
    incarnation: string,
    advertise: string,
  ): Promise<'ok' | 'replaced' | 'not-member'> {
    const st = this.raft.status();
    if (!st.conf.voters.includes(id) && !st.conf.learners.includes(id)) return 'not-member';
    const known = this.sm.member(id);
    if (known !== undefined && known.incarnation !== incarnation) return 'replaced';
    if (known !== undefined && known.advertise === advertise) return 'ok';
    await this.proposeCommand({ type: 'member', id, incarnation, advertise });
    this.log.info({ member: id, advertise }, 'recorded member incarnation and address');
    return 'ok';
  }

  // ---------------------------------------------------------------- sequences

  /** The next value the leader would hand out for `name` (1 for a new sequence). */
  sequenceNext(name: string): bigint {
    // The allocator's cursor, unless an `advance` has moved the start past it
    // (the allocator catches up on its next request).
    const start = this.sm.startFor(name);
    const cursor = this.allocator.peekNext(name);
    return cursor !== null && cursor > start ? cursor : start;
  }

  sequenceInfo(name: string): SequenceInfoView | null {
    if (!this.sm.has(name)) return null;
    return this.infoView(name, this.sm.reservedUpTo(name));
  }

  sequenceInfos(after: string, limit: number): SequenceInfoView[] {
    const page = smallest(this.sequencesAfter(after), limit, (a, b) => a.sequence < b.sequence);
    return page.map((info) => this.infoView(info.sequence, info.reserved));
  }

  private *sequencesAfter(after: string): IterableIterator<SequenceInfo> {
    for (const info of this.sm.sequences()) if (info.sequence > after) yield info;
  }

  private infoView(name: string, reserved: bigint): SequenceInfoView {
    const st = this.allocator.sequenceStats(name);
    let skipped = 0n;
    if (st) for (const v of Object.values(st.skipped)) skipped += v;
    return {
      name,
      next: this.sequenceNext(name).toString(),
      reserved: reserved.toString(),
      served: (st?.served ?? 0n).toString(),
      skipped: skipped.toString(),
      block: String(st?.block ?? 0),
    };
  }

  // ---------------------------------------------------------------- membership

  /**
   * Learners are promoted to voters once they have caught up with the
   * leader's commit index: a member never votes before it holds the log.
   */
  private maybePromoteLearners(): void {
    const st = this.raft.status();
    if (st.role !== 'leader' || st.conf.learners.length === 0) return;
    for (const p of st.progress) {
      if (p.voter || !st.conf.learners.includes(p.id)) continue;
      if (p.match < st.commit) continue;
      const r = this.raft.proposeConfChange({
        type: 'promote',
        id: p.id,
        context: new Uint8Array(0),
      });
      if (r.ok)
        this.log.info({ member: p.id, index: r.index }, 'learner caught up; promoting to voter');
      return; // one change at a time
    }
  }

  // ---------------------------------------------------------------- leadership

  /**
   * Graceful hand-over: stop serving, commit the exact next value of every
   * sequence, then hand leadership to the most up-to-date voter. Resolves with
   * the new leader's id (or null if nobody took over in time).
   */
  async handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null> {
    const deadline = monotonicMs() + timeoutMs;
    const st = this.raft.status();
    if (st.role !== 'leader') return st.leader;
    const target = to ?? this.bestTransferTarget();
    if (target === null) {
      // Nobody to hand over to: still record the exact next values, so our
      // own next term (after a restart) continues without a gap.
      await this.sealAndRecord(Math.min(deadline, monotonicMs() + HANDOVER_COMMIT_MS));
      return null;
    }
    await this.sealAndRecord(Math.min(deadline, monotonicMs() + HANDOVER_COMMIT_MS));
    if (!this.raft.transferLeadership(target)) return null;
    this.afterInput();
    this.log.info({ to: target }, 'transferring leadership');
    while (monotonicMs() < deadline) {
      const now = this.raft.status();
      if (now.role !== 'leader' && now.leader !== null && now.leader !== this.options.id)
        return now.leader;
      await sleep(5);
    }
    if (!this.stopping) await this.resumeAfterFailedTransfer();
    return null;
  }

  /**
   * The transfer did not complete and we are still leader: cancel the
   * handover through the log before serving again (a later leader must not
   * inherit next values we then move past).
   */
  private async resumeAfterFailedTransfer(): Promise<void> {
    if (this.raft.status().role !== 'leader') return;
    try {
      await withTimeout(this.proposeCommand({ type: 'resume' }), 2000);
      this.allocator.unseal();
      this.log.info('leadership transfer failed; resumed serving');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not resume after failed transfer');
    }
  }

  private async sealAndRecord(deadline: number): Promise<void> {
    const items = this.allocator.seal();
    try {
      await withTimeout(this.proposeCommand({ type: 'handover', items }), deadline - monotonicMs());
      this.log.info({ sequences: items.length }, 'recorded the exact next values (handover)');
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'handover not committed; the next leader will skip the rest of the blocks',
      );
    }
  }

  private bestTransferTarget(): NodeId | null {
    const st = this.raft.status();
    let best: { id: NodeId; match: number } | null = null;
    for (const p of st.progress) {
      if (p.id === this.options.id || !p.voter) continue;
      if (best === null || p.match > best.match) best = { id: p.id, match: p.match };
    }
    return best?.id ?? null;
  }

  // ---------------------------------------------------------------- stop

  /** Graceful stop: hand over if leader, flush, close. */
  async shutdown(timeoutMs = 4000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = monotonicMs() + timeoutMs;
    if (!this.fatalError && this.raft.status().role === 'leader') {
      try {
        const next = await this.handOver(null, Math.max(0, timeoutMs - 1000));
        this.log.info({ newLeader: next }, 'handed over leadership');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'hand-over failed');
      }
    }
    this.allocator.stepDown();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await withTimeout(this.pipeline.flush(), Math.max(100, deadline - monotonicMs())).catch(
      () => {},
    );
    // Give the last messages (e.g. TimeoutNow) a moment on the wire.
    await sleep(20);
    await this.transport.close();
    await this.storage.close().catch(() => {});
    this.log.info('stopped');
    this.resolveStopped(this.fatalError);
  }

  /** Stop the node for a reason found outside the runtime (e.g. registration refused). */
  failWith(err: Error): void {
    this.fail(err);
  }

  /** Fail-stop: an impossible state or a failed fsync. Never guess. */
  private fail(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.log.fatal({ err: err.message }, 'fatal error, stopping');
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.allocator.stepDown();
    this.rejectWaiters(err);
    this.onFatal(err);
    this.resolveStopped(err);
  }
}

async function loadIncarnation(storage: RaftStorage): Promise<string> {
  const stored = await storage.getMeta(META_INCARNATION);
  if (stored !== null) return new TextDecoder().decode(stored);
  const fresh = randomBytes(8).toString('hex');
  await storage.setMeta(META_INCARNATION, new TextEncoder().encode(fresh));
  return fresh;
}

async function loadOrBootstrap(storage: RaftStorage, options: NodeOptions): Promise<InitialState> {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const ownerBytes = await storage.getMeta(META_NODE_ID);
  const owner = ownerBytes === null ? null : dec.decode(ownerBytes);
  if (owner !== null && owner !== options.id) {
    throw new StartupError(
      `data directory ${options.dataDir} belongs to member ${owner}, not ${options.id}`,
    );
  }
  const state = await storage.load();
  if (state !== null) return state;
  if (options.initialCluster === null) {
    await storage.setMeta(META_NODE_ID, enc.encode(options.id));
    return emptyState();
  }
  if (!options.initialCluster.has(options.id)) {
    throw new StartupError(`--initial-cluster does not include this node's id ${options.id}`);
  }
  const members = new Map<string, string>();
  for (const [id, address] of options.initialCluster) members.set(id, address);
  const initial = bootstrapState([...members.keys()], bootstrapData(members, 1));
  await storage.persist([
    { snapshot: initial.snapshot, compacted: null, entries: [], hardState: initial.hardState },
  ]);
  await storage.setMeta(META_NODE_ID, enc.encode(options.id));
  return initial;
}

export function memberContext(address: string): Uint8Array {
  return encodeMemberContext({ address });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out')), Math.max(0, ms));
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
