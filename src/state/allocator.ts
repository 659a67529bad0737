// The leader's allocator: hands out ranges of sequence values from blocks
// reserved through the Raft log.
//
// One allocator per node; it serves only between becomeLeader() and stepDown(),
// after the term's no-op has been applied. Plain TypeScript, no I/O: the clock,
// the proposer, the lease check and the state machine are injected.
//
// Rules that keep "never twice" (see machine.ts for the cross-leader argument):
//  * A value is served only if it lies in [startFor(seq), reservedUpTo(seq)] of
//    the local state machine, read at the moment of answering. The state
//    machine only counts *committed and applied* reservations, so nothing is
//    served from a block that is still in flight.
//  * Nothing is served before the term's no-op is applied (until then startFor
//    describes the previous leader's epoch), after stepDown(), after seal(),
//    while a handover of this epoch is pending, or once the local state machine
//    has seen a newer term's no-op.
//  * Every answer re-checks all of that, plus leaseValid(), synchronously just
//    before the cursor moves; nothing is awaited between the check and the
//    answer, so nothing can change in between.
//  * A request that fails consumes nothing.
//
// Reservations extend one contiguous range per sequence (reserved only grows
// and the leader owns everything from its start to reserved), so a request
// that does not fit the rest of the committed range simply waits for the next
// extension and then uses the rest too: no block remainder is ever skipped.
// (The 'block-remainder' waste counter exists for dashboards and stays 0.)
//
// Why about 700 lines in one file (over the 600-line rule for src): every
// rule above is a check between the leadership's state (ready, sealed,
// epoch, the term's cursors) and the state machine, made synchronously at
// the moment of answering, and the reservation path must see the same
// cursors it extends. Spread over several classes, those checks would read
// state they do not own across an interface, which is where an interleaving
// bug hides. What stands apart is out: errors, options and counters
// (allocator-types.ts), parked cursors (cursors.ts), history (history.ts).

import { MAX_VALUE } from './commands.js';
import type { Command, HandoverItem } from './commands.js';
import { CursorColumn } from './cursors.js';
import { HistoryTable, type SeqHistory } from './history.js';
import type { SequenceStateMachine } from './machine.js';

export * from './allocator-types.js';
import {
  AllocatorError,
  CancelledError,
  InvalidArgumentError,
  LeaseExpiredError,
  NotLeaderError,
  OutOfRangeError,
  ReservationFailedError,
  SequenceLimitError,
  type AllocatorOptions,
  type AllocatorStats,
  type AllocatorTotals,
  type NextResult,
  type SequenceStats,
  type WasteCause,
} from './allocator-types.js';

interface Reservation {
  upTo: bigint;
  promise: Promise<void>;
  /** The batch it is part of, while that batch is still being collected. */
  batch: Batch;
}

interface Batch {
  /** The leadership that collects it: proposed only while that one serves. */
  leader: Leadership;
  items: Map<string, bigint>;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Per-term serving state of a busy sequence (or one not yet in the state
 * machine). An idle one is parked: only its cursor is kept, in the
 * leadership's CursorColumn. Dropped on every term change.
 */
interface TermSeq {
  cursor: bigint;
  inflight: Reservation | null;
  /** Values asked for by requests currently waiting for a reservation. */
  waiting: number;
}

/** What seal() returns: the exact next values to record, and which seal this is. */
export interface Seal {
  items: HandoverItem[];
  generation: number;
}

interface Leadership {
  term: number;
  noopIndex: number;
  ready: boolean;
  /** The generation of the seal in force, or 0 while serving. */
  sealed: number;
  /** sm.epoch once ready. */
  epoch: number;
  /** Busy sequences of this term (see TermSeq); the idle ones are in `parked`. */
  seqs: Map<string, TermSeq>;
  parked: CursorColumn;
  /** sm.generation once ready: the ids in `parked` are of that generation. */
  generation: number;
  /** Reserve batches this leadership proposed that have not settled yet. */
  proposing: number;
  readyPromise: Promise<void>;
  resolveReady: () => void;
  /**
   * Why this leadership ended, or null while it lasts. Waits register in
   * `waiters` and are rejected when it ends; a wait that finishes removes
   * itself, so nothing accumulates per request (a race against one shared
   * "ended" promise would keep a reaction per wait until the term ends).
   */
  endedWith: NotLeaderError | null;
  waiters: Set<(e: NotLeaderError) => void>;
}

export class Allocator {
  private readonly sm: SequenceStateMachine;
  private readonly proposeFn: (cmd: Command) => Promise<void>;
  private readonly now: () => number;
  private readonly leaseValid: () => boolean;
  private readonly targetSeconds: number;
  private readonly minBlock: number;
  private readonly maxBlock: number;
  private readonly rateTauMs: number;
  private readonly rateWindowMs: number;
  private readonly maxSequences: number;

