// The whole-node world of the deterministic simulator: 3 or 5 real NodeHosts
// (the real allocator, state machine, hand-over, lease, membership and
// registration code), each on MemoryStorage with crash semantics, a
// simulated peer network and a simulated, drifting clock; simulated clients
// and operators call the real gRPC handlers. One seed drives everything.
//
// Faults, chosen by the seed: kill -9 and restart; graceful stop (SIGTERM)
// and restart; partitions, one-way cuts, loss, duplication, delay and
// reordering; slow and stalling fsync; event-loop stalls (timers frozen while
// inputs queue, then the queue runs before the timers catch up); clock drift
// within the configured bound; transfers, removals (the leader too), joins
// and advances, some sent twice or concurrently, the way an operator and a
// retrying CLI do; a member restarted with an emptied data directory and its
// bootstrap flags. After the chaos phase everything heals, an operator
// replaces refused members (remove, wipe, join), and every sequence must be
// served again within a bounded number of election timeouts.

import { pino } from 'pino';
import { clusterHandlers } from '../../../src/api/cluster.js';
import { sequencerHandlers } from '../../../src/api/sequencer.js';
import { DataDirectoryReplacedError, StartupError } from '../../../src/node/bootstrap.js';
import { NodeHost, type NodeClasses } from '../../../src/node/host.js';
import type { NodeEvents } from '../../../src/node/events.js';
import { NO_EVENTS } from '../../../src/node/events.js';
import type { NodeOptions } from '../../../src/node/options.js';
import { startRegistration, type RegisterRequest } from '../../../src/node/registration.js';
import { BOOTSTRAP_INDEX, type Message } from '../../../src/raft/index.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { Violation } from '../invariants.js';
import { Network } from '../network.js';
import { Prng } from '../../support/prng.js';
import { Trace } from '../trace.js';
import { callUnary, type Outcome } from './calls.js';
import { NodeChecker, type SequenceStart } from './checker.js';
import { callWithRetries, type ClientWorld } from './client.js';
import { SimClock } from './clock.js';
import { MS, SECOND, Scheduler } from './scheduler.js';
import { SimTransport } from './transport.js';

export const ELECTION_MS = 1000;
export const HEARTBEAT_MS = 100;
/** Largest clock drift of a node (the lease allows 10 % of an election timeout). */
export const MAX_DRIFT = 0.03;
/** µs per Network microstep: network delays of 0.1 to 30 ms, long ones up to 80 ms. */
const NET_SCALE = 20;
/** Default chaos phase, in simulated seconds. */
export const DEFAULT_CHAOS_S = 30;
/** Seeds within which every node-level mutant must be caught. */
export const NODE_MUTANT_SEED_BUDGET = 1000;
/** After healing, every sequence must be served again within this many election timeouts. */
export const LIVENESS_TIMEOUTS = 40;
const CLIENTS = 3;
const SEQUENCES = ['orders', 'invoices', 'tickets'];

export interface NodeSimOptions {
  seed: number;
  nodes?: 3 | 5;
  /** Test-only subclasses re-introducing a defect (mutants.ts). */
  classes?: Partial<NodeClasses>;
  mutant?: string;
  /** Simulated seconds of chaos. */
  chaosSeconds?: number;
  verbose?: (line: string) => void;
  traceLength?: number;
}

