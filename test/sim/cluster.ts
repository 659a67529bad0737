// The deterministic cluster simulation (in the style of TigerBeetle's VOPR and
// FoundationDB's simulator): the real Raft core, a simulated network, disk and
// clock, and a nemesis, all in one process and driven by one seed.
//
// Time is global microsteps (TICK per nominal tick). Each node ticks at its own
// fixed rate within ±3% of nominal (re-drawn at every restart), which stays
// inside the lease's default drift allowance. Every node's Ready is processed
// as a real runtime would: `messages` go out at once, the persistent part
// becomes durable after a random fsync delay (several in flight, completing in
// order), then `persistedMessages` go out and `advance` is called. A crash
// throws away the core and every fsync still in flight; the restart builds a
// new core from the durable image.
//
// The chaos phase runs `steps` nominal ticks; then every fault is healed and
// the cluster must elect a leader and commit a fresh entry on every live voter
// within LIVENESS_TIMEOUTS election timeouts.

import { BOOTSTRAP_INDEX, bootstrapState, emptyState } from '../../src/raft/index.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  InitialState,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  Role,
  RaftNode,
} from '../../src/raft/index.js';
import { createRaftNode, type CoreMutant } from './core-mutants.js';
import { applyEntry, clientPayload, decodeApp, encodeApp, initialApp } from './app.js';
import type { AppState } from './app.js';
import { DiskImage } from './disk.js';
import { mix } from './hash.js';
import { EventHeap } from './heap.js';
import { Checker, Violation } from './invariants.js';
import { Network, TICK } from './network.js';
import { Prng } from '../support/prng.js';
import { Trace, formatMessage } from './trace.js';

export const ELECTION_TICK = 10;
export const HEARTBEAT_TICK = 1;
/** Max clock skew of a node against nominal time (the lease allows ~10% per election timeout). */
export const MAX_SKEW = 0.03;
export const LIVENESS_TIMEOUTS = 40;
export const DEFAULT_STEPS = 1000;
/** Seeds within which every mutant must be caught (the suite and `--mutant` runs). */
export const MUTANT_SEED_BUDGET = 2000;
const PROBE_BASE = 0x70000000;

export interface SimOptions {
  seed: number;
  nodes?: 3 | 5;
  mutant?: CoreMutant;
  /** Length of the chaos phase in nominal ticks. */
  steps?: number;
  /** Called with every trace line as it happens. */
  verbose?: (line: string) => void;
  traceLength?: number;
}

export interface SimStats {
  events: number;
  ticks: number;
  messages: number;
  crashes: number;
  elections: number;
  confChanges: number;
  committed: number;
  snapshotsSent: number;
  /**
   * The run ended with no leader possible because fewer than a majority of
   * the voters ever received anything beyond the bootstrap snapshot. Such
   * members refuse to vote for a candidate past the bootstrap (they cannot
   * tell "new" from "lost its data"): documented unavailability, not a bug.
   */
  bootstrapStuck: boolean;
}

export interface SimResult {
  seed: number;
  violation: Violation | null;
  stats: SimStats;
}

interface Pending {
  rd: Ready;
  at: number;
}

interface SimNode {
  id: NodeId;
  raft: RaftNode | null;
  /** Incarnation: bumps at each crash so stale events are ignored. */
  inc: number;
  /** Microsteps per tick for this incarnation. */
  period: number;
  /** Ticks of the current incarnation (the core's clock). */
  ticks: number;
  nextTickAt: number;
  disk: DiskImage;
  pending: Pending[];
  lastPersistAt: number;
  app: AppState;
  /** Its removal is committed: never re-added, stopped soon. */
  removed: boolean;
  /** Removed from the cluster and shut down for good. */
  stopped: boolean;
  /** Global time until which its lease is valid (0: no lease). */
  leaseEnd: number;
  role: Role;
  term: number;
  commit: number;
  conf: ConfState;
}

