// The whole-node world of the deterministic simulator: 3 or 5 real NodeHosts
// (the real allocator, state machine, hand-over, lease, membership and
// registration code) on SimCluster's simulated disks, network and clocks;
// simulated clients and operators call the real gRPC handlers. One seed
// drives everything.
//
// Faults, chosen by the seed: kill -9 and restart; graceful stop (SIGTERM)
// and restart; partitions, one-way cuts, loss, duplication, delay and
// reordering; slow and stalling fsync; event-loop stalls (timers frozen while
// inputs queue, then the queue runs before the timers catch up); clock drift
// within the configured bound; transfers, removals (the leader too), joins
// and advances, some sent twice or concurrently, the way an operator and a
// retrying CLI do; a member restarted with an emptied data directory and its
// bootstrap flags; a storage engine that drops a record on recovery; a power
// loss (of one member or all), which drops every write made without an
// fsync since the last one that had it (commit-only persists). After
// the chaos phase everything heals, an operator replaces refused members
// (remove, wipe, join), and every sequence must be served again within a
// bounded number of election timeouts.

import type { NodeEvents } from '../../../src/node/events.js';
import { NO_EVENTS } from '../../../src/node/events.js';
import {
  DEFAULT_MAX_LAG_ENTRIES,
  LeaderWatch,
  healthFacts,
  judgeHealth,
} from '../../../src/node/health.js';
import type { NodeHost } from '../../../src/node/host.js';
import { BOOTSTRAP_INDEX, type Message } from '../../../src/raft/index.js';
import { StorageCorruptError } from '../../../src/storage/errors.js';
import { Violation } from '../invariants.js';
import type { Outcome } from './calls.js';
import { NodeChecker, type SequenceStart } from './checker.js';
import { callWithRetries } from './client.js';
import {
  ELECTION_MS,
  SimCluster,
  addressOf,
  type Proc,
  type SimClusterOptions,
  type Slot,
} from './cluster.js';
import { MS, SECOND, settle } from './scheduler.js';

/** Default chaos phase, in simulated seconds. */
export const DEFAULT_CHAOS_S = 30;
/** Seeds within which every node-level mutant must be caught. */
export const NODE_MUTANT_SEED_BUDGET = 1000;
/** After healing, every sequence must be served again within this many election timeouts. */
export const LIVENESS_TIMEOUTS = 40;
const CLIENTS = 3;
const SEQUENCES = ['orders', 'invoices', 'tickets'];

export interface NodeSimOptions extends Pick<
  SimClusterOptions,
  'classes' | 'checkDurable' | 'mustSync' | 'verbose' | 'traceLength'
> {
  seed: number;
  nodes?: 3 | 5;
  mutant?: string;
  /** Simulated seconds of chaos. */
  chaosSeconds?: number;
}

export interface NodeSimStats {
  events: number;
  simulatedSeconds: number;
  elections: number;
  crashes: number;
  gracefulStops: number;
  stalls: number;
  wipes: number;
  lostRecords: number;
  powerLosses: number;
  adminCalls: number;
  okAnswers: number;
  valuesIssued: number;
  /** The run ended unavailable by the documented bootstrap vote rule. */
  bootstrapStuck: boolean;
}

export interface NodeSimResult {
  seed: number;
  violation: Violation | null;
  stats: NodeSimStats;
}

export class NodeWorld extends SimCluster {
  readonly checker = new NodeChecker();
  private chaos = true;
  private nextId: number;
  private livenessOk = false;
  readonly stats: NodeSimStats = {
    events: 0,
    simulatedSeconds: 0,
    elections: 0,
    crashes: 0,
    gracefulStops: 0,
    stalls: 0,
    wipes: 0,
    lostRecords: 0,
    powerLosses: 0,
    adminCalls: 0,
    okAnswers: 0,
    valuesIssued: 0,
    bootstrapStuck: false,
  };

  constructor(private readonly world: NodeSimOptions) {
    const n = world.nodes ?? 3;
    super({
      ...world,
      ids: Array.from({ length: n }, (_, i) => `n${i + 1}`),
      snapshotEntries: [8, 32, 200, 10_000][world.seed % 4] as number,
    });
    this.nextId = n + 1;
    if (this.rng.chance(0.5)) this.net.randomizeFaults();
    this.randomizeDisk();
    this.log(
      `seed ${world.seed}: ${n} nodes, snapshot every ${this.snapshotEntries} entries${world.mutant ? `, mutant ${world.mutant}` : ''}`,
    );
  }

