// A pool of raftseq.v1.Sequencer/NextStream bidi streams to one node. Calls
// are pipelined: many requests in flight per stream, matched to answers by
// id. grpc-js writes one syscall per message within a stream but coalesces
// across streams, so calls are spread over several streams (the least busy
// one, opening another while every open one has `perStream` in flight).
import { performance } from 'node:perf_hooks';
import type { NextStreamResponse__Output } from '../proto/generated/raftseq/v1/NextStreamResponse.js';
import type { NextStreamCall } from './channels.js';

/**
 * One answer of NextStream as the loader decodes it (every field present:
 * code a number, message and leader strings, id and first decimal strings).
 * Handed on as decoded: copying it field by field cost a measurable share of
 * the client's time per call.
 */
export type StreamAnswer = NextStreamResponse__Output;

interface Pending {
  resolve: (a: StreamAnswer) => void;
  reject: (e: Error) => void;
  /** performance.now() past which the request has timed out. */
  deadline: number;
  timeoutMs: number;
}

interface OneStream {
  call: NextStreamCall;
  pending: Map<string, Pending>;
  dead: boolean;
}

type StreamFactory = () => NextStreamCall;

/** Grace past a request's timeout before the client gives up on it (the server's own bound fires first). */
const TIMEOUT_GRACE_MS = 50;

export class StreamPool {
  private readonly streams: OneStream[] = [];
  private nextId = 1;
  private pendingCount = 0;
  // One timer for the whole pool, armed at the earliest deadline in flight:
  // a timer per request (set, then cleared on the answer) cost more CPU
  // than the rest of the client's work per call.
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly open: StreamFactory,
    private readonly maxStreams: number,
    private readonly perStream: number,
  ) {}

  /** Requests in flight over every stream of the pool. */
  get inFlight(): number {
    return this.pendingCount;
  }

  /**
   * Sends one request; resolves with its answer (whatever its code), rejects
   * with the stream's error (a grpc ServiceError when the stream ended with a
   * status) if the stream dies first, with StreamTimeout when no answer came
   * within `timeoutMs` (a hung node: paused, black-holed), or on abort.
   */
  send(
    sequence: string,
    count: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamAnswer> {
    const s = this.pick();
    const id = String(this.nextId++);
    const deadline = performance.now() + Math.max(1, timeoutMs) + TIMEOUT_GRACE_MS;
    return new Promise<StreamAnswer>((resolve, reject) => {
      const entry: Pending = { resolve, reject, deadline, timeoutMs };
      if (signal !== undefined) {
        const onAbort = (): void => {
          if (this.take(s, id) !== undefined) reject(new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (): void => signal.removeEventListener('abort', onAbort);
        entry.resolve = (a) => {
          done();
          resolve(a);
        };
        entry.reject = (e) => {
          done();
          reject(e);
        };
      }
      s.pending.set(id, entry);
      this.pendingCount++;
      if (deadline < this.timerAt) this.armTimer(deadline);
      s.call.write({ id, sequence, count, timeout_ms: Math.max(1, Math.floor(timeoutMs)) });
    });
  }

  /** Ends every stream; requests in flight fail with `reason`. */
  close(reason: Error = new Error('stream pool closed')): void {
    for (const s of this.streams.splice(0)) this.kill(s, reason);
    this.stopTimer();
  }

  private pick(): OneStream {
    let best: OneStream | null = null;
    for (const s of this.streams) {
      if (best === null || s.pending.size < best.pending.size) best = s;
    }
    if (
      best !== null &&
      (best.pending.size < this.perStream || this.streams.length >= this.maxStreams)
    ) {
      return best;
    }
    return this.add();
  }

  private add(): OneStream {
    const call = this.open();
    const s: OneStream = { call, pending: new Map(), dead: false };
    call.on('data', (r: StreamAnswer) => {
      const p = this.take(s, r.id);
      if (p === undefined) return; // timed out or aborted: the late answer is dropped
      p.resolve(r);
    });
    call.on('error', (e: Error) => this.kill(s, e));
    call.on('end', () => this.kill(s, new Error('the server ended the stream')));
    // 'status' with OK after 'end': nothing more to do.
    this.streams.push(s);
    return s;
  }

  /** Removes request `id` of stream `s` from what is in flight; undefined if it already left. */
  private take(s: OneStream, id: string): Pending | undefined {
    const p = s.pending.get(id);
    if (p === undefined) return undefined;
    s.pending.delete(id);
    if (--this.pendingCount === 0) this.stopTimer();
    return p;
  }

  private kill(s: OneStream, reason: Error): void {
    if (!s.dead) {
      s.dead = true;
      const i = this.streams.indexOf(s);
      if (i >= 0) this.streams.splice(i, 1);
      try {
        s.call.cancel();
      } catch {
        // already gone
      }
    }
    for (const id of [...s.pending.keys()]) this.take(s, id)?.reject(reason);
  }

  private armTimer(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - performance.now()));
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** Fails every request past its deadline, then re-arms at the earliest one left. */
  private expire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    let earliest = Infinity;
    for (const s of this.streams) {
      for (const [id, p] of s.pending) {
        if (p.deadline <= now) this.take(s, id)?.reject(new StreamTimeout(p.timeoutMs));
        else if (p.deadline < earliest) earliest = p.deadline;
      }
    }
    if (earliest !== Infinity && this.pendingCount > 0) this.armTimer(earliest);
  }
}

/** No answer within the attempt timeout. */
export class StreamTimeout extends Error {
  override name = 'StreamTimeout';
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms)} ms`);
  }
}