export interface NodeSimStats {
  events: number;
  simulatedSeconds: number;
  elections: number;
  crashes: number;
  gracefulStops: number;
  stalls: number;
  wipes: number;
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

type SlotState = 'booting' | 'up' | 'stopping' | 'down' | 'refused' | 'removed';

/** One incarnation (process) of a node. */
interface Proc {
  inc: number;
  alive: boolean;
  host: NodeHost | null;
  clock: SimClock;
  transport: SimTransport;
  /** Global µs until which its event loop is stalled. */
  stalledUntil: number;
  /** Inputs that arrived during a stall, in order. */
  queue: (() => void)[];
  handlers: Record<'Sequencer' | 'Cluster', Record<string, unknown>> | null;
  stopRegistration: (() => void) | null;
}

interface Slot {
  id: string;
  storage: MemoryStorage;
  /** --initial-cluster, for a founding member; null for one that joined. */
  initialCluster: Map<string, string> | null;
  proc: Proc | null;
  state: SlotState;
  incs: number;
  lastFsyncAt: number;
}

interface DiskProfile {
  minMs: number;
  maxMs: number;
  stall: number;
}

export class NodeWorld implements ClientWorld {
  readonly rng: Prng;
  readonly sched = new Scheduler();
  readonly checker = new NodeChecker();
  readonly trace: Trace;
  private readonly net: Network;
  private readonly clientNet: Network;
  private readonly slots = new Map<string, Slot>();
  private readonly delays: number[] = [0, 0];
  private disk: DiskProfile = { minMs: 0.2, maxMs: 5, stall: 0 };
  private chaos = true;
  private nextId: number;
  private livenessOk = false;
  private readonly snapshotEntries: number;
  readonly stats: NodeSimStats = {
    events: 0,
    simulatedSeconds: 0,
    elections: 0,
    crashes: 0,
    gracefulStops: 0,
    stalls: 0,
    wipes: 0,
    adminCalls: 0,
    okAnswers: 0,
    valuesIssued: 0,
    bootstrapStuck: false,
  };

  constructor(private readonly opts: NodeSimOptions) {
    this.rng = new Prng(opts.seed);
    this.net = new Network(this.rng.fork('net'));
    this.clientNet = new Network(this.rng.fork('client-net'));
    this.trace = new Trace(opts.traceLength ?? 80, opts.verbose ?? null);
    const n = opts.nodes ?? 3;
    this.nextId = n + 1;
    this.snapshotEntries = this.rng.pick([8, 32, 200, 10_000]);
    const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const initial = new Map(ids.map((id) => [id, addressOf(id)]));
    for (const id of ids) this.addSlot(id, initial);
    if (this.rng.chance(0.5)) this.net.randomizeFaults();
    this.randomizeDisk();
    this.log(
      `seed ${opts.seed}: ${n} nodes, snapshot every ${this.snapshotEntries} entries${opts.mutant ? `, mutant ${opts.mutant}` : ''}`,
    );
  }

  // ---------------------------------------------------------------- running