  // ---------------------------------------------------------------- SimCluster hooks

  protected override answered(
    slot: Slot,
    proc: Proc,
    service: string,
    method: string,
    request: Record<string, unknown>,
    o: Outcome,
  ): void {
    if (service !== 'Sequencer' || method !== 'Next' || o.code !== 0) return;
    const first = BigInt(o.value!['first'] as string);
    const count = o.value!['count'] as number;
    this.check(() => this.checkLeases(slot, proc));
    this.check(() => this.checkHealth(slot, proc));
    this.check(() =>
      this.checker.served(
        request['sequence'] as string,
        first,
        count,
        slot.id,
        `${slot.id} (term ${proc.host?.currentTerm})`,
      ),
    );
  }

  protected override started(slot: Slot, proc: Proc, host: NodeHost, bootedAt: number): void {
    if (slot.damaged) this.check(() => this.checker.startedWithLostRecords(slot.id));
    host.onLeaderChange = (s) => {
      if (s.role !== 'leader' || !proc.alive) return;
      this.stats.elections++;
      this.check(() => {
        this.checker.leader(s.term, `${slot.id}#${proc.inc}`);
        this.checker.stillEmptied((id) => this.appliedOf(id));
        const st = host.status();
        this.checker.elected(slot.id, s.term, st.conf.voters, bootedAt, st.lastIndex);
      });
    };
  }

  protected override failed(slot: Slot, proc: Proc, err: Error): void {
    // Only a store that lost records may be refused as damaged: never one
    // that went through kill -9 or a power loss alone.
    if (err instanceof StorageCorruptError && !slot.damaged) {
      this.check(() => {
        throw new Violation(
          'intact-store-refused',
          `${slot.id} refuses an intact store: ${err.message}`,
        );
      });
    }
    super.failed(slot, proc, err);
    // The operator is on it once the faults healed.
    if (slot.state === 'refused' && !this.chaos) this.replace(slot);
  }

  // ---------------------------------------------------------------- running

  async run(): Promise<NodeSimResult> {
    const chaosEnd = (this.world.chaosSeconds ?? DEFAULT_CHAOS_S) * SECOND;
    const deadline = chaosEnd + LIVENESS_TIMEOUTS * ELECTION_MS * MS;
    let violation: Violation | null = null;
    try {
      for (const s of this.slots.values()) this.boot(s);
      for (let c = 0; c < CLIENTS; c++) void this.clientLoop(c);
      this.sched.after(this.rng.range(200, 2000) * MS, () => this.nemesis());
      this.sched.at(chaosEnd, () => this.heal());
      await settle(); // the boots schedule their first writes at time 0
      for (;;) {
        if (!(await this.sched.step())) {
          throw new Violation('liveness', 'the simulation ran out of events');
        }
        if (this.failure !== null) throw this.failure;
        if (this.livenessOk) break;
        if (this.sched.now > deadline) {
          if (this.majorityAtBootstrap()) {
            this.stats.bootstrapStuck = true;
            this.log(
              'fewer than a majority of voters can vouch for their logs: documented unavailability',
            );
            break;
          }
          throw new Violation(
            'liveness',
            `after healing, not every sequence was served again within ${LIVENESS_TIMEOUTS} election timeouts (${this.report()})`,
          );
        }
      }
    } catch (e) {
      violation =
        e instanceof Violation
          ? e
          : new Violation('node-threw', e instanceof Error ? (e.stack ?? e.message) : String(e));
      violation.seed = this.opts.seed;
      violation.trace = this.trace.lines();
    } finally {
      this.chaos = false;
      this.stopEverything();
    }
    this.stats.events = this.sched.events;
    this.stats.simulatedSeconds = Math.round(this.sched.now / SECOND);
    this.stats.okAnswers = this.checker.okAnswers;
    this.stats.valuesIssued = Number(this.checker.valuesIssued);
    return { seed: this.opts.seed, violation, stats: this.stats };
  }

