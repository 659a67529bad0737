// The node runtime, assembled from seams (as hashicorp/raft's NewRaft): the
// caller passes storage, transport, clock and randomness (NodeDeps), so the
// same code runs as `raftseq serve` (LevelDB, gRPC, real time: see
// src/server/start.ts) and under the deterministic simulator (test/sim/node).
//
// Responsibilities, one module each:
//   driver.ts      the Ready loop: ticks, steps, persists, sends, applies, advances
//   membership.ts  peers and their addresses, learner promotion, member records
//   leadership.ts  the lease and the graceful hand-over
//   queries.ts     read-only views for the admin API
//   identity.ts    the cluster id: adopted, persisted, proposed, given to the transport
//   this file      wiring, the allocator's lifecycle, proposals, start and stop

import type { ApiNode, MemberView, SequenceView, SnapshotFile } from '../api/node-api.js';
import { encodeSnapshotFileYielding } from '../backup/format.js';
import { buildInfo } from '../common/build-info.js';
import {
  RaftNode,
  type ConfChange,
  type Entry,
  type InitialState,
  type NodeId,
  type ProposeResult,
  type Status,
} from '../raft/index.js';
import { Allocator, NotLeaderError, type AllocatorTotals } from '../state/allocator.js';
import { encodeCommand, encodeMemberContext, type Command } from '../state/commands.js';
import { DecodeError } from '../state/binary.js';
import { SequenceStateMachine, type ApplyResult } from '../state/machine.js';
import { ReservationRates } from '../state/rates.js';
import { StorageCorruptError } from '../storage/errors.js';
import type { RaftStorage } from '../storage/storage.js';
import type { LinkStats, Transport } from '../transport/transport.js';
import { captureSnapshot, type SnapshotCapture } from './backup.js';
import { loadIncarnation, loadOrBootstrap, loadVerified, markVerified } from './bootstrap.js';
import { TickClock } from './clock.js';
import { ProposalLostError, ReadyDriver, type RoleState } from './driver.js';
import { NO_EVENTS, type NodeEvents } from './events.js';
import { ClusterIdentity, loadClusterId } from './identity.js';
import { Leadership } from './leadership.js';
import type { Logger } from './logger.js';
import { Membership } from './membership.js';
import type { NodeOptions } from './options.js';
import { Queries } from './queries.js';
import { sleepOn, withTimeout, type Clock, type Entropy } from './runtime.js';
import { nodeVersions, type NodeVersions } from './versions.js';

export { DataDirectoryReplacedError, StartupError } from './bootstrap.js';

/** Everything a node needs from outside: the seams. */
export interface NodeDeps {
  storage: RaftStorage;
  transport: Transport;
  clock: Clock;
  entropy: Entropy;
  log: Logger;
  /**
   * Test-only subclasses of the runtime's parts: the node simulator's mutants
   * (test/sim/node/mutants.ts) re-introduce known defects through these.
   */
  classes?: Partial<NodeClasses>;
}

export interface NodeClasses {
  Allocator: typeof Allocator;
  ReadyDriver: typeof ReadyDriver;
  Leadership: typeof Leadership;
  SequenceStateMachine: typeof SequenceStateMachine;
}

/** How many ticks of tick→time history to keep (several election timeouts). */
const CLOCK_HISTORY_ELECTIONS = 8;
/** How long the last messages (TimeoutNow) get on the wire before the transport closes. */
const LAST_MESSAGES_MS = 20;

export class NodeHost implements ApiNode {
  readonly id: NodeId;
  readonly log: Logger;
  readonly sm: SequenceStateMachine;
  readonly allocator: Allocator;
  /** How fast each sequence's reservation grows, as applied here (for backups and recovery). */
  readonly rates: ReservationRates;
  readonly tickMs: number;
  readonly tickTimes: TickClock;
  readonly clock: Clock;
  /** Metrics and other observers; set by the caller before start(). */
  events: NodeEvents = NO_EVENTS;
  private readonly driver: ReadyDriver;
  private readonly membership: Membership;
  private readonly leadership: Leadership;
  private readonly queries: Queries;
  private readonly identity: ClusterIdentity;
  private readonly storage: RaftStorage;
  private readonly transport: Transport;
  private stopping = false;
  /** How long open() took to read the storage and to decode the snapshot (the start-up log line). */
  private readonly opening = { loadMs: 0, decodeMs: 0 };
  /** The commit index the log is replayed to after start(), and when that began (null: done). */
  private replay: { to: number; from: number; since: number } | null = null;
  private fatalError: Error | null = null;
  private resolveStopped!: (e: Error | null) => void;
  readonly stopped: Promise<Error | null> = new Promise((r) => (this.resolveStopped = r));
  /** Called when the node fails and must exit (set by the server layer). */
  onFatal: (err: Error) => void = () => {};
  /** Called after each change of role, term or known leader. */
  onLeaderChange: (s: { role: Status['role']; term: number; leader: NodeId | null }) => void =
    () => {};