  async run(): Promise<NodeSimResult> {
    const chaosEnd = (this.opts.chaosSeconds ?? DEFAULT_CHAOS_S) * SECOND;
    const deadline = chaosEnd + LIVENESS_TIMEOUTS * ELECTION_MS * MS;
    let violation: Violation | null = null;
    try {
      for (const s of this.slots.values()) this.boot(s);
      for (let c = 0; c < CLIENTS; c++) void this.clientLoop(c);
      this.sched.after(this.rng.range(200, 2000) * MS, () => this.nemesis());
      this.sched.at(chaosEnd, () => this.heal());
      for (;;) {
        if (!(await this.sched.step())) {
          throw new Violation('liveness', 'the simulation ran out of events');
        }
        if (this.failure !== null) throw this.failure;
        if (this.livenessOk) break;
        if (this.sched.now > deadline) {
          if (this.majorityAtBootstrap()) {
            this.stats.bootstrapStuck = true;
            this.log('no quorum of voters past the bootstrap point: documented unavailability');
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
      this.stopEverything();
    }
    this.stats.events = this.sched.events;
    this.stats.simulatedSeconds = Math.round(this.sched.now / SECOND);
    this.stats.okAnswers = this.checker.okAnswers;
    this.stats.valuesIssued = Number(this.checker.valuesIssued);
    return { seed: this.opts.seed, violation, stats: this.stats };
  }

  /** A checker threw inside a callback of the node code: surfaced by run(). */
  private failure: Violation | null = null;

  /** Runs a check; a violation stops the run at the next event boundary. */
  private check(fn: () => void): void {
    if (this.failure !== null) return;
    try {
      fn();
    } catch (e) {
      if (e instanceof Violation) this.failure = e;
      else throw e;
    }
  }

  private log(text: string): void {
    this.trace.add(this.sched.now, text);
  }

  private stopEverything(): void {
    this.chaos = false;
    for (const s of this.slots.values()) {
      if (s.proc !== null) {
        s.proc.alive = false;
        s.proc.transport.kill();
        s.proc.stopRegistration?.();
      }
    }
  }

  // ---------------------------------------------------------------- ClientWorld

  now(): number {
    return this.sched.now;
  }

  after(us: number, fn: () => void): void {
    this.sched.after(us, fn);
  }

  endpoints(): string[] {
    return [...this.slots.keys()].map(addressOf);
  }

  attempt(
    endpoint: string,
    service: 'Sequencer' | 'Cluster',
    method: string,
    request: Record<string, unknown>,
    attemptMs: number,
    done: (o: Outcome) => void,
  ): () => void {
    const slot = this.slots.get(idOf(endpoint));
    let cancelled = false;
    let cancelOnServer: (() => void) | null = null;
    if (slot === undefined || this.clientNet.route('client', slot.id, this.delays) === 0) {
      return () => {};
    }
    const sentAt = this.sched.now;
    this.sched.after(this.delays[0]! * NET_SCALE, () => {
      const proc = slot.proc;
      const handler = proc?.handlers?.[service][method];
      if (proc === null || !proc.alive || handler === undefined) {
        // Nothing listens there (down, booting): connection refused, at once.
        this.reply(endpoint, done, {
          code: 14,
          details: 'connection refused',
          value: null,
          leader: null,
        });
        return;
      }
      this.input(proc, () => {
        if (!proc.alive || cancelled) return;
        const leftMs = attemptMs - (this.sched.now - sentAt) / MS;
        const server = callUnary(
          handler as Parameters<typeof callUnary>[0],
          request,
          proc.clock.wallNow() + leftMs * proc.clock.rate,
          (o) => {
            if (!proc.alive) return; // a dead process sends nothing
            if (service === 'Sequencer' && method === 'Next' && o.code === 0) {
              const first = BigInt(o.value!['first'] as string);
              const count = o.value!['count'] as number;
              this.check(() =>
                this.checker.served(
                  request['sequence'] as string,
                  first,
                  count,
                  `${endpoint} (term ${proc.host?.currentTerm})`,
                ),
              );
            }
            this.reply(endpoint, done, o);
          },
        );
        cancelOnServer = server.cancel;
      });
    });
    return () => {
      if (cancelled) return;
      cancelled = true;
      const proc = slot.proc;
      this.sched.after(this.rng.range(5, 500) * NET_SCALE, () => {
        if (proc !== null && proc.alive && cancelOnServer !== null) {
          const c = cancelOnServer;
          this.input(proc, c);
        }
      });
    };
  }

  private reply(endpoint: string, done: (o: Outcome) => void, o: Outcome): void {
    if (this.clientNet.route(idOf(endpoint), 'client', this.delays) === 0) return;
    this.sched.after(this.delays[0]! * NET_SCALE, () => done(o));
  }

  // ---------------------------------------------------------------- processes

  private addSlot(id: string, initialCluster: Map<string, string> | null): Slot {
    const slot: Slot = {
      id,
      storage: this.newStorage(id),
      initialCluster,
      proc: null,
      state: 'down',
      incs: 0,
      lastFsyncAt: 0,
    };
    this.slots.set(id, slot);
    return slot;
  }

  private newStorage(id: string): MemoryStorage {
    return MemoryStorage.create({
      name: `${id}/data`,
      // Writes complete in order, after a simulated fsync; the completion
      // runs as an input of the process (deferred by a stall).
      schedule: (complete) => {
        const slot = this.slots.get(id);
        if (slot === undefined) return;
        const at = Math.max(slot.lastFsyncAt, this.sched.now + this.fsyncDelayUs());
        slot.lastFsyncAt = at;
        this.sched.at(at, () => {
          const p = slot.proc;
          if (p !== null && p.alive) this.input(p, complete);
          else complete(); // a crashed handle drops it; a closed one is done anyway
        });
      },
    });
  }

  private nodeOptions(slot: Slot): NodeOptions {
    return {
      id: slot.id,
      listen: addressOf(slot.id),
      advertise: addressOf(slot.id),
      dataDir: `${slot.id}/data`,
      initialCluster: slot.initialCluster,
      electionTimeoutMs: ELECTION_MS,
      heartbeatIntervalMs: HEARTBEAT_MS,
      maxCount: 100_000,
      leaseDriftFraction: 0.1,
      snapshotEntries: this.snapshotEntries,
      logLevel: 'info',
      metricsListen: null,
      enableFaultInjection: false,
    };
  }

  private boot(slot: Slot): void {
    if (slot.proc !== null || slot.state === 'removed' || slot.state === 'refused') return;
    const inc = ++slot.incs;
    const bootedAt = this.sched.now;
    const rate =
      1 + (this.rng.chance(0.3) ? this.rng.pick([-1, 1]) : this.rng.float() * 2 - 1) * MAX_DRIFT;
    const procRng = this.rng.fork(`proc ${slot.id}#${inc}`);
    // The clock's gate needs the process it belongs to, made just below.
    const self: { proc: Proc | null } = { proc: null };
    const clock = new SimClock(this.sched, rate, this.sched.now, procRng.range(0, 1e6), {
      alive: () => self.proc?.alive === true,
      timer: (fn) => this.timerInput(self.proc as Proc, fn),
    });
    const transport = new SimTransport(
      slot.id,
      { carry: (m, address, from, lost) => this.carry(m, address, from, lost) },
      (m) => this.observe(slot, m),
    );
    const proc: Proc = {
      inc,
      alive: true,
      host: null,
      clock,
      transport,
      stalledUntil: 0,
      queue: [],
      handlers: null,
      stopRegistration: null,
    };
    self.proc = proc;
    slot.proc = proc;
    slot.state = 'booting';
    const logger = pino(
      { level: 'info', base: { n: slot.id }, timestamp: false },
      { write: (line: string) => this.log(line.trimEnd()) },
    );
    NodeHost.open(this.nodeOptions(slot), {
      storage: slot.storage,
      transport,
      clock,
      entropy: {
        int: (n) => procRng.int(n),
        hex: (bytes) =>
          Array.from({ length: bytes }, () => procRng.int(256).toString(16).padStart(2, '0')).join(
            '',
          ),
      },
      log: logger,
      ...(this.opts.classes !== undefined ? { classes: this.opts.classes } : {}),
    }).then(
      (host) => {
        if (!proc.alive) return;
        proc.host = host;
        slot.state = 'up';
        host.events = this.eventsFor(slot, proc);
        host.onLeaderChange = (s) => {
          if (s.role !== 'leader' || !proc.alive) return;
          this.stats.elections++;
          this.check(() => {
            this.checker.leader(s.term, `${slot.id}#${inc}`);
            this.checker.stillEmptied((id) => this.appliedOf(id));
            this.checker.elected(slot.id, s.term, host.status().conf.voters, bootedAt);
          });
        };
        proc.handlers = {
          Sequencer: sequencerHandlers(host) as Record<string, unknown>,
          Cluster: clusterHandlers(host) as Record<string, unknown>,
        };
        host.start();
        proc.stopRegistration = startRegistration(host, (address, req) =>
          this.registerAt(address, req),
        );
        void host.stopped.then((err) => {
          if (err !== null && proc.alive) this.onFatal(slot, proc, err);
        });
        this.log(`${slot.id}#${inc} up (clock rate ${rate.toFixed(4)})`);
      },
      (err: unknown) => {
        if (proc.alive) this.onFatal(slot, proc, err as Error);
      },
    );
  }

  /** A node refused to start or stopped itself. Only the documented refusals are fine. */
  private onFatal(slot: Slot, proc: Proc, err: Error): void {
    this.kill(slot, proc);
    if (err instanceof DataDirectoryReplacedError || err instanceof StartupError) {
      slot.state = 'refused';
      this.log(`${slot.id} refuses to run: ${err.message}`);
      return;
    }
    this.check(() => {
      throw new Violation('node-failed', `${slot.id} stopped with ${err.name}: ${err.message}`);
    });
  }

  private kill(slot: Slot, proc: Proc): void {
    proc.alive = false;
    proc.transport.kill();
    proc.stopRegistration?.();
    slot.storage = slot.storage.reopen();
    if (slot.proc === proc) {
      slot.proc = null;
      slot.state = 'down';
    }
  }

  private eventsFor(slot: Slot, proc: Proc): NodeEvents {
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

  /** Every message a node sends passes here first. */
  private observe(slot: Slot, m: Message): void {
    if (m.type === 'vote-resp' && m.granted) {
      const applied = slot.proc?.host?.sm.lastApplied ?? 0;
      this.check(() => this.checker.voteGranted(slot.id, m.to, m.term, applied, this.sched.now));
    } else if (m.type === 'append-resp' && m.success) {
      this.check(() => this.checker.acked(slot.id));
    }
  }

  /** Runs `fn` as an input (I/O callback) of `proc`: queued while it is stalled. */
  private input(proc: Proc, fn: () => void): void {
    if (!proc.alive) return;
    if (this.sched.now < proc.stalledUntil) proc.queue.push(fn);
    else fn();
  }

  /** Runs `fn` as a timer of `proc`: after the stall and the inputs that queued in it. */
  private timerInput(proc: Proc, fn: () => void): void {
    if (this.sched.now < proc.stalledUntil) {
      this.sched.at(proc.stalledUntil + 1, () => this.timerInput(proc, fn));
    } else fn();
  }

  private stall(slot: Slot, ms: number): void {
    const proc = slot.proc;
    if (proc === null || !proc.alive) return;
    const until = Math.max(proc.stalledUntil, this.sched.now + ms * MS);
    proc.stalledUntil = until;
    this.stats.stalls++;
    this.log(`${slot.id} event loop stalls for ${ms} ms`);
    this.sched.at(until, async () => {
      if (this.sched.now < proc.stalledUntil) return; // extended by a later stall
      // The inputs that queued up run first, each its own macrotask; the
      // timers (deferred to just after this instant) catch up afterwards.
      while (proc.queue.length > 0 && proc.alive) {
        (proc.queue.shift() as () => void)();
        await new Promise((r) => setImmediate(r));
      }
    });
  }

  // ---------------------------------------------------------------- network

  private carry(m: Message, address: string, fromAddress: string, lost: () => void): void {
    Object.freeze(m);
    if (m.type === 'append') {
      for (const e of m.entries) Object.freeze(e);
      Object.freeze(m.entries);
    }
    const to = idOf(address);
    const copies = this.net.route(m.from, to, this.delays);
    if (copies === 0 && m.type === 'snapshot') this.sched.after(50 * MS, lost);
    for (let i = 0; i < copies; i++) {
      this.sched.after(this.delays[i]! * NET_SCALE, () => this.deliver(m, to, fromAddress));
    }
  }

  private deliver(m: Message, to: string, fromAddress: string): void {
    if (this.net.isCut(m.from, to)) return;
    const proc = this.slots.get(to)?.proc;
    if (proc === null || proc === undefined || !proc.alive || proc.host === null) return;
    this.input(proc, () => {
      const h = proc.transport.handler;
      if (h === null || proc.transport.isClosed) return;
      if (!proc.transport.knows(m.from)) h.onUnknownPeer(m.from, fromAddress);
      h.onMessage(m);
    });
  }

  /** RegisterMember to the leader, through the client network, with its real handler. */
  private registerAt(address: string, req: RegisterRequest): Promise<'ok' | 'replaced' | 'retry'> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: 'ok' | 'replaced' | 'retry'): void => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      this.attempt(address, 'Cluster', 'RegisterMember', { ...req }, 3000, (o) =>
        finish(o.code === 0 ? 'ok' : o.code === 9 ? 'replaced' : 'retry'),
      );
      this.sched.after(3000 * MS, () => finish('retry'));
    });
  }