  protected override eventsFor(slot: Slot, proc: Proc): NodeEvents {
    return {
      ...NO_EVENTS,
      applied: (entry, result) => {
        if (!proc.alive) return;
        const host = proc.host!;
        const starts = (): SequenceStart[] =>
          [...host.sm.sequences()].map(({ sequence, start }) => ({ sequence, start }));
        let kind: Parameters<NodeChecker['applied']>[1];
        if (result.kind === 'noop') kind = result;
        else if (result.kind === 'command' && result.ignored === undefined) {
          const c = result.command;
          if (c.type === 'advance') kind = { kind: 'advance', sequence: c.sequence, to: c.to };
          else if (c.type === 'handover' || c.type === 'resume') kind = { kind: c.type };
          else kind = { kind: 'other' };
        } else kind = { kind: 'other' };
        this.check(() => this.checker.applied(entry.index, kind, starts, slot.id));
      },
    };
  }

  /**
   * A node just answered a Next: it must hold a valid lease by its own clock,
   * and no other node may hold one at this same instant (global time).
   */
  private checkLeases(slot: Slot, proc: Proc): void {
    const host = proc.host!;
    if (!host.leaseValid()) {
      throw new Violation(
        'served-without-lease',
        `${slot.id} (term ${host.currentTerm}) answered a Next without a valid lease`,
      );
    }
    for (const other of this.slots.values()) {
      const h = other.proc?.alive === true ? other.proc.host : null;
      if (other === slot || h == null || !h.leaseValid()) continue;
      throw new Violation(
        'lease-overlap',
        `${slot.id} (term ${host.currentTerm}) answered a Next while ${other.id} (term ${h.currentTerm}) also held a valid lease (${Math.round(h.leaseRemainingMs())} ms left)`,
      );
    }
  }

  /**
   * A node just answered a Next: its health (the pure decision behind gRPC
   * health "raftseq.v1.Sequencer", judged on its state at this instant) must
   * say it serves Next, so a balancer that trusts it sends Next there.
   */
  private checkHealth(slot: Slot, proc: Proc): void {
    const host = proc.host!;
    // The leader's verdict does not depend on what it heard from a leader.
    const facts = healthFacts(host, new LeaderWatch(() => host.clock.now()));
    const v = judgeHealth(facts, {
      maxLagEntries: DEFAULT_MAX_LAG_ENTRIES,
      maxLeaderSilenceMs: host.options.electionTimeoutMs,
    });
    if (!v.sequencer.ok) {
      throw new Violation(
        'health-disagrees',
        `${slot.id} (term ${host.currentTerm}) answered a Next while its health said: ${v.sequencer.reason}`,
      );
    }
  }

  /** Every message a node sends passes here first. */
  protected override sent(slot: Slot, m: Message): void {
    if (m.type === 'vote-resp' && m.granted) {
      const applied = slot.proc?.host?.sm.lastApplied ?? 0;
      this.check(() => this.checker.voteGranted(slot.id, m.to, m.term, applied, this.sched.now));
    } else if (m.type === 'append-resp' && m.success) {
      this.check(() => this.checker.acked(slot.id));
    }
  }

  // ---------------------------------------------------------------- clients

  private async clientLoop(c: number): Promise<void> {
    const rng = this.rng.fork(`client ${c}`);
    let leader: string | null = null;
    while (this.chaos || !this.livenessOk) {
      const pick = (): { sequence: string; count: number } => ({
        sequence: rng.chance(0.03) ? `s${rng.int(1000)}` : rng.pick(SEQUENCES),
        count: rng.chance(0.2) ? rng.range(2, 50) : 1,
      });
      if (leader !== null && rng.chance(0.3)) {
        // Pipelined over one NextStream, as SequenceClient does with calls
        // in flight; a request that fails there goes the unary way.
        const batch = Array.from({ length: rng.range(2, 8) }, pick);
        const failed = await this.streamBatch(c, leader, batch);
        for (const req of failed) leader = await this.unaryNext(c, req, leader);
      } else {
        leader = await this.unaryNext(c, pick(), leader);
      }
      await this.sleep(rng.range(0, 200) * MS);
    }
  }

  /** One Next with SequenceClient's retries; returns the leader it reached (or null). */
  private async unaryNext(
    c: number,
    { sequence, count }: { sequence: string; count: number },
    leader: string | null,
  ): Promise<string | null> {
    const floor = this.checker.invoke(sequence);
    const r = await this.call('Sequencer', 'Next', { sequence, count }, { start: leader });
    if (r.outcome.code !== 0) return null;
    const first = BigInt(r.outcome.value!['first'] as string);
    this.check(() =>
      this.checker.ok(sequence, first, count, floor, `client ${c} via ${r.endpoint}`),
    );
    return r.endpoint;
  }