  private constructor(
    readonly options: NodeOptions,
    deps: NodeDeps,
    initial: InitialState,
    /** This data directory's incarnation. */
    readonly incarnation: string,
    /** Whether the cluster has confirmed it (see loadVerified). */
    private verified: boolean,
    /** The cluster id its data directory holds ('' if none: see identity.ts). */
    storedClusterId: string,
    /** When open() began, the storage already open (the driver's tick 0: see DriverOptions.since). */
    openedAt: number,
  ) {
    const classes = { Allocator, ReadyDriver, Leadership, SequenceStateMachine, ...deps.classes };
    this.id = options.id;
    this.log = deps.log;
    this.clock = deps.clock;
    this.storage = deps.storage;
    this.transport = deps.transport;
    this.tickMs = Math.max(1, Math.min(options.heartbeatIntervalMs / 5, 20));
    const electionTick = Math.max(2, Math.round(options.electionTimeoutMs / this.tickMs));
    this.tickTimes = new TickClock(this.tickMs, electionTick * CLOCK_HISTORY_ELECTIONS);
    this.sm = new classes.SequenceStateMachine();
    this.rates = new ReservationRates(this.sm, () => deps.clock.now());
    const decodeStart = deps.clock.now();
    if (initial.snapshot.data.length > 0) this.sm.load(initial.snapshot.data);
    this.opening.decodeMs = deps.clock.now() - decodeStart;
    const raft = new RaftNode(
      {
        id: options.id,
        electionTick,
        heartbeatTick: Math.max(1, Math.round(options.heartbeatIntervalMs / this.tickMs)),
        rng: { int: (n: number) => deps.entropy.int(n) },
        leaseDriftTicks: Math.ceil(electionTick * options.leaseDriftFraction) + 1,
      },
      initial,
    );
    raft.setVerified(verified);
    this.driver = new classes.ReadyDriver({
      raft,
      sm: this.sm,
      storage: deps.storage,
      transport: deps.transport,
      clock: deps.clock,
      tickMs: this.tickMs,
      tickTimes: this.tickTimes,
      events: this.forwardEvents(),
      snapshotEntries: options.snapshotEntries,
      since: openedAt,
      listener: {
        roleChanged: (now, before) => this.roleChanged(now, before),
        ticked: () => {
          this.membership.checkIncarnation();
          this.membership.maybePromoteLearners();
          this.identity.maybePropose();
        },
        applied: (e, result) => this.applied(e, result),
        snapshotInstalled: (index) => this.snapshotInstalled(index),
        refused: (m, reason) =>
          this.log.warn({ from: m.from, type: m.type }, `refused a peer message: ${reason}`),
        fatal: (err) => this.fail(err),
      },
    });
    const status = (): Status => this.driver.status();
    this.membership = new Membership({
      id: options.id,
      advertise: options.advertise,
      dataDir: options.dataDir,
      incarnation,
      sm: this.sm,
      transport: deps.transport,
      driver: this.driver,
      status,
      log: this.log,
    });
    this.allocator = new classes.Allocator({
      sm: this.sm,
      propose: (cmd) => this.proposeCommand(cmd),
      now: () => deps.clock.now(),
      leaseValid: () => this.leadership.leaseValid(),
      ...(options.maxSequences !== undefined ? { maxSequences: options.maxSequences } : {}),
    });
    this.leadership = new classes.Leadership({
      id: options.id,
      driver: this.driver,
      allocator: this.allocator,
      status,
      clock: deps.clock,
      tickMs: this.tickMs,
      tickTimes: this.tickTimes,
      log: this.log,
      proposeCommand: (cmd) => this.proposeCommand(cmd),
      stopping: () => this.stopping,
    });
    this.identity = new ClusterIdentity(
      {
        id: options.id,
        dataDir: options.dataDir,
        sm: this.sm,
        storage: deps.storage,
        transport: deps.transport,
        entropy: deps.entropy,
        status,
        propose: (cmd) => this.proposeCommand(cmd),
        fail: (err) => this.fail(err),
        log: this.log,
      },
      storedClusterId,
    );
    this.queries = new Queries(this.sm, this.allocator, this.membership, status, this.tickMs);
    deps.transport.attach({
      onMessage: (m) => this.driver.onPeerMessage(m),
      onSnapshotFailure: (to) => this.driver.onSnapshotFailure(to),
      onUnknownPeer: (id, address) => this.membership.learnPeer(id, address),
      onPeerUnreachable: (id) => this.driver.onPeerUnreachable(id),
    });
    this.membership.updatePeers();
  }