  private leader: Leadership | null = null;
  /** Increases with every seal(), across terms, so a stale unseal() can never match. */
  private sealGeneration = 0;
  private readonly history: HistoryTable;
  private readonly maxBatchesInFlight: number;
  private batch: Batch | null = null;
  /** Cursors at the end of this node's last leadership, settled into waste at the next epoch. */
  private lastCursors: {
    epoch: number;
    generation: number;
    cursors: Map<string, bigint>;
    parked: CursorColumn;
  } | null = null;
  private readonly sums: AllocatorTotals = {
    served: 0n,
    skipped: { 'block-remainder': 0n, crash: 0n, handover: 0n, advance: 0n },
    reservationsProposed: 0,
    reservationsCommitted: 0,
    reservationsFailed: 0,
  };

  constructor(opts: AllocatorOptions) {
    this.sm = opts.sm;
    this.proposeFn = opts.propose;
    this.now = opts.now;
    this.leaseValid = opts.leaseValid;
    this.targetSeconds = opts.targetSeconds ?? 2;
    this.minBlock = opts.minBlock ?? 16;
    this.maxBlock = opts.maxBlock ?? 1_000_000;
    this.rateTauMs = opts.rateTauMs ?? 1000;
    this.rateWindowMs = opts.rateWindowMs ?? 100;
    this.maxSequences = opts.maxSequences ?? Infinity;
    this.history = new HistoryTable(opts.historyLimit ?? 10_000);
    this.maxBatchesInFlight = opts.maxBatchesInFlight ?? 3;
    if (!(this.maxBatchesInFlight >= 1)) throw new RangeError('need maxBatchesInFlight >= 1');
    if (!(this.minBlock >= 1 && this.maxBlock >= this.minBlock)) {
      throw new RangeError('need 1 <= minBlock <= maxBlock');
    }
  }

  /** The term this node leads (whether or not it is ready), or null. */
  get term(): number | null {
    return this.leader?.term ?? null;
  }

  /** Leader, no-op applied, not sealed. (The lease is checked per answer.) */
  get serving(): boolean {
    return this.leader !== null && this.leader.ready && this.leader.sealed === 0;
  }

  // -------------------------------------------------------------------------
  // Lifecycle, driven by the runtime

  /**
   * This node became leader of `term`; its no-op is at `noopIndex`. Serving
   * starts once the state machine has applied that index (see onApplied).
   */
  becomeLeader(term: number, noopIndex: number): void {
    if (this.leader !== null) this.stepDown();
    let resolveReady!: () => void;
    const readyPromise = new Promise<void>((r) => (resolveReady = r));
    this.leader = {
      term,
      noopIndex,
      ready: false,
      sealed: 0,
      epoch: -1,
      seqs: new Map(),
      parked: new CursorColumn(),
      generation: -1,
      proposing: 0,
      readyPromise,
      resolveReady,
      endedWith: null,
      waiters: new Set(),
    };
    this.checkReady();
  }

  /**
   * Leadership lost (or the node is stopping). From now on nothing is served
   * from memory; waiting requests are rejected with NotLeaderError.
   */
  stepDown(): void {
    const l = this.leader;
    if (l === null) return;
    this.leader = null;
    if (l.ready) {
      const cursors = new Map<string, bigint>();
      for (const [seq, t] of l.seqs) cursors.set(seq, t.cursor);
      this.lastCursors = { epoch: l.epoch, generation: l.generation, cursors, parked: l.parked };
    }
    const e = new NotLeaderError('stepped-down');
    if (this.batch?.leader === l) {
      this.batch.reject(e);
      this.batch = null;
    }
    l.endedWith = e;
    for (const reject of l.waiters) reject(e);
    l.waiters.clear();
  }