  // ---------------------------------------------------------------- clients

  private async clientLoop(c: number): Promise<void> {
    const rng = this.rng.fork(`client ${c}`);
    let leader: string | null = null;
    while (this.chaos || !this.livenessOk) {
      const sequence = rng.chance(0.03) ? `s${rng.int(1000)}` : rng.pick(SEQUENCES);
      const count = rng.chance(0.2) ? rng.range(2, 50) : 1;
      const floor = this.checker.invoke(sequence);
      const r = await callWithRetries(
        this,
        'Sequencer',
        'Next',
        { sequence, count },
        { start: leader },
      );
      if (r.outcome.code === 0) {
        leader = r.endpoint;
        const first = BigInt(r.outcome.value!['first'] as string);
        this.check(() =>
          this.checker.ok(sequence, first, count, floor, `client ${c} via ${r.endpoint}`),
        );
      } else leader = null;
      await this.sleep(rng.range(0, 200) * MS);
    }
  }

  private sleep(us: number): Promise<void> {
    return new Promise((r) => this.sched.after(us, r));
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

  private leaders(): Slot[] {
    return [...this.slots.values()].filter(
      (s) => s.proc?.alive === true && s.proc.host?.status().role === 'leader',
    );
  }

  private up(): Slot[] {
    return [...this.slots.values()].filter((s) => s.state === 'up');
  }

  private voters(): string[] {
    const l = this.leaders()[0] ?? this.up()[0];
    return l?.proc?.host?.status().conf.voters ?? [];
  }

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
    } else if (roll < 58) {
      const victim =
        leaders.length > 0 && r.chance(0.6) ? r.pick(leaders) : up.length > 0 ? r.pick(up) : null;
      if (victim !== null) {
        const ms = r.chance(0.5) ? r.range(20, 400) : r.range(400, 3 * ELECTION_MS);
        this.stall(victim, ms);
      }
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
    }
    this.sched.after(r.range(300, 3000) * MS, () => this.nemesis());
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
    const candidates = this.up().filter((s) => s.initialCluster !== null);
    if (candidates.length === 0) return;
    // The contract holds while a majority keeps its data: one member at a time.
    if ([...this.slots.values()].some((s) => s.state === 'refused')) return;
    if (this.checker.stillEmptied((id) => this.appliedOf(id)).length > 0) return;
    const slot = this.rng.pick(candidates);
    const proc = slot.proc!;
    const applied = proc.host?.sm.lastApplied ?? 0;
    const commit = proc.host?.status().commit ?? 0;
    this.stats.wipes++;
    this.kill(slot, proc);
    slot.storage = this.newStorage(slot.id);
    this.check(() => this.checker.memberEmptied(slot.id, Math.max(applied, commit)));
    this.log(`${slot.id} killed; its data directory is emptied (it had applied ${applied})`);
    this.sched.after(this.rng.range(100, 3000) * MS, () => this.boot(slot));
  }