type Ev =
  | { time: number; seq: number; kind: 'tick'; node: SimNode; inc: number }
  | { time: number; seq: number; kind: 'deliver'; msg: Message }
  | { time: number; seq: number; kind: 'persist'; node: SimNode; inc: number }
  | { time: number; seq: number; kind: 'restart'; node: SimNode }
  | { time: number; seq: number; kind: 'stop'; node: SimNode }
  | { time: number; seq: number; kind: 'nemesis' }
  | { time: number; seq: number; kind: 'client' }
  | { time: number; seq: number; kind: 'compact' }
  | { time: number; seq: number; kind: 'heal' }
  | { time: number; seq: number; kind: 'liveness' }
  | {
      time: number;
      seq: number;
      kind: 'hunt';
      node: SimNode;
      inc: number;
      how: 'crash' | 'isolate';
    };

type DiskProfile = { min: number; max: number; stall: number };

export class Cluster {
  readonly rng: Prng;
  readonly net: Network;
  readonly checker = new Checker();
  readonly trace: Trace;
  private readonly heap = new EventHeap<Ev>();
  private readonly delays: number[] = [0, 0];
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly order: SimNode[] = [];
  now = 0;
  private nextId: number;
  private clientCounter = 0;
  private disk: DiskProfile = { min: 10, max: 200, stall: 0 };
  private chaos = true;
  /** While > now, every new leader is hunted (crashed or cut off soon after its election). */
  private huntUntil = 0;
  private readonly cfgBase: Pick<RaftConfig, 'maxEntriesPerMsg' | 'maxInflight'>;
  private probe: { index: number; term: number; leader: NodeId } | null = null;
  private livenessDeadline = 0;
  livenessOk = false;
  readonly stats: SimStats = {
    events: 0,
    ticks: 0,
    messages: 0,
    crashes: 0,
    elections: 0,
    confChanges: 0,
    committed: 0,
    snapshotsSent: 0,
    bootstrapStuck: false,
  };

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    this.net = new Network(this.rng.fork('net'));
    this.trace = new Trace(opts.traceLength ?? 60, opts.verbose ?? null);
    const n = opts.nodes ?? 3;
    this.nextId = n + 1;
    this.cfgBase = {
      maxEntriesPerMsg: this.rng.pick([1, 1, 2, 4, 256]),
      maxInflight: this.rng.pick([1, 2, 8, 64]),
    };
    const voters = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const boot = encodeApp(initialApp());
    for (const id of voters) this.addNode(id, bootstrapState(voters, boot));
    if (this.rng.chance(0.7)) this.net.randomizeFaults();
    this.randomizeDisk();
    this.trace.add(
      0,
      `seed ${opts.seed}: ${n} nodes, maxEntriesPerMsg ${this.cfgBase.maxEntriesPerMsg}, maxInflight ${this.cfgBase.maxInflight}${opts.mutant ? `, mutant ${opts.mutant}` : ''}`,
    );
  }

  // ------------------------------------------------------------ running

  run(): SimResult {
    const steps = this.opts.steps ?? DEFAULT_STEPS;
    const chaosEnd = steps * TICK;
    this.heap.push({ time: this.rng.range(1, 5) * TICK, kind: 'nemesis' });
    this.heap.push({ time: TICK, kind: 'client' });
    this.heap.push({ time: this.rng.range(5, 40) * TICK, kind: 'compact' });
    this.heap.push({ time: chaosEnd, kind: 'heal' });
    this.livenessDeadline = chaosEnd + LIVENESS_TIMEOUTS * ELECTION_TICK * TICK;
    let violation: Violation | null = null;
    try {
      for (;;) {
        const ev = this.heap.pop();
        if (ev === undefined) throw new Violation('liveness', 'the simulation ran out of events');
        this.now = ev.time;
        this.stats.events++;
        this.handle(ev);
        if (this.livenessOk) break;
        if (this.now > this.livenessDeadline) {
          if (this.majorityAtBootstrap()) {
            this.stats.bootstrapStuck = true;
            this.trace.add(
              this.now,
              'no quorum of voters past the bootstrap point: documented unavailability',
            );
            break;
          }
          throw new Violation(
            'liveness',
            `no fresh entry committed on every live voter within ${LIVENESS_TIMEOUTS} election timeouts after healing (${this.livenessReport()})`,
          );
        }
      }
    } catch (e) {
      violation =
        e instanceof Violation
          ? e
          : new Violation('core-threw', e instanceof Error ? (e.stack ?? e.message) : String(e));
      violation.seed = this.opts.seed;
      violation.trace = this.trace.lines();
    }
    this.stats.messages = this.net.sent;
    this.stats.committed = this.checker.maxApplied;
    return { seed: this.opts.seed, violation, stats: this.stats };
  }

  private handle(ev: Ev): void {
    switch (ev.kind) {
      case 'tick':
        return this.onTick(ev.node, ev.inc);
      case 'deliver':
        return this.onDeliver(ev.msg);
      case 'persist':
        return this.onPersist(ev.node, ev.inc);
      case 'restart':
        return this.restart(ev.node);
      case 'stop':
        return this.stop(ev.node);
      case 'nemesis':
        return this.onNemesis();
      case 'client':
        return this.onClient();
      case 'compact':
        return this.onCompact();
      case 'heal':
        return this.onHeal();
      case 'liveness':
        return this.onLiveness();
      case 'hunt':
        return this.onHunt(ev.node, ev.inc, ev.how);
    }
  }

  // ------------------------------------------------------------ nodes

  private addNode(id: NodeId, init: InitialState): SimNode {
    // The bootstrap (or empty) snapshot: nobody ever held its entries.
    this.checker.seedPrefix(
      init.snapshot.meta.index,
      init.snapshot.meta.term,
      mix(7, init.snapshot.meta.index),
    );
    const node: SimNode = {
      id,
      raft: null,
      inc: 0,
      period: TICK,
      ticks: 0,
      nextTickAt: 0,
      disk: new DiskImage(id, init, this.checker),
      pending: [],
      lastPersistAt: 0,
      app: initialApp(),
      removed: false,
      stopped: false,
      leaseEnd: 0,
      role: 'follower',
      term: 0,
      commit: 0,
      conf: { voters: [], learners: [] },
    };
    this.nodes.set(id, node);
    this.order.push(node);
    this.start(node);
    return node;
  }

  private start(node: SimNode): void {
    node.inc++;
    const skew = this.rng.chance(0.3)
      ? this.rng.pick([-MAX_SKEW, MAX_SKEW])
      : (this.rng.float() * 2 - 1) * MAX_SKEW;
    node.period = Math.round(TICK * (1 + skew));
    node.ticks = 0;
    node.pending = [];
    node.lastPersistAt = this.now;
    node.leaseEnd = 0;
    const init = node.disk.toInitialState();
    const cfg: RaftConfig = {
      id: node.id,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      rng: this.rng.fork(`core ${node.id}#${node.inc}`),
      ...this.cfgBase,
    };
    node.raft = createRaftNode(cfg, init, this.opts.mutant);
    const st = node.raft.status();
    node.role = st.role;
    node.term = st.term;
    node.commit = st.commit;
    node.conf = st.conf;
    // The application state comes back from the durable snapshot; the core
    // re-delivers the committed entries after it.
    node.app = decodeApp(init.snapshot);
    this.checker.snapshotState(
      node.id,
      init.snapshot.meta.index,
      init.snapshot.meta.term,
      node.app.hash,
    );
    node.nextTickAt = this.now + this.rng.range(1, node.period);
    this.heap.push({ time: node.nextTickAt, kind: 'tick', node, inc: node.inc });
    this.afterEvent(node);
  }

  private crash(node: SimNode, restartAfter: number): void {
    if (node.raft === null || node.stopped) return;
    const lost = node.pending.length;
    node.raft = null;
    node.inc++;
    node.pending = [];
    node.leaseEnd = 0;
    this.stats.crashes++;
    this.trace.add(
      this.now,
      `crash ${node.id}${lost > 0 ? ` (${lost} fsyncs in flight lost)` : ''}, restart in ${restartAfter}`,
    );
    this.heap.push({ time: this.now + restartAfter, kind: 'restart', node });
  }

  private restart(node: SimNode): void {
    if (node.raft !== null || node.stopped) return;
    const d = node.disk;
    this.trace.add(
      this.now,
      `restart ${node.id} (durable: term ${d.hardState.term} vote ${d.hardState.vote} commit ${d.hardState.commit}, log ${d.snapIndex}/${d.snapshot.meta.term}..${d.lastIndex()})`,
    );
    this.start(node);
  }

  private stop(node: SimNode): void {
    if (node.stopped) return;
    this.trace.add(this.now, `stop ${node.id} (removed from the cluster)`);
    node.raft = null;
    node.inc++;
    node.pending = [];
    node.leaseEnd = 0;
    node.stopped = true;
  }

  private alive(): SimNode[] {
    return this.order.filter((n) => n.raft !== null);
  }

  private running(): SimNode[] {
    return this.order.filter((n) => !n.stopped);
  }

  private leaders(): SimNode[] {
    return this.order.filter((n) => n.raft !== null && n.role === 'leader');
  }

  // ------------------------------------------------------------ core I/O

  private onTick(node: SimNode, inc: number): void {
    if (node.inc !== inc || node.raft === null) return;
    node.ticks++;
    this.stats.ticks++;
    node.nextTickAt = this.now + node.period;
    this.heap.push({ time: node.nextTickAt, kind: 'tick', node, inc });
    node.raft.tick();
    this.afterEvent(node);
  }

  private onDeliver(msg: Message): void {
    const node = this.nodes.get(msg.to);
    if (node === undefined || node.raft === null) return;
    if (this.net.isCut(msg.from, msg.to)) {
      this.trace.add(this.now, `dropped (link cut): ${formatMessage(msg)}`);
      return;
    }
    this.trace.msg(this.now, msg);
    // Messages and their entries are frozen when sent: a duplicate delivers
    // the same object twice, and no core can change a message in flight.
    node.raft.step(msg);
    this.afterEvent(node);
  }

  private send(from: SimNode, msgs: Message[]): void {
    for (const m of msgs) {
      if (m.from !== from.id)
        throw new Violation('core-output', `${from.id} sends a message from ${m.from}`);
      if (m.type === 'vote') {
        this.checker.voteRequested(from.id, m.term, from.disk.hardState);
      } else if (m.type === 'vote-resp' && m.granted) {
        this.checker.voteGranted(from.id, m.term, m.to, from.disk.hardState);
      } else if (m.type === 'append-resp' && m.success) {
        this.checker.ackSent(
          from.id,
          m.to,
          m.index,
          Math.max(from.disk.lastIndex(), from.disk.snapIndex),
        );
      } else if (m.type === 'append') {
        for (const e of m.entries) Object.freeze(e);
        Object.freeze(m.entries);
      } else if (m.type === 'snapshot') {
        this.stats.snapshotsSent++;
      }
      Object.freeze(m);
      const copies = this.net.route(m.from, m.to, this.delays);
      for (let i = 0; i < copies; i++) {
        this.heap.push({ time: this.now + (this.delays[i] as number), kind: 'deliver', msg: m });
      }
    }
  }

  /** Drains the node's Readies and checks what the event changed. */
  private afterEvent(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    while (raft.hasReady()) {
      const rd = raft.ready();
      this.onReady(node, rd);
      if (node.raft !== raft) return;
    }
    this.checkLease(node, raft);
  }

  private onReady(node: SimNode, rd: Ready): void {
    const raft = node.raft as RaftNode;
    // Soft state: role changes, election safety, leader completeness.
    const ss = rd.softState;
    if (ss.role !== node.role || ss.term !== node.term) {
      if (ss.role === 'leader') {
        const st = raft.status();
        this.stats.elections++;
        this.trace.add(
          this.now,
          `${node.id} becomes leader of term ${ss.term} (log ..${st.lastIndex}, commit ${st.commit}, voters ${st.conf.voters.join(',')})`,
        );
        this.checker.leader(node.id, ss.term);
        this.checker.leaderCompleteness(node.id, ss.term, st.lastIndex);
        node.conf = st.conf;
        if (this.chaos && this.now < this.huntUntil && this.rng.chance(0.6)) {
          this.heap.push({
            time: this.now + this.rng.range(0, 3 * TICK),
            kind: 'hunt',
            node,
            inc: node.inc,
            how: this.rng.chance(0.5) ? 'crash' : 'isolate',
          });
        }
      } else if (node.role === 'leader') {
        this.trace.add(this.now, `${node.id} steps down: ${ss.role} of term ${ss.term}`);
      } else if (ss.role === 'candidate') {
        this.trace.add(this.now, `${node.id} campaigns in term ${ss.term}`);
      }
      node.role = ss.role;
      node.term = ss.term;
    }
    if (rd.hardState !== null && rd.hardState.commit !== node.commit) {
      const c = rd.hardState.commit;
      if (ss.role === 'leader' && c > node.commit) this.checkCommitQuorum(node, raft, c);
      node.commit = c;
    }

    // 1. Persist, after a simulated fsync delay (in order with earlier ones).
    const needsDisk =
      rd.snapshot !== null ||
      rd.compacted !== null ||
      rd.entries.length > 0 ||
      rd.hardState !== null;
    for (const e of rd.entries) Object.freeze(e);
    // 2. Messages that do not wait for the disk.
    this.send(node, rd.messages);
    if (!needsDisk && node.pending.length === 0) {
      this.completePersist(node, rd);
    } else {
      const at = needsDisk
        ? Math.max(node.lastPersistAt, this.now + this.fsyncDelay())
        : Math.max(node.lastPersistAt, this.now);
      node.lastPersistAt = at;
      node.pending.push({ rd, at });
      this.heap.push({ time: at, kind: 'persist', node, inc: node.inc });
    }
    // 4. Apply the snapshot, then the committed entries.
    if (rd.snapshot !== null) this.applySnapshot(node, rd);
    for (const e of rd.committedEntries) this.applyCommitted(node, e);
  }

  private onPersist(node: SimNode, inc: number): void {
    if (node.inc !== inc || node.raft === null) return;
    const raft = node.raft;
    // Completions happen in order; several may be due at the same instant.
    while (node.pending.length > 0 && (node.pending[0] as Pending).at <= this.now) {
      const p = node.pending.shift() as Pending;
      this.completePersist(node, p.rd);
      if (node.raft !== raft) return;
    }
    this.afterEvent(node);
  }

  private completePersist(node: SimNode, rd: Ready): void {
    const raft = node.raft as RaftNode;
    node.disk.persist(rd);
    if (rd.entries.length > 0 || rd.snapshot !== null || rd.compacted !== null) {
      this.trace.fsync(this.now, node.id, rd);
    }
    // 3. Durable now: the messages that had to wait, and advance.
    this.send(node, rd.persistedMessages);
    raft.advance(rd);
  }

  private applySnapshot(node: SimNode, rd: Ready): void {
    const s = rd.snapshot!;
    if (s.meta.index < node.app.applied) {
      throw new Violation(
        'applied-monotonic',
        `${node.id} restores snapshot ${s.meta.index}/${s.meta.term} below its applied index ${node.app.applied}`,
      );
    }
    node.app = decodeApp(s);
    this.trace.add(this.now, `${node.id} applies snapshot ${s.meta.index}/${s.meta.term}`);
    this.checker.snapshotState(node.id, s.meta.index, s.meta.term, node.app.hash);
  }

  private applyCommitted(node: SimNode, e: Entry): void {
    if (e.index !== node.app.applied + 1) {
      throw new Violation(
        e.index <= node.app.applied ? 'applied-monotonic' : 'apply-gap',
        `${node.id} is handed entry ${e.index}/${e.term} to apply after applying ${node.app.applied}`,
      );
    }
    // Committed entries must already be durable locally.
    const d = node.disk;
    if (e.index > d.snapIndex && d.term(e.index) !== e.term) {
      throw new Violation(
        'apply-before-durable',
        `${node.id} applies ${e.index}/${e.term} but its durable log holds ${d.term(e.index) ?? 'nothing'} there (durable ..${d.lastIndex()})`,
      );
    }
    const first = this.checker.committedTermAt(e.index) === undefined;
    applyEntry(node.app, e);
    this.checker.applied(node.id, e, node.app.hash);
    if (first && e.type === 'conf' && e.change !== undefined) this.onConfApplied(e.change, e.index);
  }

  /** A leader advanced its commit index to `c`: a majority of its voters must hold `c` durably. */
  private checkCommitQuorum(node: SimNode, raft: RaftNode, c: number): void {
    const st = raft.status();
    const ok = (voters: NodeId[]): boolean => {
      const terms = new Map<number, number>();
      let snap = 0;
      for (const v of voters) {
        const d = this.nodes.get(v)?.disk;
        if (d === undefined) continue;
        if (d.snapIndex >= c) snap++;
        else {
          const t = d.term(c);
          if (t !== undefined) terms.set(t, (terms.get(t) ?? 0) + 1);
        }
      }
      let best = 0;
      for (const n of terms.values()) best = Math.max(best, n);
      return best + snap > voters.length / 2;
    };
    // The quorum was computed with the conf before or after this event.
    if (!ok(st.conf.voters) && !ok(node.conf.voters)) {
      throw new Violation(
        'commit-not-durable',
        `${node.id} (leader, term ${st.term}) commits ${c} but no majority of voters ${st.conf.voters.join(',')} holds it durably`,
      );
    }
    node.conf = st.conf;
  }

  /** No two nodes may hold a valid lease at the same global instant. */
  private checkLease(node: SimNode, raft: RaftNode): void {
    // Only a leader gets a lease; a node that held one is asked again after
    // stepping down (a core that keeps a stale lease is caught that way).
    if (node.role !== 'leader' && node.leaseEnd === 0) return;
    const lease = raft.lease();
    if (lease === null || node.ticks >= lease.validUntilTick) {
      node.leaseEnd = 0;
      return;
    }
    // The tick counter reaches validUntilTick at this global time.
    node.leaseEnd = node.nextTickAt + (lease.validUntilTick - node.ticks - 1) * node.period;
    for (const o of this.order) {
      if (o === node || o.raft === null || o.leaseEnd <= this.now) continue;
      throw new Violation(
        'lease-overlap',
        `${node.id} holds a lease (term ${node.term}, basis tick ${lease.basisTick}, valid until its tick ${lease.validUntilTick} = t${node.leaseEnd}) while ${o.id} (term ${o.term}) holds one until t${o.leaseEnd}`,
      );
    }
  }

  private fsyncDelay(): number {
    const d = this.disk;
    if (d.stall > 0 && this.rng.chance(d.stall)) return this.rng.range(2 * TICK, 6 * TICK);
    return this.rng.range(d.min, d.max);
  }

  private randomizeDisk(): void {
    const slow = this.rng.chance(0.4);
    this.disk = slow
      ? { min: 100, max: this.rng.range(500, 2500), stall: this.rng.pick([0, 0.01, 0.05]) }
      : { min: 5, max: this.rng.range(50, 300), stall: this.rng.pick([0, 0, 0.01]) };
  }

  // ------------------------------------------------------------ membership

  /** The first application of a membership change anywhere: it is committed. */
  private onConfApplied(cc: ConfChange, index: number): void {
    this.stats.confChanges++;
    this.trace.add(this.now, `conf change committed at ${index}: ${cc.type} ${cc.id}`);
    if (cc.type === 'remove') {
      const gone = this.nodes.get(cc.id);
      if (gone !== undefined) {
        gone.removed = true;
        this.heap.push({ time: this.now + this.rng.range(0, 30 * TICK), kind: 'stop', node: gone });
      }
    }
  }

  private membershipChange(): void {
    const leaders = this.leaders();
    if (leaders.length === 0) return;
    const leader = this.rng.pick(leaders);
    const raft = leader.raft as RaftNode;
    const conf = raft.status().conf;
    const options: ConfChange[] = [];
    const ctx = new Uint8Array(0);
    const members = new Set([...conf.voters, ...conf.learners]);
    // Add a learner: a node that never made it in, or a brand-new one.
    const idle = this.order.find((n) => !n.removed && !members.has(n.id) && n.disk.snapIndex === 0);
    if (conf.voters.length + conf.learners.length < 7) {
      options.push({ type: 'add-learner', id: idle?.id ?? `n${this.nextId}`, context: ctx });
    }
    for (const l of conf.learners)
      options.push(
        { type: 'promote', id: l, context: ctx },
        { type: 'promote', id: l, context: ctx },
      );
    for (const l of conf.learners) options.push({ type: 'remove', id: l, context: ctx });
    if (conf.voters.length > 3) {
      for (const v of conf.voters) options.push({ type: 'remove', id: v, context: ctx });
    }
    if (options.length === 0) return;
    const cc = this.rng.pick(options);
    const r = raft.proposeConfChange(cc);
    this.trace.add(
      this.now,
      `${leader.id} proposes ${cc.type} ${cc.id}: ${r.ok ? `index ${r.index}` : r.reason}`,
    );
    if (r.ok && cc.type === 'add-learner' && !this.nodes.has(cc.id)) {
      this.nextId++;
      this.addNode(cc.id, emptyState());
    }
    this.afterEvent(leader);
  }

  // ------------------------------------------------------------ workload

  private onClient(): void {
    if (!this.chaos) return;
    const leaders = this.leaders();
    if (leaders.length > 0) {
      const leader = this.rng.pick(leaders);
      const n = this.rng.chance(0.2) ? this.rng.range(2, 5) : 1;
      for (let i = 0; i < n; i++) {
        const v = ++this.clientCounter;
        const r = (leader.raft as RaftNode).propose(clientPayload(v));
        if (r.ok)
          this.trace.add(
            this.now,
            `client -> ${leader.id} reserve #${v}: index ${r.index}/${r.term}`,
          );
      }
      this.afterEvent(leader);
    }
    this.heap.push({ time: this.now + this.rng.range(TICK / 5, 3 * TICK), kind: 'client' });
  }

  private onCompact(): void {
    const alive = this.alive();
    if (alive.length > 0) {
      const node = this.rng.pick(alive);
      if (node.app.applied > node.disk.snapIndex) {
        this.trace.add(this.now, `${node.id} compacts at applied ${node.app.applied}`);
        (node.raft as RaftNode).compact(node.app.applied, encodeApp(node.app));
        this.afterEvent(node);
      }
    }
    this.heap.push({ time: this.now + this.rng.range(5, 60) * TICK, kind: 'compact' });
  }

  // ------------------------------------------------------------ nemesis

  private onNemesis(): void {
    if (!this.chaos) return;
    const r = this.rng;
    const ids = this.running().map((n) => n.id);
    const leaders = this.leaders();
    const roll = r.int(100);
    if (roll < 16) {
      this.net.heal();
      this.trace.add(this.now, 'heal network');
    } else if (roll < 26) {
      const shuffled = r.shuffle(ids);
      const cut = r.range(1, Math.max(1, Math.floor(shuffled.length / 2)));
      const a = shuffled.slice(0, cut);
      const b = shuffled.slice(cut);
      this.net.partition([a, b]);
      this.trace.add(this.now, `partition {${a.join(',')}} | {${b.join(',')}}`);
    } else if (roll < 36) {
      if (leaders.length > 0) {
        const l = r.pick(leaders);
        this.net.isolate(l.id, ids);
        this.trace.add(this.now, `isolate leader ${l.id}`);
      }
    } else if (roll < 42) {
      const id = r.pick(ids);
      this.net.isolate(id, ids);
      this.trace.add(this.now, `isolate ${id}`);
    } else if (roll < 50) {
      const k = r.range(1, 3);
      const cuts: string[] = [];
      for (let i = 0; i < k; i++) {
        const a = r.pick(ids);
        const b = r.pick(ids);
        if (a === b) continue;
        this.net.cutLink(a, b);
        cuts.push(`${a}-/->${b}`);
      }
      this.trace.add(this.now, `cut one-way ${cuts.join(' ')}`);
    } else if (roll < 62) {
      const alive = this.alive();
      if (alive.length > 0) this.crash(r.pick(alive), this.restartDelay());
    } else if (roll < 67) {
      if (leaders.length > 0) this.crash(r.pick(leaders), this.restartDelay());
    } else if (roll < 73) {
      const f = this.net.randomizeFaults();
      this.trace.add(
        this.now,
        `network: loss ${f.loss} dup ${f.duplicate} delay ${f.minDelay}..${f.maxDelay} slow ${f.slow}`,
      );
    } else if (roll < 76) {
      this.net.calm();
      this.trace.add(this.now, 'network: calm');
    } else if (roll < 84) {
      this.membershipChange();
    } else if (roll < 90) {
      if (leaders.length > 0) {
        const l = r.pick(leaders);
        const voters = (l.raft as RaftNode).status().conf.voters.filter((v) => v !== l.id);
        if (voters.length > 0) {
          const to = r.pick(voters);
          const ok = (l.raft as RaftNode).transferLeadership(to);
          this.trace.add(this.now, `${l.id} transfers leadership to ${to}: ${ok}`);
          this.afterEvent(l);
        }
      }
    } else if (roll < 94) {
      this.randomizeDisk();
      this.trace.add(
        this.now,
        `disk: fsync ${this.disk.min}..${this.disk.max}, stall ${this.disk.stall}`,
      );
    } else {
      this.huntUntil = this.now + r.range(20, 200) * TICK;
      this.trace.add(this.now, `hunting new leaders until t=${this.huntUntil}`);
    }
    this.heap.push({ time: this.now + r.range(TICK / 2, 30 * TICK), kind: 'nemesis' });
  }

  private restartDelay(): number {
    return this.rng.chance(0.3)
      ? this.rng.range(TICK / 10, 2 * TICK)
      : this.rng.range(2 * TICK, 40 * TICK);
  }

  private onHunt(node: SimNode, inc: number, how: 'crash' | 'isolate'): void {
    if (!this.chaos || node.inc !== inc || node.raft === null) return;
    if (how === 'crash') this.crash(node, this.restartDelay());
    else {
      this.net.isolate(
        node.id,
        this.running().map((n) => n.id),
      );
      this.trace.add(this.now, `isolate new leader ${node.id}`);
    }
  }

  // ------------------------------------------------------------ liveness

  private onHeal(): void {
    this.chaos = false;
    this.net.heal();
    this.net.calm();
    this.disk = { min: 5, max: 200, stall: 0 };
    this.trace.add(this.now, 'heal everything; liveness phase starts');
    for (const n of this.order) if (n.raft === null && !n.stopped) this.restart(n);
    this.heap.push({ time: this.now + TICK, kind: 'liveness' });
  }

  private onLiveness(): void {
    const leaders = this.leaders();
    const leader = leaders.length === 1 ? leaders[0] : undefined;
    if (leader !== undefined) {
      const raft = leader.raft as RaftNode;
      const st = raft.status();
      if (this.probe === null || this.probe.term !== st.term || this.probe.leader !== leader.id) {
        const value = PROBE_BASE + this.stats.events;
        const r = raft.propose(clientPayload(value));
        if (r.ok) {
          this.probe = { index: r.index, term: r.term, leader: leader.id };
          this.trace.add(this.now, `liveness probe -> ${leader.id}: index ${r.index}/${r.term}`);
          this.afterEvent(leader);
        }
      }
      // Done once the probe is committed (its first application fixed its
      // term) and every voter applied it (entry by entry or in a snapshot).
      const p = this.probe;
      if (
        p !== null &&
        this.checker.committedTermAt(p.index) === p.term &&
        st.conf.voters.every((v) => (this.nodes.get(v)?.app.applied ?? 0) >= p.index)
      ) {
        this.livenessOk = true;
        return;
      }
    }
    this.heap.push({ time: this.now + TICK, kind: 'liveness' });
  }

  /** Fewer than a majority of the voters (as the most advanced live node sees them) hold any log. */
  private majorityAtBootstrap(): boolean {
    const live = this.order.filter((n) => !n.stopped && n.raft !== null);
    if (live.length === 0) return false;
    const ref = live.reduce((a, b) =>
      (a.raft as RaftNode).status().commit >= (b.raft as RaftNode).status().commit ? a : b,
    );
    const voters = (ref.raft as RaftNode).status().conf.voters;
    const pastBootstrap = voters.filter((id) => {
      const n = this.nodes.get(id);
      return n !== undefined && n.raft !== null && n.raft.status().lastIndex > BOOTSTRAP_INDEX;
    }).length;
    return pastBootstrap < Math.floor(voters.length / 2) + 1;
  }

  private livenessReport(): string {
    return (
      this.order
        .filter((n) => !n.stopped)
        .map((n) => {
          if (n.raft === null) return `${n.id} down`;
          const st = n.raft.status();
          return `${n.id} ${st.role} t${st.term} last ${st.lastIndex} persisted ${st.persistedIndex} commit ${st.commit} applied ${n.app.applied} voters ${st.conf.voters.join(',')} learners ${st.conf.learners.join(',')}${st.leadTransferee ? ` transferee ${st.leadTransferee}` : ''}`;
        })
        .join('; ') +
      (this.probe
        ? `; probe ${this.probe.index}/${this.probe.term} on ${this.probe.leader}`
        : '; no probe')
    );
  }
}

export function runSeed(opts: SimOptions): SimResult {
  return new Cluster(opts).run();
}
