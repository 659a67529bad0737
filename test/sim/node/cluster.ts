// The plumbing of the node world: real NodeHosts as simulated processes on
// MemoryStorage (crash semantics, slow fsync), a simulated peer network, a
// simulated client network to the real gRPC handlers, drifting clocks and
// event-loop stalls, all on one Scheduler and one seed. NodeWorld (world.ts)
// adds the nemesis, the clients and the checkers; unit tests of the runtime
// (test/node/runtime.test.ts) drive a SimCluster directly.

import { pino } from 'pino';
import { clusterHandlers } from '../../../src/api/cluster.js';
import { sequencerHandlers } from '../../../src/api/sequencer.js';
import { DataDirectoryReplacedError, StartupError } from '../../../src/node/bootstrap.js';
import { ClusterIdMismatchError } from '../../../src/node/identity.js';
import { NO_EVENTS, type NodeEvents } from '../../../src/node/events.js';
import { NodeHost, type NodeClasses } from '../../../src/node/host.js';
import type { NodeOptions } from '../../../src/node/options.js';
import { startRegistration, type RegisterRequest } from '../../../src/node/registration.js';
import type { Message } from '../../../src/raft/index.js';
import { StorageCorruptError } from '../../../src/storage/errors.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import type { mustSync } from '../../../src/storage/plan.js';
import type { checkWatermark } from '../../../src/storage/watermark.js';
import { Prng } from '../../support/prng.js';
import { Violation } from '../invariants.js';
import { Network } from '../network.js';
import { Trace } from '../trace.js';
import { callDuplex, callUnary, type Outcome, type StreamEnd } from './calls.js';
import { callWithRetries, type CallResult, type ClientWorld } from './client.js';
import { SimClock } from './clock.js';
import { MS, Scheduler, settle } from './scheduler.js';
import { SimTransport } from './transport.js';

export const ELECTION_MS = 1000;
export const HEARTBEAT_MS = 100;
/** Largest clock drift of a node (the lease allows 10 % of an election timeout). */
export const MAX_DRIFT = 0.03;
/** µs per Network microstep: network delays of 0.1 to 30 ms, long ones up to 80 ms. */
const NET_SCALE = 20;
/** A write without an fsync (a commit-only persist) lands after this many µs. */
const UNSYNCED_WRITE_US = 20;

export type SlotState = 'booting' | 'up' | 'stopping' | 'down' | 'refused' | 'removed';

/** One incarnation (process) of a node. */
export interface Proc {
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

/** A member's place: its data directory and whichever process runs on it. */
export interface Slot {
  id: string;
  storage: MemoryStorage;
  /** --initial-cluster, for a founding member; null for one that joined. */
  initialCluster: Map<string, string> | null;
  proc: Proc | null;
  state: SlotState;
  incs: number;
  lastFsyncAt: number;
  /** Its store lost records that the start-up check would refuse. */
  damaged: boolean;
}

export interface DiskProfile {
  minMs: number;
  maxMs: number;
  stall: number;
}

export interface SimClusterOptions {
  seed: number;
  /** Founding members. */
  ids: string[];
  /** Test-only subclasses re-introducing a defect (mutants.ts). */
  classes?: Partial<NodeClasses>;
  /** The storage's start-up check against its watermark (a mutant skips it). */
  checkDurable?: typeof checkWatermark;
  /** Which persists the storage fsyncs (default mustSync; a mutant syncs nothing). */
  mustSync?: typeof mustSync;
  snapshotEntries?: number;
  /** serve --max-sequences (default: the product's default). */
  maxSequences?: number;
  /** Clock drift of every node (default: random within MAX_DRIFT). */
  drift?: number;
  verbose?: (line: string) => void;
  traceLength?: number;
}

/** Every node listens (and is dialled, and advertises) at `<id>:7001`. */
export function addressOf(id: string): string {
  return `${id}:7001`;
}

export function idOf(address: string): string {
  return address.replace(/:\d+$/, '');
}

export class SimCluster implements ClientWorld {
  readonly rng: Prng;
  readonly sched = new Scheduler();
  readonly trace: Trace;
  readonly net: Network;
  readonly clientNet: Network;
  readonly slots = new Map<string, Slot>();
  protected disk: DiskProfile = { minMs: 0.2, maxMs: 5, stall: 0 };
  protected readonly snapshotEntries: number;
  private readonly maxSequences: number | undefined;
  private readonly delays: number[] = [0, 0];
  /** A checker threw inside a callback of the node code: surfaced at the next step. */
  protected failure: Violation | null = null;

