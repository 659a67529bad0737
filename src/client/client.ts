// SequenceClient: the TypeScript client of raftseq. next() and leases here;
// the admin calls in admin.ts, the retry/redirect loop in retry.ts, the
// NextStream fast path in streamed-next.ts, the options in options.ts.
import { performance } from 'node:perf_hooks';
import { AdminClient } from './admin.js';
import { nextResult, type NextResult } from './decode.js';
import { SequenceLease, type LeaseOptions } from './lease.js';
import { callDeadlineMs, type CallOptions, type SequenceClientOptions } from './options.js';
import { StreamedNext } from './streamed-next.js';
import { assertCount, assertSequenceName } from './validate.js';

/**
 * Client of a raftseq cluster: `next()` hands out sequence values, the other
 * methods wrap the admin API (`raftseq.v1.Cluster`).
 *
 * ```ts
 * import { SequenceClient } from 'raftseq';
 * const client = new SequenceClient({ endpoints: ['10.0.0.1:7001', '10.0.0.2:7001'] });
 * const { first, count } = await client.next('orders', 10); // first .. first+9
 * client.close();
 * ```
 *
 * One client may serve many concurrent calls; it keeps one channel per node
 * and remembers the last known leader. Errors are {@link RaftseqError}s.
 */
export class SequenceClient extends AdminClient {
  private readonly streamed: StreamedNext;
  private nextInFlight = 0;
  private readonly leases = new Set<SequenceLease>();
  private leaseSkipped = 0n;

  constructor(options: SequenceClientOptions) {
    super(options);
    this.streamed = new StreamedNext(this.channels, this.router, {
      maxStreams: this.settings.maxStreams,
      perStream: this.settings.perStream,
      attemptTimeoutMs: this.settings.retry.attemptTimeoutMs,
    });
  }

  /**
   * Reserves `count` (default 1) consecutive values of `sequence`, created at
   * 1 on first use. Resolves to `{ first, count }`: the values
   * first .. first+count-1 are the caller's and nobody else's.
   *
   * @throws RaftseqError INVALID_ARGUMENT (bad name or count; not retried),
   *   OUT_OF_RANGE (the sequence would pass 2^63-1; not retried),
   *   UNAVAILABLE / DEADLINE_EXCEEDED (no leader answered within the deadline).
   */
  async next(sequence: string, count = 1, options: CallOptions = {}): Promise<NextResult> {
    assertSequenceName(sequence);
    assertCount(count);
    const deadlineMs = callDeadlineMs(options, this.settings.retry.deadlineMs);
    const start = performance.now();
    this.nextInFlight++;
    try {
      const leader = this.router.leader;
      if (leader !== null && this.streamed.supports(leader) && this.streams()) {
        const r = await this.streamed.attempt(leader, sequence, count, deadlineMs, options.signal);
        if (r !== null) return r;
      }
      // Unary, or the rest of a streamed call that met a retryable error.
      const left = deadlineMs - (performance.now() - start);
      const { response, endpoint } = await this.call(
        { service: 'Sequencer', method: 'Next', leaderOnly: true },
        { sequence, count },
        { ...options, deadlineMs: Math.max(1, left) },
      );
      return nextResult(response, count, endpoint);
    } finally {
      this.nextInFlight--;
    }
  }

  /** Whether the next call goes over a stream, by the `transport` option. */
  private streams(): boolean {
    const { transport, streamMinInFlight } = this.settings;
    return (
      transport === 'stream' || (transport === 'auto' && this.nextInFlight >= streamMinInFlight)
    );
  }

  /**
   * Opt-in client leasing: a {@link SequenceLease} that takes ranges of
   * `blockSize` values (default 1000) of `sequence` through next() and hands
   * them out in-process, one at a time, without a round trip.
   *
   * Values stay unique across every client. Real-time order across clients
   * is WEAKER than with next(): a value handed out later by a lease may be
   * smaller than one another client already received, since the lease holds
   * a range taken earlier. Values left when the lease (or this client)
   * closes are skipped — never reissued — and counted
   * ({@link SequenceLease.stats}, {@link SequenceClient.leasedValuesSkipped}).
   */
  lease(sequence: string, options: LeaseOptions = {}): SequenceLease {
    assertSequenceName(sequence);
    const blockSize = options.blockSize ?? 1000;
    assertCount(blockSize);
    if (this.router.closed) throw this.router.closedError(0);
    const lease = new SequenceLease(
      sequence,
      blockSize,
      (count) => this.next(sequence, count),
      (l) => {
        this.leases.delete(l);
        this.leaseSkipped += l.stats.skipped;
      },
    );
    this.leases.add(lease);
    return lease;
  }

  /** Values taken by leases of this client that were never handed out (closed leases). */
  get leasedValuesSkipped(): bigint {
    return this.leaseSkipped;
  }

  /** Closes leases, streams and channels; calls made afterwards fail with CANCELLED. Idempotent. */
  override close(): void {
    for (const lease of [...this.leases]) void lease.close();
    this.router.close();
    this.streamed.close();
    super.close();
  }
}