  /**
   * Sends `batch` over one NextStream to `leader`, each request with a 3 s
   * timeout; resolves with the requests that did not succeed there.
   */
  private streamBatch(
    c: number,
    leader: string,
    batch: { sequence: string; count: number }[],
  ): Promise<{ sequence: string; count: number }[]> {
    return new Promise((resolve) => {
      const pending = new Map<string, { sequence: string; count: number; floor: bigint }>();
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        stream.cancel();
        resolve([...pending.values()]);
      };
      const stream = this.openStream(
        leader,
        (answer) => {
          const id = answer['id'] as string;
          const req = pending.get(id);
          if (req === undefined || done) return;
          if (answer['code'] !== 0) return; // retried on the unary path
          pending.delete(id);
          const first = BigInt(answer['first'] as string);
          this.check(() =>
            this.checker.ok(
              req.sequence,
              first,
              req.count,
              req.floor,
              `client ${c} via stream to ${leader}`,
            ),
          );
          if (pending.size === 0) finish();
        },
        () => finish(),
      );
      batch.forEach((req, i) => {
        const id = `${c}-${this.sched.now}-${i}`;
        pending.set(id, { ...req, floor: this.checker.invoke(req.sequence) });
        stream.write({ id, sequence: req.sequence, count: req.count, timeout_ms: 3000 });
      });
      stream.end();
      this.sched.after(3500 * MS, finish);
    });
  }

  /** An operator's (or a retrying CLI's) admin call. */
  private admin(method: string, request: Record<string, unknown>): void {
    this.stats.adminCalls++;
    const label = `${method} ${JSON.stringify(request)}`;
    this.log(`operator: ${label}`);
    void callWithRetries(this, 'Cluster', method, request).then((r) =>
      this.log(
        `operator: ${label} -> ${r.outcome.code === 0 ? 'ok' : `${r.outcome.code} ${r.outcome.details}`}`,
      ),
    );
  }

  // ---------------------------------------------------------------- nemesis

  private nemesis(): void {
    if (!this.chaos) return;
    const r = this.rng;
    const ids = [...this.slots.values()].filter((s) => s.state !== 'removed').map((s) => s.id);
    const up = this.up();
    const leaders = this.leaders();
    const roll = r.int(100);
    if (roll < 10) {
      this.net.heal();
      this.log('heal network');
    } else if (roll < 17) {
      const shuffled = r.shuffle(ids);
      const cut = r.range(1, Math.max(1, Math.floor(shuffled.length / 2)));
      this.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      this.log(`partition ${this.net.describe()}`);
    } else if (roll < 23) {
      const l = leaders.length > 0 ? r.pick(leaders).id : r.pick(ids);
      this.net.isolate(l, ids);
      this.log(`isolate ${l}`);
    } else if (roll < 27) {
      const a = r.pick(ids);
      const b = r.pick(ids);
      this.net.cutLink(a, b);
      this.log(`cut ${a} -/-> ${b}`);
    } else if (roll < 31) {
      const f = this.net.randomizeFaults();
      this.log(`network: loss ${f.loss} dup ${f.duplicate} delay ${f.minDelay}..${f.maxDelay}`);
    } else if (roll < 33) {
      this.net.calm();
      this.log('network: calm');
    } else if (roll < 41) {
      const victim =
        leaders.length > 0 && r.chance(0.5) ? r.pick(leaders) : up.length > 0 ? r.pick(up) : null;
      if (victim !== null) this.crashAndRestart(victim);
    } else if (roll < 48) {
      const victim =
        leaders.length > 0 && r.chance(0.7) ? r.pick(leaders) : up.length > 0 ? r.pick(up) : null;
      if (victim !== null) this.gracefulRestart(victim);
    } else if (roll < 54) {
      const victim =
        leaders.length > 0 && r.chance(0.6) ? r.pick(leaders) : up.length > 0 ? r.pick(up) : null;
      if (victim !== null) {
        const ms = r.chance(0.5) ? r.range(20, 400) : r.range(400, 3 * ELECTION_MS);
        this.stats.stalls++;
        this.stall(victim.id, ms);
      }
    } else if (roll < 58) {
      this.stallBesideCutLink();
    } else if (roll < 62) {
      this.randomizeDisk();
      this.log(`disk: fsync ${this.disk.minMs}..${this.disk.maxMs} ms, stall ${this.disk.stall}`);
    } else if (roll < 74) {
      this.transferNemesis();
    } else if (roll < 80) {
      this.removeNemesis();
    } else if (roll < 85) {
      this.joinNemesis();
    } else if (roll < 90) {
      const sequence = r.pick(SEQUENCES);
      this.admin('AdvanceSequence', {
        name: sequence,
        to: String(this.checker.invoke(sequence) + BigInt(r.range(1, 5000))),
      });
    } else if (roll < 93) {
      this.wipeNemesis();
    } else if (roll < 96) {
      this.loseRecordNemesis();
    } else {
      this.powerLossNemesis();
    }
    this.sched.after(r.range(300, 3000) * MS, () => this.nemesis());
  }

  /**
   * A GC pause on one follower while the leader's link to another is cut,
   * and, as the pause ends, the leader's messages to the paused one start
   * getting lost too (its answers still arrive). The paused follower answers
   * the heartbeats that queued during the pause, which extends the leader's
   * lease from their send times; the other follower stops hearing from the
   * leader and asks for votes. The paused one must keep its promise not to
   * vote until an election timeout after it received them.
   */
  private stallBesideCutLink(): void {
    const leader = this.leaders()[0];
    const followers = this.up().filter((s) => s !== leader);
    if (leader === undefined || followers.length < 2) return;
    const [paused, cut] = this.rng.shuffle(followers) as [Slot, Slot];
    this.net.cutLink(leader.id, cut.id);
    this.net.cutLink(cut.id, leader.id);
    const ms = this.rng.range(ELECTION_MS / 4, ELECTION_MS);
    this.log(`cut ${leader.id} <-/-> ${cut.id}`);
    this.stats.stalls++;
    this.stall(paused.id, ms);
    this.sched.after(ms * MS, () => {
      // Not once the faults healed: a cut left standing in the liveness
      // phase could make progress impossible (seed 15837 of a 20,000 run).
      if (!this.chaos) return;
      this.net.cutLink(leader.id, paused.id);
      this.log(`cut ${leader.id} -/-> ${paused.id}`);
    });
  }

  /** TransferLeadership: sometimes twice at once, sometimes retried as the first times out. */
  private transferNemesis(): void {
    const voters = this.voters();
    const to = this.rng.chance(0.3) || voters.length === 0 ? '' : this.rng.pick(voters);
    this.admin('TransferLeadership', { to });
    const r = this.rng.int(3);
    if (r === 0)
      this.sched.after(this.rng.range(0, 500) * MS, () => this.admin('TransferLeadership', { to }));
    if (r === 1) {
      // The CLI's attempt times out at 3 s and a human retries right then.
      this.sched.after(this.rng.range(2800, 3300) * MS, () =>
        this.admin('TransferLeadership', { to: '' }),
      );
    }
  }

  private removeNemesis(): void {
    const voters = this.voters();
    const leaders = this.leaders();
    if (voters.length === 0) return;
    const id =
      leaders.length > 0 && this.rng.chance(0.5) ? (leaders[0] as Slot).id : this.rng.pick(voters);
    const force = voters.length <= 3 ? false : this.rng.chance(0.5);
    if (voters.length <= 3 && !this.rng.chance(0.2)) return; // keep 3 voters most of the time
    this.admin('RemoveMember', { id, force });
    if (this.rng.chance(0.4)) {
      this.sched.after(this.rng.range(0, 3300) * MS, () =>
        this.admin('RemoveMember', { id, force }),
      );
    }
  }

  private joinNemesis(): void {
    const members = [...this.slots.values()].filter((s) => s.state !== 'removed').length;
    if (members >= 7) return;
    const id = `n${this.nextId++}`;
    const slot = this.addSlot(id, null);
    this.boot(slot);
    this.admin('AddMember', { id, address: addressOf(id), advertise: addressOf(id) });
  }

  /** kill -9 a member, empty its data directory, restart it with its bootstrap flags. */
  private wipeNemesis(): void {
    const candidates = this.loseable().filter((s) => s.initialCluster !== null);
    if (candidates.length === 0 || !this.mayLoseData()) return;
    const slot = this.rng.pick(candidates);
    const proc = slot.proc!;
    const applied = proc.host?.sm.lastApplied ?? 0;
    const commit = proc.host?.status().commit ?? 0;
    this.stats.wipes++;
    this.kill(slot, proc);
    slot.storage = this.newStorage(slot.id);
    this.check(() =>
      this.checker.memberEmptied(slot.id, Math.max(applied, commit), this.sched.now),
    );
    this.log(`${slot.id} killed; its data directory is emptied (it had applied ${applied})`);
    this.sched.after(this.rng.range(100, 3000) * MS, () => this.boot(slot));
  }

  /** Whether one more member may lose data: the contract holds while a majority keeps it. */
  private mayLoseData(): boolean {
    if ([...this.slots.values()].some((s) => s.state === 'refused' || s.damaged)) return false;
    // Every voter can vouch for its log (see majorityAtBootstrap): data is
    // lost in a cluster that has formed, not while a member never caught up.
    const voters = this.voters();
    if (voters.some((id) => this.slots.get(id)?.proc?.host?.isVerified !== true)) return false;
    return this.checker.stillEmptied((id) => this.appliedOf(id)).length === 0;
  }

  /**
   * Members whose data may be lost now: up, past the bootstrap point and
   * verified. (Members whose directories the cluster has not verified yet
   * vouch for nothing, by design: a founding member lost before the
   * cluster's first election and first registrations stalls it for good, and
   * the operator simply creates the cluster again, as nothing was committed.)
   */
  private loseable(): Slot[] {
    return this.up().filter(
      (s) =>
        s.proc?.host?.isVerified === true &&
        (s.proc.host.status().lastIndex ?? 0) > BOOTSTRAP_INDEX,
    );
  }

  /**
   * kill -9 a member; on restart its storage engine drops its last record,
   * or one before it, as LevelDB's recovery does with a record whose checksum
   * fails. Such a member must refuse to start.
   */
  private loseRecordNemesis(): void {
    const candidates = this.loseable();
    if (candidates.length === 0 || !this.mayLoseData()) return;
    const slot = this.rng.pick(candidates);
    const which = this.rng.chance(0.5) ? 'tail' : 'middle';
    this.kill(slot, slot.proc!, (s) => s.reopen({ lose: which, pick: (n) => this.rng.int(n) }));
    const problem = slot.storage.durableProblem();
    slot.damaged = problem !== null;
    this.stats.lostRecords++;
    this.log(
      `kill -9 ${slot.id}; its storage loses its ${which} record on recovery (${problem ?? 'nothing that matters'})`,
    );
    this.sched.after(this.restartDelayUs(), () => this.boot(slot));
  }

  /**
   * Power loss of one member, or of every member at once: the process dies
   * and its storage drops every write made without an fsync since the last
   * synced one (the commit index it learnt since). That loses nothing Raft
   * promised to keep, so the store must start again: a durability check
   * that refuses it is a violation.
   */
  private powerLossNemesis(): void {
    const up = this.up();
    if (up.length === 0) return;
    const victims = this.rng.chance(0.25) ? up : [this.rng.pick(up)];
    for (const slot of victims) {
      const before = slot.storage.durableProblem();
      const dropped = slot.storage.unsyncedTail;
      this.stats.powerLosses++;
      this.kill(slot, slot.proc!, (s) => s.reopen({ lose: 'power' }));
      const problem = slot.storage.durableProblem();
      this.log(`power loss on ${slot.id}: ${dropped} unsynced write(s) lost`);
      if (before === null && problem !== null) {
        this.check(() => {
          throw new Violation(
            'power-loss-refused',
            `${slot.id} lost only unsynced writes to a power loss, but its store refuses to start: ${problem}`,
          );
        });
      }
      this.sched.after(this.restartDelayUs(), () => this.boot(slot));
    }
  }

  private crashAndRestart(slot: Slot): void {
    const proc = slot.proc;
    if (proc === null) return;
    this.stats.crashes++;
    this.kill(slot, proc);
    this.log(`kill -9 ${slot.id}`);
    this.sched.after(this.restartDelayUs(), () => this.boot(slot));
  }

  private gracefulRestart(slot: Slot): void {
    const proc = slot.proc;
    if (proc === null || proc.host === null || slot.state !== 'up') return;
    this.stats.gracefulStops++;
    slot.state = 'stopping';
    this.log(`SIGTERM ${slot.id}`);
    proc.stopRegistration?.();
    void proc.host.shutdown().then(() => {
      if (!proc.alive) return; // killed meanwhile
      this.kill(slot, proc);
      this.log(`${slot.id} stopped gracefully`);
      this.sched.after(this.restartDelayUs(), () => this.boot(slot));
    });
  }

  private restartDelayUs(): number {
    return (this.rng.chance(0.3) ? this.rng.range(50, 1000) : this.rng.range(1000, 8000)) * MS;
  }

  private randomizeDisk(): void {
    const slow = this.rng.chance(0.4);
    this.disk = slow
      ? { minMs: 2, maxMs: this.rng.range(20, 120), stall: this.rng.pick([0, 0.01, 0.05]) }
      : { minMs: 0.2, maxMs: this.rng.range(1, 10), stall: this.rng.pick([0, 0, 0.01]) };
  }

  // ---------------------------------------------------------------- heal and liveness

  private heal(): void {
    this.chaos = false;
    this.net.heal();
    this.net.calm();
    this.clientNet.heal();
    this.clientNet.calm();
    this.disk = { minMs: 0.2, maxMs: 5, stall: 0 };
    this.log('heal everything; liveness phase starts');
    for (const s of this.slots.values()) if (s.state === 'down') this.boot(s);
    for (const s of this.slots.values()) if (s.state === 'refused') this.replace(s);
    void this.probe();
  }

  /** The runbook for a member that refuses to run: remove it, empty it, add it back. */
  private replace(slot: Slot): void {
    this.log(`operator: replace refused member ${slot.id} (remove, empty, join)`);
    void callWithRetries(
      this,
      'Cluster',
      'RemoveMember',
      { id: slot.id, force: true },
      { deadlineMs: 30_000 },
    ).then(async (r) => {
      this.log(`operator: RemoveMember ${slot.id} -> ${r.outcome.code} ${r.outcome.details}`);
      slot.storage = this.newStorage(slot.id);
      slot.initialCluster = null;
      slot.damaged = false;
      slot.state = 'down';
      this.boot(slot);
      const a = await callWithRetries(
        this,
        'Cluster',
        'AddMember',
        { id: slot.id, address: addressOf(slot.id), advertise: addressOf(slot.id) },
        { deadlineMs: 30_000 },
      );
      this.log(`operator: AddMember ${slot.id} -> ${a.outcome.code} ${a.outcome.details}`);
    });
  }

  /** After healing: every sequence must be served again. */
  private async probe(): Promise<void> {
    const pending = new Set([...SEQUENCES]);
    while (pending.size > 0) {
      for (const sequence of [...pending]) {
        const floor = this.checker.invoke(sequence);
        const r = await callWithRetries(this, 'Sequencer', 'Next', { sequence, count: 1 });
        if (r.outcome.code === 0) {
          const first = BigInt(r.outcome.value!['first'] as string);
          this.check(() => this.checker.ok(sequence, first, 1, floor, `probe via ${r.endpoint}`));
          pending.delete(sequence);
        }
      }
      if (pending.size > 0) await this.sleep(200 * MS);
    }
    this.livenessOk = true;
  }

  /**
   * Fewer than a majority of the voters (as the most advanced node sees them)
   * can vouch for their logs: alive, past the bootstrap point and verified by
   * the cluster. Their grants count only where every voter grants, so the
   * cluster waits for a member that can: documented unavailability.
   */
  private majorityAtBootstrap(): boolean {
    const hosts = [...this.slots.values()].map((s) => s.proc?.host).filter((h) => h != null);
    if (hosts.length === 0) return false;
    const ref = hosts.reduce((a, b) => (a.status().commit >= b.status().commit ? a : b));
    const voters = ref.status().conf.voters;
    const vouching = voters.filter((id) => {
      const h = this.slots.get(id)?.proc?.host;
      return h != null && h.isVerified && h.status().lastIndex > BOOTSTRAP_INDEX;
    }).length;
    return vouching < Math.floor(voters.length / 2) + 1;
  }

  private report(): string {
    return [...this.slots.values()]
      .map((s) => {
        const h = s.proc?.host;
        if (h == null) return `${s.id} ${s.state}`;
        const st = h.status();
        return `${s.id} ${st.role} t${st.term} commit ${st.commit} applied ${h.sm.lastApplied} voters ${st.conf.voters.join(',')} serving ${h.allocator.serving}`;
      })
      .join('; ');
  }
}
export function runNodeSeed(opts: NodeSimOptions): Promise<NodeSimResult> {
  return new NodeWorld(opts).run();
}