  /**
   * Call after the state machine applied entries up to `index` (on every node,
   * leader or not; ideally after every entry, at least after every batch).
   */
  onApplied(index: number): void {
    this.settleWaste();
    if (this.leader !== null && !this.leader.ready && index >= this.leader.noopIndex) {
      this.checkReady();
    }
  }

  private checkReady(): void {
    const l = this.leader;
    if (l === null || l.ready || this.sm.lastApplied < l.noopIndex) return;
    if (this.sm.lastNoopTerm !== l.term) {
      // The entry at noopIndex was not our no-op, or a newer leader already exists.
      this.stepDown();
      return;
    }
    l.ready = true;
    l.epoch = this.sm.epoch;
    l.generation = this.sm.generation;
    l.resolveReady();
  }

  /**
   * Graceful hand-over: stop serving now and return the exact next value of
   * every sequence this term served from (plus the ones it inherited from a
   * handover, redundantly: the state machine carries those forward), for a
   * `handover` command, with the seal's generation. Returns no items if the
   * term's no-op is not applied yet: nothing was served, and the state
   * machine carries the inherited values. Returns null when this node does
   * not lead (any more): what it served is gone with its leadership, so no
   * handover may be recorded, and the next leader starts above the reserved
   * blocks. The runtime proposes the handover only after calling this.
   */
  seal(): Seal | null {
    const l = this.leader;
    if (l === null) return null;
    const generation = ++this.sealGeneration;
    l.sealed = generation;
    if (!l.ready) return { items: [], generation };
    const items = new Map<string, bigint>();
    const inherited = this.sm.inheritedHandover();
    if (inherited !== null) {
      for (const seq of inherited.keys()) items.set(seq, this.sm.startFor(seq));
    }
    const served = (seq: string, cursor: bigint): void => {
      const start = this.sm.startFor(seq);
      items.set(seq, cursor > start ? cursor : start);
    };
    for (const [id, cursor] of l.parked.entries()) served(this.sm.sequenceName(id), cursor);
    for (const [seq, t] of l.seqs) served(seq, t.cursor);
    return { items: [...items].map(([sequence, next]) => ({ sequence, next })), generation };
  }

  /**
   * After a `resume` committed (transfer aborted): serve again, unless a
   * newer seal (another hand-over begun since `generation`) is in force.
   * Returns whether serving resumed.
   */
  unseal(generation: number): boolean {
    const l = this.leader;
    if (l === null || l.sealed !== generation) return false;
    l.sealed = 0;
    return true;
  }

  /**
   * For admin display (`sequence show`): the next value this leader would hand
   * out, or null when not serving. Informational only; never a reservation.
   */
  peekNext(sequence: string): bigint | null {
    const l = this.leader;
    if (l === null || !l.ready) return null;
    const start = this.sm.startFor(sequence);
    const cursor = this.cursorOf(l, sequence);
    return cursor !== undefined && cursor > start ? cursor : start;
  }

  /** The cursor of `sequence` in `l`'s term (busy or parked), or undefined if not served in it. */
  private cursorOf(l: Leadership, sequence: string): bigint | undefined {
    return l.seqs.get(sequence)?.cursor ?? l.parked.get(this.sm.sequenceId(sequence));
  }

  // -------------------------------------------------------------------------
  // Serving

  /**
   * Hands out `count` contiguous values of `sequence`. Resolves only with
   * values inside the committed reservation; rejects with an AllocatorError
   * (NotLeaderError, LeaseExpiredError, ReservationFailedError,
   * OutOfRangeError, InvalidArgumentError, CancelledError) having consumed
   * nothing.
   */
  /**
   * Throws SequenceLimitError when `sequence` does not exist yet and the
   * committed state already holds --max-sequences sequences. Every path that
   * can create a sequence (next, advance) asks first.
   */
  assertRoomFor(sequence: string): void {
    if (this.sm.sequenceCount < this.maxSequences || this.sm.has(sequence)) return;
    if (this.leader?.seqs.has(sequence) === true) return;
    throw new SequenceLimitError(sequence, this.maxSequences);
  }