  /** The hooks the driver reports through, forwarded to whatever `events` is now. */
  private forwardEvents(): NodeEvents {
    const e = (): NodeEvents => this.events;
    return {
      fsync: (ms, entries) => e().fsync(ms, entries),
      commit: (ms) => e().commit(ms),
      leaderKnown: (leader) => {
        e().leaderKnown(leader);
        this.log.info({ leader }, 'leader known');
      },
      snapshotTaken: (index, bytes, ms) => {
        e().snapshotTaken(index, bytes, ms);
        this.log.info({ index, bytes, ms: Math.round(ms) }, 'took snapshot and compacted the log');
      },
      snapshotInstalled: (index) => e().snapshotInstalled(index),
      peerMessage: (m) => e().peerMessage(m),
      nextAnswered: (ms) => e().nextAnswered(ms),
      nextFailed: (err) => e().nextFailed(err),
      nextRejected: (outcome) => e().nextRejected(outcome),
      applied: (entry, result) => e().applied(entry, result),
    };
  }

  /**
   * Opens the node on its storage (bootstrapping an empty one from
   * --initial-cluster); not yet ticking. Refuses (StartupError,
   * DataDirectoryReplacedError) with one line for the operator.
   */
  static async open(options: NodeOptions, deps: NodeDeps): Promise<NodeHost> {
    const loadStart = deps.clock.now();
    const initial = await loadOrBootstrap(deps.storage, options);
    const loadMs = deps.clock.now() - loadStart;
    const incarnation = await loadIncarnation(deps.storage, deps.entropy);
    const verified = await loadVerified(deps.storage);
    const clusterId = await loadClusterId(deps.storage);
    let host: NodeHost;
    try {
      host = new NodeHost(options, deps, initial, incarnation, verified, clusterId, loadStart);
    } catch (e) {
      // The stored snapshot passed the record checksum but not the state
      // machine's own: refuse, naming the directory and the snapshot's index.
      if (!(e instanceof DecodeError)) throw e;
      throw new StorageCorruptError(
        options.dataDir,
        initial.snapshot.meta.index,
        `state machine ${e.message}`,
      );
    }
    host.opening.loadMs = loadMs;
    host.membership.checkIncarnation();
    return host;
  }

  /** Whether the cluster has confirmed this data directory (its votes count on their own). */
  get isVerified(): boolean {
    return this.verified;
  }

  /** The cluster confirmed this data directory's incarnation: from now on it vouches for its votes. */
  async markVerified(): Promise<void> {
    if (this.verified) return;
    await markVerified(this.storage);
    this.verified = true;
    this.driver.setVerified(true);
    this.log.info('the cluster confirmed this data directory; its votes count on their own now');
  }

  /** The term the core is in (log lines carry it). */
  get currentTerm(): number {
    return this.driver.currentTerm;
  }

  get maxCount(): number {
    return this.options.maxCount;
  }

  /** Start the clock. */
  start(): void {
    const st = this.driver.status();
    this.log.info(
      {
        commit: st.commit,
        lastIndex: st.lastIndex,
        voters: st.conf.voters,
        learners: st.conf.learners,
        sequences: this.sm.sequenceCount,
        loadMs: Math.round(this.opening.loadMs),
        decodeMs: Math.round(this.opening.decodeMs),
      },
      st.conf.voters.length === 0
        ? 'started with an empty data directory; waiting to be added to a cluster (raftseq cluster join)'
        : 'started',
    );
    if (st.commit > this.sm.lastApplied) {
      this.replay = { to: st.commit, from: this.sm.lastApplied, since: this.clock.now() };
    }
    this.driver.start();
  }

  // ---------------------------------------------------------------- driver events

