// The fast path of SequenceClient.next: one attempt over a pool of NextStream
// streams to the known leader. It never retries by itself: on any error the
// client retries, it updates what the router knows of the leader and hands
// the call back to the unary path, which follows redirects and backs off.
import type { Channels } from './channels.js';
import { nextResult, type NextResult } from './decode.js';
import { GrpcStatus, RaftseqError, asServiceError, statusName } from './errors.js';
import { attemptTimeoutMs, isRetryable, leaderHint, leaderHintOf, type Router } from './retry.js';
import { StreamPool, type StreamAnswer } from './stream.js';

export class StreamedNext {
  private readonly pools = new Map<string, StreamPool>();
  /** Nodes that answered NextStream with UNIMPLEMENTED (older servers). */
  private readonly noStreams = new Set<string>();

  constructor(
    private readonly channels: Channels,
    private readonly router: Router,
    private readonly limits: { maxStreams: number; perStream: number; attemptTimeoutMs: number },
  ) {}

  /** Whether `node` may be asked over a stream (it did not answer UNIMPLEMENTED). */
  supports(node: string): boolean {
    return !this.noStreams.has(node);
  }

  /**
   * One attempt over the leader's stream pool. Null: a retryable failure
   * (redirect, stream broken, timeout); the caller continues on the unary
   * path, which follows redirects and backs off. (A plain promise chain,
   * not an async function: one promise less per call on the hot path.)
   */
  attempt(
    leader: string,
    sequence: string,
    count: number,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<NextResult | null> {
    if (this.router.closed) return Promise.reject(this.router.closedError(0));
    if (signal?.aborted) return Promise.reject(this.router.cancelled(0, signal.reason));
    return this.poolFor(leader)
      .send(sequence, count, attemptTimeoutMs(deadlineMs, this.limits.attemptTimeoutMs), signal)
      .then(
        (answer) => this.answered(answer, leader, count),
        (e: unknown) => this.failed(e, leader, signal),
      );
  }

  /** The result of an answer; null when the client retries its code, else it throws. */
  private answered(answer: StreamAnswer, leader: string, count: number): NextResult | null {
    if (answer.code === GrpcStatus.OK) return nextResult(answer, count, leader);
    if (isRetryable(answer.code)) {
      if (answer.code === GrpcStatus.UNAVAILABLE) {
        const hint = leaderHint([answer.leader]);
        if (hint !== null && hint !== leader) this.router.replaceLeader(leader, hint);
      }
      return null;
    }
    throw new RaftseqError(answer.code, answer.message || statusName(answer.code), {
      endpoint: leader,
      attempts: 1,
      details: answer.message,
    });
  }

  /** The stream failed (or the call was aborted): what the router learns, then null or a throw. */
  private failed(e: unknown, leader: string, signal: AbortSignal | undefined): null {
    if (signal?.aborted) throw this.router.cancelled(1, e);
    if (this.router.closed) throw this.router.closedError(1);
    const err = asServiceError(e);
    if (err?.code === GrpcStatus.UNIMPLEMENTED) {
      this.noStreams.add(leader);
    } else if (err !== null && err.code === GrpcStatus.UNAVAILABLE) {
      // The stream ended with a redirect (or "no leader known"): its status
      // carries the same trailing metadata as a unary answer.
      this.router.replaceLeader(leader, leaderHintOf(err));
    }
    return null;
  }

  /** Ends every stream; calls in flight on them fail. */
  close(): void {
    for (const pool of this.pools.values()) pool.close(new Error('the client is closed'));
    this.pools.clear();
  }

  private poolFor(address: string): StreamPool {
    let pool = this.pools.get(address);
    if (pool === undefined) {
      pool = new StreamPool(
        this.channels.nextStreamOpener(address),
        this.limits.maxStreams,
        this.limits.perStream,
      );
      this.pools.set(address, pool);
    }
    return pool;
  }
}
