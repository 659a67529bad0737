import { describe, expect, it } from 'vitest';
import {
  Allocator,
  CancelledError,
  InvalidArgumentError,
  LeaseExpiredError,
  NotLeaderError,
  OutOfRangeError,
  ReservationFailedError,
} from '../../src/state/allocator.js';
import type { AllocatorOptions } from '../../src/state/allocator.js';
import { MAX_VALUE, encodeCommand } from '../../src/state/commands.js';
import type { Command, ReserveCommand } from '../../src/state/commands.js';
import { SequenceStateMachine } from '../../src/state/machine.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** One node: a real state machine and a fake proposer the test commits by hand. */
class Node {
  readonly sm = new SequenceStateMachine();
  readonly proposals: { cmd: Command; resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly committed: Command[] = [];
  readonly alloc: Allocator;
  clock = 0;
  lease = true;
  index = 0;
  term = 0;

  constructor(opts: Partial<AllocatorOptions> = {}) {
    this.alloc = new Allocator({
      sm: this.sm,
      now: () => this.clock,
      leaseValid: () => this.lease,
      propose: (cmd) =>
        new Promise<void>((resolve, reject) => this.proposals.push({ cmd, resolve, reject })),
      ...opts,
    });
  }

  append(term: number, data: Uint8Array): void {
    this.index++;
    this.sm.apply({ index: this.index, term, type: 'normal', data });
    this.alloc.onApplied(this.index);
  }

  /** This node becomes leader and (by default) applies its no-op. */
  elect(term = this.term + 1, applyNoop = true): void {
    this.term = term;
    this.alloc.becomeLeader(term, this.index + 1);
    if (applyNoop) this.append(term, new Uint8Array());
  }

  /** Another node's term starts (its no-op is applied here). */
  otherLeader(term = this.term + 1): void {
    this.term = term;
    this.append(term, new Uint8Array());
  }

  /** Commit and apply every proposal, in order, then resolve them. */
  async commitAll(): Promise<void> {
    await tick();
    for (const p of this.proposals.splice(0)) {
      this.append(this.term, encodeCommand(p.cmd));
      this.committed.push(p.cmd);
      p.resolve();
    }
    await tick();
  }

  /** Commit rounds until the promise settles (a waiter may need several reservations). */
  async until<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const q = p.finally(() => (settled = true));
    q.catch(() => {}); // only `settled` is observed here
    for (let i = 0; i < 20 && !settled; i++) await this.commitAll();
    return q;
  }

  command(cmd: Command): void {
    this.append(this.term, encodeCommand(cmd));
  }

  reserves(): ReserveCommand[] {
    return this.committed.filter((c): c is ReserveCommand => c.type === 'reserve');
  }
}

const node = (opts: Partial<AllocatorOptions> = {}) => new Node(opts);