  async next(
    sequence: string,
    count = 1,
    opts: { signal?: AbortSignal } = {},
  ): Promise<NextResult> {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidArgumentError(`count must be a positive integer, got ${count}`);
    }
    const l = this.leader;
    if (l === null) throw new NotLeaderError('not-leader');
    if (!l.ready) await this.wait(l, l.readyPromise, opts.signal);
    this.assertRoomFor(sequence);
    const n = BigInt(count);
    for (;;) {
      this.assertServing(l);
      const t = this.termSeq(l, sequence);
      const last = t.cursor + n - 1n;
      if (last > MAX_VALUE) throw new OutOfRangeError(sequence, t.cursor, count);
      const reserved = this.sm.reservedUpTo(sequence);
      // Serve a sequence only once a command of this term touched it (its
      // first reservation in the term). The state machine relies on it: a
      // sequence untouched in a term was not served in that term, so an
      // exact next value inherited from a hand-over is carried on to the next
      // term even if this term's leader crashes (see machine.ts).
      if (last <= reserved && this.sm.touchedInEpoch(sequence)) {
        if (!this.leaseValid()) throw new LeaseExpiredError();
        if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
        const first = t.cursor;
        t.cursor = last + 1n;
        const h = this.hist(sequence);
        h.served += n;
        this.sums.served += n;
        h.requests++;
        this.observeRate(h, count);
        this.maybeRefill(l, sequence, t, reserved, h);
        this.parkIfIdle(l, sequence, t);
        return { first, count };
      }
      // Size the reservation by the demand waiting right now, so that a burst
      // of requests (e.g. thousands arriving before any rate is known) waits
      // for one reservation, not for many small ones in a row.
      const need = t.cursor - 1n + BigInt(t.waiting + count);
      let r = t.inflight;
      if (r === null) r = this.reserve(l, sequence, t, need > last ? need : last, count);
      else this.raiseIfOpen(r, sequence, need);
      t.waiting += count;
      try {
        await this.wait(l, r.promise, opts.signal);
      } finally {
        t.waiting -= count;
        this.parkIfIdle(l, sequence, t);
      }
    }
  }

  /** Throws unless `l` may serve right now (apart from the lease). */
  private assertServing(l: Leadership): void {
    if (this.leader !== l) throw new NotLeaderError('term-changed');
    if (l.sealed !== 0) throw new NotLeaderError('sealed');
    if (
      this.sm.lastNoopTerm !== l.term ||
      this.sm.epoch !== l.epoch ||
      this.sm.generation !== l.generation
    ) {
      this.stepDown();
      throw new NotLeaderError('superseded');
    }
    if (this.sm.pendingHandover() !== null) throw new NotLeaderError('handover-pending');
  }

  /** The term-local state of a sequence, its cursor at least this epoch's start. */
  private termSeq(l: Leadership, sequence: string): TermSeq {
    const start = this.sm.startFor(sequence);
    let t = l.seqs.get(sequence);
    if (t === undefined) {
      const parked = l.parked.take(this.sm.sequenceId(sequence));
      t = { cursor: parked ?? start, inflight: null, waiting: 0 };
      l.seqs.set(sequence, t);
    }
    if (t.cursor < start) {
      // An `advance` moved the sequence forward during this term.
      this.skip(this.hist(sequence), 'advance', start - t.cursor);
      t.cursor = start;
    }
    return t;
  }

  /**
   * Keeps only the cursor of a sequence with nothing in flight and nobody
   * waiting, in the leadership's column (termSeq() takes it back). A
   * sequence the state machine does not hold yet stays in the map.
   */
  private parkIfIdle(l: Leadership, sequence: string, t: TermSeq): void {
    if (t.inflight !== null || t.waiting !== 0 || l.seqs.get(sequence) !== t) return;
    if (this.leader !== l || this.sm.generation !== l.generation) return;
    const id = this.sm.sequenceId(sequence);
    if (id < 0) return;
    l.parked.park(id, t.cursor);
    l.seqs.delete(sequence);
  }

