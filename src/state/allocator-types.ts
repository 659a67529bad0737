// The allocator's public vocabulary: its errors (each mapped to a contract
// status code by the API), options, and the counters it reports. Kept apart
// from allocator.ts, which is the serving logic itself.

import { MAX_VALUE } from './commands.js';
import type { Command } from './commands.js';
import type { SequenceStateMachine } from './machine.js';

export type AllocatorErrorCode =
  'UNAVAILABLE' | 'OUT_OF_RANGE' | 'INVALID_ARGUMENT' | 'CANCELLED' | 'RESOURCE_EXHAUSTED';

export abstract class AllocatorError extends Error {
  /** The gRPC status the API should answer with. */
  abstract readonly code: AllocatorErrorCode;
}

export type NotLeaderReason =
  'not-leader' | 'stepped-down' | 'term-changed' | 'sealed' | 'handover-pending' | 'superseded';

/** This node is not (or no longer, or not yet allowed to act as) the serving leader. */
export class NotLeaderError extends AllocatorError {
  override name = 'NotLeaderError';
  readonly code = 'UNAVAILABLE';
  constructor(readonly reason: NotLeaderReason) {
    super(`not the serving leader (${reason})`);
  }
}

/** The leader's lease is not valid at the moment of answering. */
export class LeaseExpiredError extends AllocatorError {
  override name = 'LeaseExpiredError';
  readonly code = 'UNAVAILABLE';
  constructor() {
    super('leader lease not valid; retry');
  }
}

/** The reservation the request waited for could not be committed (timeout, I/O). */
export class ReservationFailedError extends AllocatorError {
  override name = 'ReservationFailedError';
  readonly code = 'UNAVAILABLE';
  constructor(cause: unknown) {
    super(`reservation failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** The request would pass 2^63-1. Nothing was consumed. */
export class OutOfRangeError extends AllocatorError {
  override name = 'OutOfRangeError';
  readonly code = 'OUT_OF_RANGE';
  constructor(
    readonly sequence: string,
    readonly next: bigint,
    readonly count: number,
  ) {
    super(
      `sequence ${JSON.stringify(sequence)} cannot hand out ${count} more value(s) from ${next}: ` +
        `the largest value is ${MAX_VALUE}`,
    );
  }
}

export class InvalidArgumentError extends AllocatorError {
  override name = 'InvalidArgumentError';
  readonly code = 'INVALID_ARGUMENT';
}

/** Creating one more sequence would pass --max-sequences. Nothing was consumed. */
export class SequenceLimitError extends AllocatorError {
  override name = 'SequenceLimitError';
  readonly code = 'RESOURCE_EXHAUSTED';
  constructor(sequence: string, limit: number) {
    super(
      `cannot create sequence ${JSON.stringify(sequence)}: the cluster holds its limit of ${limit} sequences (serve --max-sequences)`,
    );
  }
}

/** The caller's AbortSignal fired while the request waited. Nothing was consumed. */
export class CancelledError extends AllocatorError {
  override name = 'CancelledError';
  readonly code = 'CANCELLED';
  constructor(reason: unknown) {
    super('request cancelled while waiting', { cause: reason });
  }
}

export type WasteCause = 'block-remainder' | 'crash' | 'handover' | 'advance';

export interface AllocatorOptions {
  sm: SequenceStateMachine;
  /** Resolves once the entry is committed and applied locally; rejects on loss of leadership/timeouts. */
  propose: (cmd: Command) => Promise<void>;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Whether the leader lease is valid right now. */
  leaseValid: () => boolean;
  /** Seconds of traffic a block should cover. Default 2. */
  targetSeconds?: number;
  /** Default 16. */
  minBlock?: number;
  /** Default 1_000_000. */
  maxBlock?: number;
  /** Time constant of the rate EWMA in ms. Default 1000. */
  rateTauMs?: number;
  /** Rate samples are taken at most this often per sequence, in ms. Default 100. */
  rateWindowMs?: number;
  /**
   * Creating a sequence beyond this many fails (SequenceLimitError). Default
   * unlimited. Checked against the committed state, so creations already in
   * flight when the limit is reached may still complete.
   */
  maxSequences?: number;
  /**
   * Per-sequence counters and rate are kept for about this many most
   * recently used sequences (see history.ts). Default 10,000.
   */
  historyLimit?: number;
  /**
   * Reserve entries proposed and not yet applied, at most (default 3). Past
   * that, new reservations gather in one open batch, proposed as soon as one
   * settles: under a storm of new sequences (each arriving in its own event
   * loop turn) one entry then carries many, instead of one entry each.
   */
  maxBatchesInFlight?: number;
}

export interface NextResult {
  first: bigint;
  count: number;
}

/**
 * One sequence's counters on this node, since it last became one of the
 * `historyLimit` most recently used sequences (totals() stays exact).
 */
export interface SequenceStats {
  /** Values handed out. */
  served: bigint;
  /** Successful next() calls. */
  requests: number;
  /** Values skipped (never served), by cause. Settled when this node learns the next epoch's start. */
  skipped: Record<WasteCause, bigint>;
  reservationsProposed: number;
  reservationsCommitted: number;
  reservationsFailed: number;
  /** Values per second (EWMA). */
  rate: number;
  /** The block size the next reservation would use. */
  block: number;
  /** Next value to hand out in the current term, or null when not serving it. */
  cursor: bigint | null;
  reserved: bigint;
}

export interface AllocatorTotals {
  served: bigint;
  skipped: Record<WasteCause, bigint>;
  reservationsProposed: number;
  reservationsCommitted: number;
  reservationsFailed: number;
}

export interface AllocatorStats {
  serving: boolean;
  term: number | null;
  sealed: boolean;
  sequences: Map<string, SequenceStats>;
}