  private roleChanged(now: RoleState, before: RoleState): void {
    this.leadership.roleChanged();
    const termOrRole = now.role !== before.role || now.term !== before.term;
    if (termOrRole && before.role === 'leader') {
      this.allocator.stepDown();
      this.log.info({ role: now.role }, 'no longer leader');
    }
    if (termOrRole && now.role === 'leader') {
      // The core appended its no-op as the last act of becoming leader, and
      // nothing else can have been proposed since: it is the last index.
      this.allocator.becomeLeader(now.term, now.lastIndex);
      // A node that is stopping can still win an election before it halts;
      // it must not serve (its hand-over is over) until it is gone.
      if (this.stopping) this.allocator.seal();
      this.log.info({ noopIndex: now.lastIndex, sealed: this.stopping }, 'became leader');
    }
    this.onLeaderChange({ role: now.role, term: now.term, leader: now.leader });
  }

  private applied(e: Entry, result: ApplyResult): void {
    this.events.applied(e, result);
    if (result.kind === 'command' && result.command.type === 'reserve') {
      for (const it of result.command.items) {
        this.rates.observe(it.sequence, this.sm.reservedUpTo(it.sequence));
      }
    }
    if (result.kind === 'command' && result.command.type === 'member') {
      if (result.command.id === this.id) this.membership.checkIncarnation();
    }
    if (result.kind === 'command' && result.command.type === 'cluster') this.identity.sync();
    if (result.kind === 'conf') {
      this.membership.updatePeers();
      this.log.info(
        { change: result.change, member: result.id, index: e.index },
        'membership changed',
      );
      if (result.change === 'remove' && result.id === this.id) {
        this.log.warn(
          'this member was removed from the cluster: it no longer votes or serves; stop it, and add it back with an empty data directory (raftseq cluster join) to reuse it',
        );
      }
    }
    this.allocator.onApplied(e.index);
    if (this.replay !== null && e.index >= this.replay.to) {
      this.log.info(
        {
          entries: this.replay.to - this.replay.from,
          ms: Math.round(this.clock.now() - this.replay.since),
        },
        'replayed the log up to the commit index it started with',
      );
      this.replay = null;
    }
  }

  private snapshotInstalled(index: number): void {
    this.rates.sync(); // the rows move to the new ids now, and the old names are freed
    this.identity.sync();
    this.membership.checkIncarnation();
    this.allocator.onApplied(index);
    this.membership.updatePeers();
    this.events.snapshotInstalled(index);
    this.log.info({ index }, 'installed snapshot from leader');
  }

  // ---------------------------------------------------------------- proposals

  /** Propose a command; resolves once it is committed and applied here. */
  proposeCommand(cmd: Command): Promise<void> {
    const r = this.driver.propose(encodeCommand(cmd));
    if (!r.ok) return Promise.reject(new NotLeaderError('not-leader'));
    const proposedAt = this.clock.now();
    return this.driver.waitApplied(r.index, r.term).then(
      () => this.events.commit(this.clock.now() - proposedAt),
      (err: unknown) => {
        throw err instanceof ProposalLostError ? new NotLeaderError('superseded') : err;
      },
    );
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.driver.proposeConfChange(cc);
  }

  waitApplied(index: number, term: number): Promise<void> {
    return this.driver.waitApplied(index, term);
  }

  // ---------------------------------------------------------------- ApiNode

  status(): Status {
    return this.driver.status();
  }

  nextRejected(outcome: string): void {
    this.events.nextRejected(outcome);
  }

  async next(
    sequence: string,
    count: number,
    opts: { signal?: AbortSignal },
  ): Promise<{ first: bigint; count: number }> {
    const started = this.clock.now();
    try {
      const r = await this.allocator.next(sequence, count, opts);
      this.events.nextAnswered(this.clock.now() - started);
      return r;
    } catch (err) {
      this.events.nextFailed(err);
      throw err;
    }
  }

  leaseValid(): boolean {
    return this.leadership.leaseValid();
  }

  /** Per-peer link figures from the transport. */
  linkStats(): Record<NodeId, LinkStats> {
    return this.transport.stats();
  }

  /** Incoming Raft streams refused, by reason (the transport's count). */
  peerRefusals(): Readonly<Record<string, number>> {
    return this.transport.refusals();
  }

  /** The cluster this member belongs to ('' while it has none: see identity.ts). */
  clusterId(): string {
    return this.identity.id;
  }

  leaseRemainingMs(): number {
    return this.leadership.leaseRemainingMs();
  }