  private async wait(l: Leadership, p: Promise<void>, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new CancelledError(signal.reason);
    if (l.endedWith !== null) throw l.endedWith;
    let onEnd!: (e: NotLeaderError) => void;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<never>((_, reject) => {
      onEnd = reject;
      if (signal !== undefined) {
        onAbort = () => reject(new CancelledError(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    l.waiters.add(onEnd);
    try {
      await Promise.race([p, interrupted]);
    } catch (e) {
      if (e instanceof AllocatorError) throw e;
      if (this.leader !== l) throw new NotLeaderError('stepped-down');
      throw new ReservationFailedError(e);
    } finally {
      l.waiters.delete(onEnd);
      if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
    }
  }

  // -------------------------------------------------------------------------
  // Reservations

  private blockSize(h: SeqHistory, count: number): number {
    const want = Math.ceil(this.currentRate(h) * this.targetSeconds);
    const b = Math.min(this.maxBlock, Math.max(this.minBlock, want));
    return Math.max(b, count);
  }

  /** Double buffer: refill in the background when less than half a block is left. */
  private maybeRefill(
    l: Leadership,
    sequence: string,
    t: TermSeq,
    reserved: bigint,
    h: SeqHistory,
  ): void {
    if (t.inflight !== null || reserved >= MAX_VALUE) return;
    const left = reserved - t.cursor + 1n;
    if (left * 2n >= BigInt(this.blockSize(h, 1))) return;
    const r = this.reserve(l, sequence, t, t.cursor, 1);
    r.promise.catch(() => {}); // a background refill failing is not a request failing
  }

  /**
   * Proposes (batched with the other sequences of this tick) a reservation
   * reaching at least `need`, capped at MAX_VALUE. Caller ensures none is in flight.
   */
  private reserve(
    l: Leadership,
    sequence: string,
    t: TermSeq,
    need: bigint,
    count: number,
  ): Reservation {
    const h = this.hist(sequence);
    const reserved = this.sm.reservedUpTo(sequence);
    const top = reserved > t.cursor - 1n ? reserved : t.cursor - 1n;
    let upTo = top + BigInt(this.blockSize(h, count));
    if (upTo < need) upTo = need;
    if (upTo > MAX_VALUE) upTo = MAX_VALUE;
    const batch = this.openBatch(l);
    batch.items.set(sequence, upTo);
    h.proposed++;
    this.sums.reservationsProposed++;
    const r: Reservation = { upTo, promise: batch.promise, batch };
    t.inflight = r;
    batch.promise.then(
      () => {
        h.committed++;
        this.sums.reservationsCommitted++;
        if (t.inflight === r) t.inflight = null;
        this.parkIfIdle(l, sequence, t);
      },
      () => {
        h.failed++;
        this.sums.reservationsFailed++;
        if (t.inflight === r) t.inflight = null;
        this.parkIfIdle(l, sequence, t);
      },
    );
    return r;
  }

  /** A reservation not yet proposed (its batch still collecting) can still grow. */
  private raiseIfOpen(r: Reservation, sequence: string, need: bigint): void {
    if (this.batch !== r.batch || need <= r.upTo) return;
    const upTo = need > MAX_VALUE ? MAX_VALUE : need;
    r.upTo = upTo;
    r.batch.items.set(sequence, upTo);
  }

  private openBatch(l: Leadership): Batch {
    if (this.batch !== null) return this.batch;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // callers observe it; unobserved it must not crash the process
    const batch: Batch = { leader: l, items: new Map(), promise, resolve, reject };
    this.batch = batch;
    queueMicrotask(() => this.flushBatch());
    return batch;
  }

  /**
   * Proposes the open batch, unless its leadership already has
   * maxBatchesInFlight reserve entries in flight: then it stays open (and
   * keeps growing) until one of them settles.
   */
  private flushBatch(): void {
    const batch = this.batch;
    if (batch === null) return;
    const l = batch.leader;
    if (this.leader === l && l.sealed === 0 && l.proposing >= this.maxBatchesInFlight) return;
    this.batch = null;
    if (this.leader !== l || l.sealed !== 0) {
      batch.reject(new NotLeaderError(this.leader !== l ? 'stepped-down' : 'sealed'));
      return;
    }
    const items = [...batch.items].map(([sequence, upTo]) => ({ sequence, upTo }));
    let p: Promise<void>;
    try {
      p = this.proposeFn({ type: 'reserve', items });
    } catch (e) {
      p = Promise.reject(e);
    }
    l.proposing++;
    const settled = (): void => {
      l.proposing--;
      this.flushBatch();
    };
    p.then(
      () => {
        batch.resolve();
        settled();
      },
      (e: unknown) => {
        batch.reject(e);
        settled();
      },
    );
  }

  // -------------------------------------------------------------------------
  // Rate and waste accounting

  private skip(h: SeqHistory, cause: WasteCause, values: bigint): void {
    h.skipped[cause] += values;
    this.sums.skipped[cause] += values;
  }

  private hist(sequence: string): SeqHistory {
    return this.history.use(sequence);
  }

  private observeRate(h: SeqHistory, count: number): void {
    const now = this.now();
    if (h.windowStart < 0) h.windowStart = now;
    h.windowCount += count;
    const elapsed = now - h.windowStart;
    if (elapsed >= this.rateWindowMs) {
      const alpha = 1 - Math.exp(-elapsed / this.rateTauMs);
      h.rate += alpha * ((h.windowCount * 1000) / elapsed - h.rate);
      h.windowStart = now;
      h.windowCount = 0;
    }
  }

  /** The EWMA, or the open window's rate if that is higher (so bursts react at once). */
  private currentRate(h: SeqHistory): number {
    if (h.windowStart < 0) return h.rate;
    const elapsed = this.now() - h.windowStart;
    const open = elapsed > 0 ? (h.windowCount * 1000) / Math.max(elapsed, this.rateWindowMs) : 0;
    return Math.max(h.rate, open);
  }

  /**
   * Once the state machine is in a later epoch than this node's last
   * leadership, the values between where this node stopped and where the
   * next leader started were skipped: 'handover' if that epoch inherited a
   * handover, else 'crash'. Exact when this process survived its leadership;
   * a killed process cannot count its own loss.
   */
  private settleWaste(): void {
    const lc = this.lastCursors;
    if (lc === null || this.sm.epoch <= lc.epoch) return;
    this.lastCursors = null;
    const cause: WasteCause = this.sm.inheritedHandover() !== null ? 'handover' : 'crash';
    const settle = (seq: string, cursor: bigint): void => {
      const start = this.sm.startFor(seq);
      if (start > cursor) this.skip(this.hist(seq), cause, start - cursor);
    };
    for (const [seq, cursor] of lc.cursors) settle(seq, cursor);
    // Parked ids name sequences only while the state machine was not reloaded.
    if (lc.generation === this.sm.generation) {
      for (const [id, cursor] of lc.parked.entries()) settle(this.sm.sequenceName(id), cursor);
    }
  }

  /**
   * Sums over every sequence, kept as they change: O(1), for Status and
   * metrics, which must not walk a million sequences on the event loop.
   */
  totals(): AllocatorTotals {
    return { ...this.sums, skipped: { ...this.sums.skipped } };
  }

  /** Values per second this node served of `sequence` (0 if it never served it). */
  rate(sequence: string): number {
    const h = this.history.get(sequence);
    return h === undefined ? 0 : this.currentRate(h);
  }

  /** One sequence's counters (stats() for a single name), or undefined if never served here. */
  sequenceStats(sequence: string): SequenceStats | undefined {
    const h = this.history.get(sequence);
    return h === undefined ? undefined : this.statsOf(sequence, h);
  }

  /** Every sequence's counters: O(number of sequences); for tests and small clusters. */
  stats(): AllocatorStats {
    const l = this.leader;
    const sequences = new Map<string, SequenceStats>();
    for (const [seq, h] of this.history.entries()) sequences.set(seq, this.statsOf(seq, h));
    return {
      serving: this.serving,
      term: l?.term ?? null,
      sealed: (l?.sealed ?? 0) !== 0,
      sequences,
    };
  }

  private statsOf(seq: string, h: SeqHistory): SequenceStats {
    const l = this.leader;
    const cursor = l?.ready ? this.cursorOf(l, seq) : undefined;
    return {
      served: h.served,
      requests: h.requests,
      skipped: { ...h.skipped },
      reservationsProposed: h.proposed,
      reservationsCommitted: h.committed,
      reservationsFailed: h.failed,
      rate: this.currentRate(h),
      block: this.blockSize(h, 1),
      cursor: cursor ?? null,
      reserved: this.sm.reservedUpTo(seq),
    };
  }
}