  constructor(protected readonly opts: SimClusterOptions) {
    this.rng = new Prng(opts.seed);
    this.net = new Network(this.rng.fork('net'));
    this.clientNet = new Network(this.rng.fork('client-net'));
    this.trace = new Trace(opts.traceLength ?? 80, opts.verbose ?? null);
    this.snapshotEntries = opts.snapshotEntries ?? 10_000;
    this.maxSequences = opts.maxSequences;
    const initial = new Map(opts.ids.map((id) => [id, addressOf(id)]));
    for (const id of opts.ids) this.addSlot(id, initial);
  }

  // ---------------------------------------------------------------- running

  /** Boots every member. */
  start(): void {
    for (const s of this.slots.values()) this.boot(s);
  }

  /** Runs events for `ms` of simulated time (or until a checker fails). */
  async runFor(ms: number): Promise<void> {
    await settle(); // what the caller started schedules its first events
    const end = this.sched.now + ms * MS;
    this.sched.at(end, () => {});
    while (this.sched.now < end && (await this.sched.step())) this.rethrow();
    this.rethrow();
  }

  /** Runs events until `pred` holds; throws after `ms` of simulated time. */
  async runUntil(pred: () => boolean, ms: number, what = 'the condition'): Promise<void> {
    await settle(); // what the caller started schedules its first events
    const end = this.sched.now + ms * MS;
    this.sched.at(end, () => {});
    while (!pred()) {
      if (this.sched.now >= end || !(await this.sched.step())) {
        throw new Error(`${what} did not hold within ${ms} ms of simulated time`);
      }
      this.rethrow();
    }
  }