describe('Allocator', () => {
  it('serves only from a committed reservation, then from memory', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1);
    await tick();
    expect(n.proposals).toHaveLength(1);
    expect(n.proposals[0]!.cmd).toEqual({ type: 'reserve', items: [{ sequence: 'a', upTo: 16n }] });
    await n.commitAll();
    await expect(p).resolves.toEqual({ first: 1n, count: 1 });
    await expect(n.alloc.next('a', 3)).resolves.toEqual({ first: 2n, count: 3 });
    expect(n.alloc.peekNext('a')).toBe(5n);
    expect(n.alloc.peekNext('untouched')).toBe(1n);
    expect(n.proposals).toHaveLength(0); // still more than half a block left
  });

  it('rejects a bad count, and everything on a follower', async () => {
    const n = node();
    await expect(n.alloc.next('a', 1)).rejects.toBeInstanceOf(NotLeaderError);
    n.elect();
    await expect(n.alloc.next('a', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(n.alloc.next('a', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('concurrent waiters share one proposal; sequences of one tick share one entry', async () => {
    const n = node();
    n.elect();
    const as = Array.from({ length: 10 }, () => n.alloc.next('a', 1));
    const b = n.alloc.next('b', 2);
    await tick();
    expect(n.proposals).toHaveLength(1);
    expect((n.proposals[0]!.cmd as ReserveCommand).items.map((i) => i.sequence)).toEqual([
      'a',
      'b',
    ]);
    await n.commitAll();
    const firsts = (await Promise.all(as)).map((r) => r.first);
    expect(firsts).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
    await expect(b).resolves.toEqual({ first: 1n, count: 2 });
  });

  it('a request larger than the rest waits for the extension and uses the rest too (no remainder waste)', async () => {
    const n = node();
    n.elect();
    const p1 = n.alloc.next('a', 10);
    await n.commitAll();
    await p1; // 1..10 of 1..16; a background refill is in flight now
    const p2 = n.alloc.next('a', 30);
    await n.commitAll();
    await n.commitAll();
    await expect(p2).resolves.toEqual({ first: 11n, count: 30 });
    expect(n.alloc.stats().sequences.get('a')!.skipped['block-remainder']).toBe(0n);
  });

  it('double buffer: refills in the background so steady-state requests never wait', async () => {
    const n = node();
    n.elect();
    const first = n.alloc.next('a', 1);
    await n.commitAll();
    await first;
    let waited = 0;
    for (let i = 0; i < 200; i++) {
      n.clock += 5;
      let done = false;
      const p = n.alloc.next('a', 1).then((r) => ((done = true), r));
      await tick();
      if (!done) waited++;
      await p.catch(() => {}); // waiting for it to settle, either way
      if (!done) throw new Error('a request waited: refill came too late');
      await n.commitAll(); // consensus keeps up with the refills
    }
    expect(waited).toBe(0);
    const s = n.alloc.stats().sequences.get('a')!;
    expect(s.reservationsProposed).toBeGreaterThan(1);
    expect(s.reservationsCommitted).toBe(s.reservationsProposed);
  });

  it('adapts the block size: a hot sequence gets bigger blocks', async () => {
    const n = node();
    n.elect();
    // 1,000 values per 10 ms = 100,000 values/s; target 2 s => blocks near 200,000.
    for (let i = 0; i < 300; i++) {
      n.clock += 10;
      await n.until(n.alloc.next('hot', 1000));
    }
    const sizes: bigint[] = [];
    let prev = 0n;
    for (const r of n.reserves()) {
      const upTo = r.items.find((i) => i.sequence === 'hot')!.upTo;
      sizes.push(upTo - prev);
      prev = upTo;
    }
    expect(sizes[0]).toBe(1000n); // always >= count
    expect(sizes.at(-1)!).toBeGreaterThan(100_000n);
    expect(sizes.at(-1)!).toBeLessThanOrEqual(1_000_000n);
    expect(n.alloc.stats().sequences.get('hot')!.rate).toBeGreaterThan(50_000);
    // A cold sequence stays at the minimum.
    await n.until(n.alloc.next('cold', 1));
    expect(n.reserves().at(-1)!.items).toContainEqual({ sequence: 'cold', upTo: 16n });
  });

  it('lease invalid at the moment of answering: rejected, nothing consumed', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1).catch((e: unknown) => e);
    n.lease = false;
    await n.commitAll();
    expect(await p).toBeInstanceOf(LeaseExpiredError);
    await expect(n.alloc.next('a', 5)).rejects.toBeInstanceOf(LeaseExpiredError);
    n.lease = true;
    await expect(n.alloc.next('a', 1)).resolves.toEqual({ first: 1n, count: 1 });
  });

  it('waits for the term no-op before serving anything', async () => {
    const n = node();
    n.elect(1, false);
    let done = false;
    const p = n.alloc.next('a', 1).then((r) => ((done = true), r));
    await tick();
    expect(done).toBe(false);
    expect(n.proposals).toHaveLength(0);
    n.append(1, new Uint8Array()); // the no-op applies
    await n.commitAll();
    await expect(p).resolves.toEqual({ first: 1n, count: 1 });
  });

  it('never answers after stepDown; waiters are rejected', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1);
    await n.commitAll();
    await p;
    const waiting = n.alloc.next('a', 100); // needs a new reservation
    await tick();
    n.alloc.stepDown();
    await expect(waiting).rejects.toBeInstanceOf(NotLeaderError);
    await expect(n.alloc.next('a', 1)).rejects.toBeInstanceOf(NotLeaderError); // block has 15 left
    // The reservation committing after stepDown changes nothing.
    await n.commitAll();
    await expect(n.alloc.next('a', 1)).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('stops serving when the state machine shows a newer term', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1);
    await n.commitAll();
    await p;
    n.otherLeader();
    await expect(n.alloc.next('a', 1)).rejects.toMatchObject({ reason: 'superseded' });
    expect(n.alloc.serving).toBe(false);
  });

  it('OUT_OF_RANGE near 2^63-1: nothing consumed, reservations capped', async () => {
    const n = node();
    n.elect();
    n.command({ type: 'advance', sequence: 'a', to: MAX_VALUE - 5n });
    const p = n.alloc.next('a', 2);
    await n.commitAll();
    await expect(p).resolves.toEqual({ first: MAX_VALUE - 5n, count: 2 });
    for (const r of n.reserves())
      for (const i of r.items) expect(i.upTo).toBeLessThanOrEqual(MAX_VALUE);
    const err = await n.alloc.next('a', 5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfRangeError);
    expect((err as OutOfRangeError).code).toBe('OUT_OF_RANGE');
    await expect(n.alloc.next('a', 4)).resolves.toEqual({ first: MAX_VALUE - 3n, count: 4 });
    await expect(n.alloc.next('a', 1)).rejects.toBeInstanceOf(OutOfRangeError);
    // A new leader inherits the exhaustion.
    n.otherLeader();
    n.elect();
    await expect(n.alloc.next('a', 1)).rejects.toBeInstanceOf(OutOfRangeError);
  });

  it('graceful hand-over: seal gives the exact next value; the next leader continues there', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 3);
    await n.commitAll();
    await p;
    const { items } = n.alloc.seal()!;
    expect(items).toEqual([{ sequence: 'a', next: 4n }]);
    await expect(n.alloc.next('a', 1)).rejects.toMatchObject({ reason: 'sealed' });
    n.command({ type: 'handover', items });
    n.alloc.stepDown();
    n.elect(); // the next leader (here: this node again) inherits the handover
    // It serves 'a' only once a reservation of its own term touched it (so
    // that, should it crash, the state machine may pass the exact 4 on).
    const reservesBefore = n.reserves().length;
    await expect(n.until(n.alloc.next('a', 1))).resolves.toEqual({ first: 4n, count: 1 });
    expect(n.reserves().length).toBe(reservesBefore + 1);
    expect(n.alloc.stats().sequences.get('a')!.skipped).toMatchObject({ crash: 0n, handover: 0n });
  });

  it('aborted transfer: serves again only after resume commits and unseal', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 3);
    await n.commitAll();
    await p;
    const seal = n.alloc.seal()!;
    n.command({ type: 'handover', items: seal.items });
    expect(n.alloc.unseal(seal.generation)).toBe(true);
    await expect(n.alloc.next('a', 1)).rejects.toMatchObject({ reason: 'handover-pending' });
    n.command({ type: 'resume' });
    await expect(n.alloc.next('a', 1)).resolves.toEqual({ first: 4n, count: 1 });
  });

  it('a resume unseals only the seal it was proposed for, never a newer one', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 3);
    await n.commitAll();
    await p;
    // Two hand-overs overlap: the first one's transfer failed and its resume
    // commits after the second one sealed again.
    const first = n.alloc.seal()!;
    n.command({ type: 'handover', items: first.items });
    n.command({ type: 'resume' });
    const second = n.alloc.seal()!;
    expect(n.alloc.unseal(first.generation)).toBe(false);
    await expect(n.alloc.next('a', 1)).rejects.toMatchObject({ reason: 'sealed' });
    expect(n.alloc.unseal(second.generation)).toBe(true);
    await expect(n.alloc.next('a', 1)).resolves.toEqual({ first: 4n, count: 1 });
  });

  it('refuses to create a sequence beyond maxSequences, consuming nothing', async () => {
    const n = node({ maxSequences: 2 });
    n.elect();
    for (const name of ['a', 'b']) {
      const p = n.alloc.next(name, 1);
      await n.commitAll();
      await p;
    }
    const reserves = n.reserves().length;
    await expect(n.alloc.next('c', 1)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(n.reserves().length).toBe(reserves);
    // Existing sequences are served as before.
    await expect(n.until(n.alloc.next('a', 1))).resolves.toMatchObject({ first: 2n });
  });

  it('seal before the no-op is applied hands over nothing (and the state machine carries the rest)', () => {
    const n = node();
    n.elect(1, false);
    expect(n.alloc.seal()?.items).toEqual([]);
  });

  it('a node that does not lead seals nothing: no handover may be recorded', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 3);
    await n.commitAll();
    await p;
    n.alloc.stepDown(); // e.g. a stopping node, while its core still leads
    expect(n.alloc.seal()).toBeNull();
  });

  it('counts crash waste when the next epoch starts above where this leader stopped', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 5);
    await n.commitAll();
    await p; // 1..5 of 1..16
    n.alloc.stepDown();
    n.otherLeader(); // next leader starts at 17
    expect(n.alloc.stats().sequences.get('a')!.skipped.crash).toBe(11n);
    // The running totals (Status, metrics) agree with the per-sequence counters.
    expect(n.alloc.totals()).toMatchObject({
      served: 5n,
      skipped: { crash: 11n, handover: 0n, advance: 0n },
      reservationsProposed: 1,
      reservationsCommitted: 1,
    });
    expect(n.alloc.sequenceStats('a')).toEqual(n.alloc.stats().sequences.get('a'));
  });

  it('follows an advance during the term and counts it', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1);
    await n.commitAll();
    await p;
    n.command({ type: 'advance', sequence: 'a', to: 1000n });
    const q = n.alloc.next('a', 1);
    await n.commitAll();
    await expect(q).resolves.toEqual({ first: 1000n, count: 1 });
    expect(n.alloc.stats().sequences.get('a')!.skipped.advance).toBe(998n);
  });

  it('a failed reservation fails its waiters with UNAVAILABLE; the next request proposes again', async () => {
    const n = node();
    n.elect();
    const p = n.alloc.next('a', 1);
    await tick();
    n.proposals.shift()!.reject(new Error('commit timeout'));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReservationFailedError);
    expect((err as ReservationFailedError).code).toBe('UNAVAILABLE');
    const q = n.alloc.next('a', 1);
    await n.commitAll();
    await expect(q).resolves.toEqual({ first: 1n, count: 1 });
  });

  it('an aborted request (deadline) is rejected and consumes nothing', async () => {
    const n = node();
    n.elect();
    const ac = new AbortController();
    const p = n.alloc.next('a', 1, { signal: ac.signal });
    await tick();
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    await n.commitAll();
    await expect(n.alloc.next('a', 1)).resolves.toEqual({ first: 1n, count: 1 });
  });

  it('many sequences: idle ones keep only their cursor and go on exactly where they stopped', async () => {
    const n = node({ historyLimit: 2 });
    n.elect();
    const names = ['a', 'b', 'c', 'd', 'e'];
    const got = new Map<string, bigint[]>(names.map((s) => [s, []]));
    for (let round = 0; round < 3; round++) {
      const results = await n.until(Promise.all(names.map((s) => n.alloc.next(s, 2))));
      results.forEach((r, i) => got.get(names[i]!)!.push(r.first, r.first + 1n));
      // Another round from memory only (the blocks hold 16).
      for (const s of names) {
        const r = await n.alloc.next(s, 1);
        got.get(s)!.push(r.first);
      }
    }
    for (const s of names) {
      expect(got.get(s)).toEqual(Array.from({ length: 9 }, (_, i) => BigInt(i + 1)));
      expect(n.alloc.peekNext(s)).toBe(10n);
    }
    // Counters for the most recently used only; the totals stay exact.
    expect(n.alloc.stats().sequences.size).toBeLessThanOrEqual(2);
    expect(n.alloc.totals().served).toBe(45n);
    // A hand-over lists every sequence served in the term, idle or not.
    const { items } = n.alloc.seal()!;
    expect(new Map(items.map((it) => [it.sequence, it.next]))).toEqual(
      new Map(names.map((s) => [s, 10n])),
    );
    // And a crash after it counts the waste of every one of them.
    n.alloc.stepDown();
    n.otherLeader();
    expect(n.alloc.totals().skipped.crash).toBe(5n * 7n);
  });

  it('a storm of new sequences: a few entries in flight, the rest gather in one', async () => {
    const n = node({ maxBatchesInFlight: 2 });
    n.elect();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      calls.push(n.alloc.next(`s${i}`, 1));
      await tick(); // each request in its own turn of the event loop
    }
    expect(n.proposals.map((p) => (p.cmd as ReserveCommand).items.length)).toEqual([1, 1]);
    // Settling one in-flight entry proposes everything gathered since, at once.
    const first = n.proposals.shift()!;
    n.append(n.term, encodeCommand(first.cmd));
    first.resolve();
    await tick();
    expect(n.proposals.map((p) => (p.cmd as ReserveCommand).items.length)).toEqual([1, 8]);
    await n.until(Promise.all(calls));
    for (let i = 0; i < 10; i++) expect(n.alloc.peekNext(`s${i}`)).toBe(2n);
  });
});