  private appliedOf(id: string): number | null {
    return this.slots.get(id)?.proc?.host?.sm.lastApplied ?? null;
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

  private fsyncDelayUs(): number {
    const d = this.disk;
    if (d.stall > 0 && this.rng.chance(d.stall)) return this.rng.range(100, 1500) * MS;
    return Math.round((d.minMs + this.rng.float() * (d.maxMs - d.minMs)) * MS);
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

  /** Fewer than a majority of the voters (as the most advanced node sees them) hold any log. */
  private majorityAtBootstrap(): boolean {
    const hosts = [...this.slots.values()].map((s) => s.proc?.host).filter((h) => h != null);
    if (hosts.length === 0) return false;
    const ref = hosts.reduce((a, b) => (a.status().commit >= b.status().commit ? a : b));
    const voters = ref.status().conf.voters;
    const past = voters.filter((id) => {
      const h = this.slots.get(id)?.proc?.host;
      return h != null && h.status().lastIndex > BOOTSTRAP_INDEX;
    }).length;
    return past < Math.floor(voters.length / 2) + 1;
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

/** Every node listens (and is dialled, and advertises) at `<id>:7001`. */
function addressOf(id: string): string {
  return `${id}:7001`;
}

function idOf(address: string): string {
  return address.replace(/:\d+$/, '');
}

export function runNodeSeed(opts: NodeSimOptions): Promise<NodeSimResult> {
  return new NodeWorld(opts).run();
}