  /** Resolves `p` while running events (at most `ms` of simulated time). */
  async settleOn<T>(p: Promise<T>, ms = 60_000): Promise<T> {
    let done = false;
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    p.then(
      (value) => {
        done = true;
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        done = true;
        outcome = { ok: false, error };
      },
    );
    await this.runUntil(() => done, ms, 'the call');
    const settled = outcome as { ok: true; value: T } | { ok: false; error: unknown } | null;
    if (settled === null) throw new Error('settleOn: the call did not settle');
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  private rethrow(): void {
    if (this.failure !== null) throw this.failure;
  }

  /** Runs a check; a violation stops the run at the next event boundary. */
  protected check(fn: () => void): void {
    if (this.failure !== null) return;
    try {
      fn();
    } catch (e) {
      if (e instanceof Violation) this.failure = e;
      else throw e;
    }
  }

  log(text: string): void {
    this.trace.add(this.sched.now, text);
  }

  /** Ends every process (end of a run). */
  stopEverything(): void {
    for (const s of this.slots.values()) {
      if (s.proc !== null) {
        s.proc.alive = false;
        s.proc.transport.kill();
        s.proc.stopRegistration?.();
      }
    }
  }

  // ---------------------------------------------------------------- views

  host(id: string): NodeHost | null {
    const p = this.slots.get(id)?.proc;
    return p?.alive === true ? p.host : null;
  }

  leaders(): Slot[] {
    return [...this.slots.values()].filter(
      (s) => s.proc?.alive === true && s.proc.host?.status().role === 'leader',
    );
  }

  /** The one serving leader's id, or null. */
  leader(): string | null {
    const l = this.leaders().filter((s) => s.proc?.host?.allocator.serving === true);
    return l.length === 1 ? (l[0] as Slot).id : null;
  }

  up(): Slot[] {
    return [...this.slots.values()].filter((s) => s.state === 'up');
  }

  voters(): string[] {
    const l = this.leaders()[0] ?? this.up()[0];
    return l?.proc?.host?.status().conf.voters ?? [];
  }

  appliedOf(id: string): number | null {
    return this.slots.get(id)?.proc?.host?.sm.lastApplied ?? null;
  }

  // ---------------------------------------------------------------- clients

  now(): number {
    return this.sched.now;
  }

  after(us: number, fn: () => void): void {
    this.sched.after(us, fn);
  }

  sleep(us: number): Promise<void> {
    return new Promise((r) => this.sched.after(us, r));
  }

  endpoints(): string[] {
    return [...this.slots.keys()].map(addressOf);
  }

  /** A client call with SequenceClient's retries, to any endpoint (or `start`). */
  call(
    service: 'Sequencer' | 'Cluster',
    method: string,
    request: Record<string, unknown>,
    opts: { deadlineMs?: number; start?: string | null } = {},
  ): Promise<CallResult> {
    return callWithRetries(this, service, method, request, opts);
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
            this.answered(slot, proc, service, method, request, o);
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

  /**
   * Opens a NextStream to `endpoint`'s real handler. Messages travel in
   * order, each way, with the client network's delays; the answers and the
   * stream's end (null) or error status come back the same way.
   */
  openStream(
    endpoint: string,
    onAnswer: (answer: Record<string, unknown>) => void,
    onClose: (status: Outcome | null) => void,
  ): StreamEnd {
    const slot = this.slots.get(idOf(endpoint));
    const proc = slot?.proc;
    const handler = proc?.handlers?.Sequencer['NextStream'];
    let up = 0; // in order: each message after the previous one
    let down = 0;
    const requests = new Map<unknown, Record<string, unknown>>();
    const back = (fn: () => void): void => {
      down = Math.max(down, this.sched.now + this.rng.range(5, 300) * NET_SCALE);
      this.sched.at(down, fn);
    };
    if (slot === undefined || proc == null || !proc.alive || handler === undefined) {
      back(() => onClose({ code: 14, details: 'connection refused', value: null, leader: null }));
      return { write: () => {}, end: () => {}, cancel: () => {} };
    }
    const stream = callDuplex(
      handler as Parameters<typeof callDuplex>[0],
      (fn) => {
        up = Math.max(up, this.sched.now + this.rng.range(5, 300) * NET_SCALE);
        this.sched.at(up, () => this.input(proc, fn));
      },
      (answer) => {
        if (!proc.alive) return;
        const request = requests.get(answer['id']);
        if (answer['code'] === 0 && request !== undefined) {
          this.answered(slot, proc, 'Sequencer', 'Next', request, {
            code: 0,
            details: '',
            value: answer,
            leader: null,
          });
        }
        back(() => onAnswer(answer));
      },
      (status) => {
        if (proc.alive) back(() => onClose(status));
      },
    );
    return {
      ...stream,
      write: (request) => {
        requests.set(request['id'], request);
        stream.write(request);
      },
    };
  }

  private reply(endpoint: string, done: (o: Outcome) => void, o: Outcome): void {
    if (this.clientNet.route(idOf(endpoint), 'client', this.delays) === 0) return;
    this.sched.after(this.delays[0]! * NET_SCALE, () => done(o));
  }

  // ---------------------------------------------------------------- hooks

  /** A handler of `slot` answered (before the answer travels back). */
  protected answered(
    _slot: Slot,
    _proc: Proc,
    _service: string,
    _method: string,
    _request: Record<string, unknown>,
    _o: Outcome,
  ): void {}

  /** Every message a node sends passes here first. */
  protected sent(_slot: Slot, _m: Message): void {}

  /** A process is up (its host started); `bootedAt` is when the process began. */
  protected started(_slot: Slot, _proc: Proc, _host: NodeHost, _bootedAt: number): void {}

  /** The events a started host reports to. */
  protected eventsFor(_slot: Slot, _proc: Proc): NodeEvents {
    return NO_EVENTS;
  }

  /**
   * A node refused to start or stopped itself. A documented refusal marks it
   * refused; anything else fails the run.
   */
  protected failed(slot: Slot, proc: Proc, err: Error): void {
    this.kill(slot, proc);
    if (
      err instanceof DataDirectoryReplacedError ||
      err instanceof StartupError ||
      err instanceof ClusterIdMismatchError ||
      err instanceof StorageCorruptError
    ) {
      slot.state = 'refused';
      this.log(`${slot.id} refuses to run: ${err.message}`);
      return;
    }
    this.check(() => {
      throw new Violation('node-failed', `${slot.id} stopped with ${err.name}: ${err.message}`);
    });
  }

  // ---------------------------------------------------------------- processes

  addSlot(id: string, initialCluster: Map<string, string> | null): Slot {
    const slot: Slot = {
      id,
      storage: this.newStorage(id),
      initialCluster,
      proc: null,
      state: 'down',
      incs: 0,
      lastFsyncAt: 0,
      damaged: false,
    };
    this.slots.set(id, slot);
    return slot;
  }

  newStorage(id: string): MemoryStorage {
    return MemoryStorage.create({
      name: `${id}/data`,
      ...(this.opts.checkDurable !== undefined ? { checkDurable: this.opts.checkDurable } : {}),
      ...(this.opts.mustSync !== undefined ? { mustSync: this.opts.mustSync } : {}),
      // Writes complete in order, after a simulated fsync; the completion
      // runs as an input of the process (deferred by a stall). A write
      // without an fsync takes a few µs in half the worlds (bit 2 of the
      // seed, so that no other draw moves) and as long as a synced one in
      // the others (a write() can block on a busy disk too).
      schedule: (complete, synced) => {
        const slot = this.slots.get(id);
        if (slot === undefined) return;
        const fast = !synced && Math.floor(this.opts.seed / 4) % 2 === 1;
        const delay = fast ? UNSYNCED_WRITE_US : this.fsyncDelayUs();
        const at = Math.max(slot.lastFsyncAt, this.sched.now + delay);
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
      ...(this.maxSequences !== undefined ? { maxSequences: this.maxSequences } : {}),
    };
  }

  /** Starts a process on `slot`'s data directory (unless one runs, or it refused or left). */
  boot(slot: Slot): void {
    if (slot.proc !== null || slot.state === 'removed' || slot.state === 'refused') return;
    const inc = ++slot.incs;
    const bootedAt = this.sched.now;
    const rate =
      this.opts.drift !== undefined
        ? 1 + this.opts.drift
        : 1 +
          (this.rng.chance(0.3) ? this.rng.pick([-1, 1]) : this.rng.float() * 2 - 1) * MAX_DRIFT;
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
      (m) => this.sent(slot, m),
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
        this.started(slot, proc, host, bootedAt);
        proc.handlers = {
          Sequencer: sequencerHandlers(host) as Record<string, unknown>,
          Cluster: clusterHandlers(host) as Record<string, unknown>,
        };
        host.start();
        proc.stopRegistration = startRegistration(host, (leader, req) =>
          this.registerAt(leader.address, req),
        );
        void host.stopped.then((err) => {
          if (err !== null && proc.alive) this.failed(slot, proc, err);
        });
        this.log(`${slot.id}#${inc} up (clock rate ${rate.toFixed(4)})`);
      },
      (err: unknown) => {
        if (proc.alive) this.failed(slot, proc, err as Error);
      },
    );
  }

  /**
   * The process is gone (kill -9, or it stopped): its unflushed writes are
   * lost; `restart` says what else its storage loses (a record, a power loss).
   */
  kill(
    slot: Slot,
    proc: Proc,
    restart: (s: MemoryStorage) => MemoryStorage = (s) => s.reopen(),
  ): void {
    proc.alive = false;
    proc.transport.kill();
    proc.stopRegistration?.();
    slot.storage = restart(slot.storage);
    if (slot.proc === proc) {
      slot.proc = null;
      slot.state = 'down';
    }
  }

  /** kill -9 `id`; the caller restarts it (boot) when it likes. */
  crash(id: string): void {
    const slot = this.slots.get(id);
    if (slot?.proc != null) this.kill(slot, slot.proc);
  }

  /** SIGTERM: the graceful stop; resolves once the process is gone. */
  async gracefulStop(id: string): Promise<void> {
    const slot = this.slots.get(id);
    const proc = slot?.proc;
    if (slot === undefined || proc == null || proc.host === null || slot.state !== 'up') return;
    slot.state = 'stopping';
    proc.stopRegistration?.();
    await proc.host.shutdown();
    if (proc.alive) this.kill(slot, proc);
  }

  /** Runs `fn` as an input (I/O callback) of `proc`: queued while it is stalled. */
  protected input(proc: Proc, fn: () => void): void {
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

  /** The event loop of `id`'s process stalls: no timer fires, inputs queue. */
  stall(id: string, ms: number): void {
    const proc = this.slots.get(id)?.proc;
    if (proc == null || !proc.alive) return;
    const until = Math.max(proc.stalledUntil, this.sched.now + ms * MS);
    proc.stalledUntil = until;
    this.log(`${id} event loop stalls for ${ms} ms`);
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

  protected fsyncDelayUs(): number {
    const d = this.disk;
    if (d.stall > 0 && this.rng.chance(d.stall)) return this.rng.range(100, 1500) * MS;
    return Math.round((d.minMs + this.rng.float() * (d.maxMs - d.minMs)) * MS);
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
    if (proc === null || proc === undefined || !proc.alive || proc.host === null) {
      this.refused(m.from, to);
      return;
    }
    this.input(proc, () => {
      const h = proc.transport.handler;
      if (h === null || proc.transport.isClosed) return;
      if (!proc.transport.knows(m.from)) h.onUnknownPeer(m.from, fromAddress);
      h.onMessage(m);
    });
  }

  /**
   * A message reached a process that is down or not yet serving: as a reset
   * or refused connection would, the sender's transport hears of it one
   * network delay later (a cut link, like a silent network, says nothing).
   */
  private refused(from: string, to: string): void {
    const copies = this.net.route(to, from, this.delays);
    if (copies === 0) return;
    this.sched.after(this.delays[0]! * NET_SCALE, () => {
      const sender = this.slots.get(from)?.proc;
      if (sender === null || sender === undefined || !sender.alive) return;
      this.input(sender, () => {
        const h = sender.transport.handler;
        if (h !== null && !sender.transport.isClosed) h.onPeerUnreachable(to);
      });
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
}
