import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ApiClock, ApiNode } from '../../src/api/node-api.js';
import { sequencerHandlers } from '../../src/api/sequencer.js';
import { StreamDeadlines, windowMs } from '../../src/api/stream-deadlines.js';
import { CancelledError } from '../../src/state/allocator.js';
import { callDuplex, callUnary, type Outcome } from '../sim/node/calls.js';

/** A wall clock that moves only when told to, with the timers it fired. */
class ManualClock implements ApiClock {
  private t = 1_000_003; // not on a window boundary
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  started = 0;

  wallNow(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    this.started++;
    return () => {
      timer.live = false;
    };
  }

  advance(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
  }
}

describe('StreamDeadlines', () => {
  it('gives requests whose deadlines fall in one window one signal and one timer', () => {
    const clock = new ManualClock();
    const d = new StreamDeadlines(clock);
    const a = d.signalFor(3000);
    clock.advance(1);
    const b = d.signalFor(3000);
    expect(b.signal).toBe(a.signal);
    expect(b.deadlineAt).toBe(a.deadlineAt + 1);
    expect(clock.started).toBe(1);
    clock.advance(windowMs(3000) + 1);
    expect(d.signalFor(3000).signal).not.toBe(a.signal);
    expect(clock.started).toBe(2);
  });

  it('aborts a window never before its deadlines and at most one window late', () => {
    const clock = new ManualClock();
    const d = new StreamDeadlines(clock);
    const { signal, deadlineAt } = d.signalFor(200);
    clock.advance(deadlineAt - clock.wallNow() - 1);
    expect(signal.aborted).toBe(false);
    clock.advance(windowMs(200) + 1);
    expect(signal.aborted).toBe(true);
    expect(d.open).toBe(0);
  });

  it('keeps the lateness within 3% of the timeout, 10 to 100 ms', () => {
    expect(windowMs(1)).toBe(10);
    expect(windowMs(3000)).toBe(93);
    expect(windowMs(60_000)).toBe(100);
  });

  it('close(reason) aborts every open window and the requests that come later', () => {
    const clock = new ManualClock();
    const d = new StreamDeadlines(clock);
    const a = d.signalFor(100).signal;
    const b = d.signalFor(5000).signal;
    const reason = new Error('cancelled');
    d.close(reason);
    expect([a.aborted, b.aborted]).toEqual([true, true]);
    expect(a.reason).toBe(reason);
    expect(d.open).toBe(0);
    expect(d.signalFor(100).signal.aborted).toBe(true);
  });

  it('close() after the last answer stops the timers without aborting', () => {
    const clock = new ManualClock();
    const d = new StreamDeadlines(clock);
    const a = d.signalFor(100).signal;
    d.close();
    clock.advance(1000);
    expect(a.aborted).toBe(false);
    expect(d.open).toBe(0);
  });
});

/**
 * A leader whose allocator never has values ready: every Next waits on its
 * signal (or, with `serve`, is served at once). `signals` are the signals it was given.
 */
function waitingLeader(
  clock: ApiClock,
  serve = false,
): { node: ApiNode; waiting: () => number; signals: AbortSignal[] } {
  let waiting = 0;
  const signals: AbortSignal[] = [];
  const node = {
    id: 'n1',
    maxCount: 1_000_000,
    clock,
    log: { error: () => undefined },
    nextRejected: () => undefined,
    status: () => ({ role: 'leader' }),
    leaderAddress: () => null,
    next: (_sequence: string, count: number, opts: { signal?: AbortSignal }) => {
      if (opts.signal) signals.push(opts.signal);
      if (serve) return Promise.resolve({ first: 1n, count });
      return new Promise((_, reject) => {
        waiting++;
        opts.signal?.addEventListener('abort', () => {
          waiting--;
          reject(new CancelledError(opts.signal?.reason));
        });
      });
    },
  } as unknown as ApiNode;
  return { node, waiting: () => waiting, signals };
}

function openStream(node: ApiNode) {
  const answers: Record<string, unknown>[] = [];
  let closed: unknown = undefined;
  const handler = sequencerHandlers(node)['NextStream'] as (call: unknown) => void;
  const end = callDuplex(
    handler,
    (fn) => fn(),
    (a) => answers.push(a),
    (status) => (closed = status),
  );
  return { end, answers, closed: () => closed };
}

/** A stream to a waiting leader with two requests waiting: '1' with timeout_ms 500, '2' without. */
async function twoWaiting() {
  const clock = new ManualClock();
  const { node, waiting } = waitingLeader(clock);
  const s = openStream(node);
  s.end.write({ id: '1', sequence: 's', count: 1, timeout_ms: 500 });
  s.end.write({ id: '2', sequence: 's', count: 1, timeout_ms: 0 });
  await Promise.resolve();
  expect(waiting()).toBe(2);
  return { clock, s, waiting };
}

describe('NextStream timeout_ms', () => {
  it('answers DEADLINE_EXCEEDED once a waiting request passes its timeout, not before', async () => {
    const { clock, s, waiting } = await twoWaiting();
    clock.advance(499);
    await new Promise((r) => setImmediate(r));
    expect(s.answers).toEqual([]);
    clock.advance(windowMs(500) + 1);
    await new Promise((r) => setImmediate(r));
    expect(s.answers).toMatchObject([{ id: '1', code: grpc.status.DEADLINE_EXCEEDED }]);
    expect(waiting()).toBe(1); // the request without a timeout waits on
  });

  it('a cancelled stream aborts every waiting request, with or without a timeout', async () => {
    const { s, waiting } = await twoWaiting();
    s.end.cancel();
    expect(waiting()).toBe(0);
  });
});

describe('Next (unary) cancellation', () => {
  const unary = (node: ApiNode) =>
    sequencerHandlers(node)['Next'] as Parameters<typeof callUnary>[0];

  it('a call cancelled while it waits is answered CANCELLED', async () => {
    const { node, waiting } = waitingLeader(new ManualClock());
    let outcome: Outcome | null = null;
    const call = callUnary(
      unary(node),
      { sequence: 's', count: 1 },
      Infinity,
      (o) => (outcome = o),
    );
    await Promise.resolve();
    expect(waiting()).toBe(1);
    call.cancel();
    await new Promise((r) => setImmediate(r));
    expect(outcome).toMatchObject({ code: grpc.status.CANCELLED });
  });

  it("grpc-js's 'cancelled' after the answer (it comes after every call) aborts nothing", async () => {
    const { node, signals } = waitingLeader(new ManualClock(), true);
    let outcome: Outcome | null = null;
    const call = callUnary(
      unary(node),
      { sequence: 's', count: 1 },
      Infinity,
      (o) => (outcome = o),
    );
    await new Promise((r) => setImmediate(r));
    expect(outcome).toMatchObject({ code: grpc.status.OK });
    call.cancel();
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
  });
});