  versions(): NodeVersions {
    return nodeVersions(this.id, this.driver.status().conf.voters, this.transport.stats());
  }

  memberAddress(id: NodeId): string | null {
    return this.membership.memberAddress(id);
  }

  advertisedAddress(id: NodeId): string | null {
    return this.membership.advertisedAddress(id);
  }

  leaderAddress(): string | null {
    const leader = this.driver.status().leader;
    return leader === null ? null : this.membership.advertisedAddress(leader);
  }

  members(): MemberView[] {
    return this.queries.members();
  }

  appliedIndex(): number {
    return this.sm.lastApplied;
  }

  sequenceCount(): number {
    return this.sm.sequenceCount;
  }

  totals(): AllocatorTotals {
    return this.allocator.totals();
  }

  sequenceNext(name: string): bigint {
    return this.queries.sequenceNext(name);
  }

  sequenceInfo(name: string): SequenceView | null {
    return this.queries.sequenceInfo(name);
  }

  sequenceInfos(after: string, limit: number): SequenceView[] {
    return this.queries.sequenceInfos(after, limit);
  }

  /**
   * A consistent copy of every sequence with its rate, at an index committed
   * after the call (see backup.ts). Leader only: NotLeaderError elsewhere.
   */
  captureSnapshot(): Promise<SnapshotCapture> {
    return captureSnapshot({
      status: () => this.driver.status(),
      sm: this.sm,
      leaseValid: () => this.leadership.leaseValid(),
      rate: (sequence) => this.rateOf(sequence),
      clock: this.clock,
    });
  }

  /** captureSnapshot(), encoded as a backup file. */
  async snapshotFile(): Promise<SnapshotFile> {
    const c = await this.captureSnapshot();
    const data = await encodeSnapshotFileYielding(
      {
        clusterId: this.clusterId(),
        index: c.index,
        term: c.term,
        savedAt: new Date(c.savedAtMs).toISOString(),
        member: c.member,
        version: buildInfo().version,
      },
      c.sequences,
      () => sleepOn(this.clock, 0),
    );
    return { data, index: c.index, term: c.term, sequences: c.sequences.length };
  }

  /**
   * The faster of the two rates this node knows for a sequence: the
   * reservation's growth (every node) and, on the leader, the allocator's
   * last-second rate of values served. The higher one skips more on
   * recovery, never too little.
   */
  rateOf(sequence: string): number {
    return Math.max(this.allocator.rate(sequence), this.rates.rate(sequence));
  }

  advance(name: string, to: bigint): Promise<void> {
    this.allocator.assertRoomFor(name);
    return this.proposeCommand({ type: 'advance', sequence: name, to });
  }

  handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null> {
    return this.leadership.handOver(to, timeoutMs);
  }

  needsRegistration(): boolean {
    return this.membership.needsRegistration(this.verified);
  }

  registerMember(
    id: NodeId,
    incarnation: string,
    advertise: string,
  ): Promise<'ok' | 'replaced' | 'not-member'> {
    return this.membership.registerMember(id, incarnation, advertise, (cmd) =>
      this.proposeCommand(cmd),
    );
  }

  // ---------------------------------------------------------------- stop

  /** Graceful stop: hand over if leader, flush, close. */
  async shutdown(timeoutMs = 4000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.leadership.roleChanged(); // a hand-over waiting to resume gives up
    const deadline = this.clock.now() + timeoutMs;
    if (!this.fatalError && this.driver.status().role === 'leader') {
      try {
        const next = await this.leadership.handOver(null, Math.max(0, timeoutMs - 1000));
        this.log.info({ newLeader: next }, 'handed over leadership');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'hand-over failed');
      }
    }
    this.allocator.stepDown();
    this.driver.stopTicking();
    await withTimeout(
      this.clock,
      this.driver.flush(),
      Math.max(100, deadline - this.clock.now()),
      'flush',
    ).catch(() => {}); // a flush that cannot finish in time is lost like a crash's
    await sleepOn(this.clock, LAST_MESSAGES_MS);
    this.driver.halt();
    await this.transport.close();
    await this.storage.close().catch(() => {}); // closing is best effort; what was durable stays
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
    this.driver.halt();
    this.driver.rejectWaiters(err);
    this.allocator.stepDown();
    this.onFatal(err);
    this.resolveStopped(err);
  }
}

export function memberContext(address: string): Uint8Array {
  return encodeMemberContext({ address });
}
