// The retry/redirect core of the client: which endpoint to ask, when to follow
// a leader redirect, how long to back off, and when to give up.
//
// Every call runs the same loop: send to the last known leader (or the next
// configured endpoint), follow `raftseq-leader` redirects at once, fall back
// to the configured endpoints when a target is unreachable, and back off
// (exponentially, with jitter) after each round in which every endpoint
// failed — all within one overall deadline, each attempt within its own
// shorter one. Errors that name a problem with the request (INVALID_ARGUMENT,
// OUT_OF_RANGE, ...) are never retried.
//
// A retried Next may waste values reserved by an attempt whose answer was
// lost; it never returns a value twice (the server never serves one twice).
//
// The policy (constants, nextBackoffMs, isRetryable, leaderHint) is exported
// on its own and is pure, so that a simulator can drive exactly the same
// policy with its own clock and seeded randomness.
import type * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { LEADER_METADATA_KEY } from '../common/protocol.js';
import { hostPortProblem } from '../common/validate.js';
import { GrpcStatus, RaftseqError, asServiceError, cleanDetails, statusName } from './errors.js';

// ------------------------------------------------------------------ policy

export { LEADER_METADATA_KEY };

/** Overall deadline of a call, retries included (ms). */
export const DEADLINE_MS = 10_000;

/**
 * gRPC deadline of one attempt (ms), capped by what is left of the overall
 * deadline, so that one hung node (paused process, black-holed packets)
 * cannot use up the whole call.
 */
export const ATTEMPT_TIMEOUT_MS = 3_000;

/** Redirects followed at once before backing off (guards redirect loops). */
export const MAX_REDIRECTS = 4;

/** Backoff between rounds of failed attempts. */
export interface BackoffPolicy {
  /** Upper bound of the first backoff (ms). */
  initialMs: number;
  /** Upper bound of any backoff (ms). */
  maxMs: number;
  /** Growth of the upper bound per round. */
  multiplier: number;
}

// The bound stays low: while a cluster elects a new leader, every attempt
// is a cheap UNAVAILABLE from a follower, and the time a client sleeps past
// the election adds to the outage its callers see (up to the whole bound,
// 1 s with the old default, 50-100 ms now). etcd's client retries every 25 ms.
export const BACKOFF = { initialMs: 25, maxMs: 100, multiplier: 2 } as const;

/**
 * The pause (ms) after failed round `round` (0, 1, ...): "full jitter" with a
 * floor of half the bound, so rounds are not too eager. `random` returns a
 * number in [0, 1).
 */
export function nextBackoffMs(
  round: number,
  random: () => number,
  policy: BackoffPolicy = BACKOFF,
): number {
  const cap = Math.min(
    policy.maxMs,
    policy.initialMs * Math.pow(policy.multiplier, Math.min(round, 30)),
  );
  return cap / 2 + (random() * cap) / 2;
}

/** The gRPC deadline of the next attempt, given what is left of the call's. */
export function attemptTimeoutMs(remainingMs: number, capMs: number = ATTEMPT_TIMEOUT_MS): number {
  return Math.min(remainingMs, capMs);
}

/** Codes a call is retried on (another node, or later). */
const RETRYABLE = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
]);

/** Whether an answer with gRPC status `code` is retried (another node, or later). */
export function isRetryable(code: number): boolean {
  return RETRYABLE.has(code);
}

/** The first valid host:port among `raftseq-leader` values, trimmed; null if none. */
export function leaderHint(values: readonly (string | Buffer)[]): string | null {
  for (const v of values) {
    const s = (typeof v === 'string' ? v : v.toString('utf8')).trim();
    if (s !== '' && hostPortProblem(s) === null) return s;
  }
  return null;
}

/** The leader named by an UNAVAILABLE answer's trailing metadata, if valid. */
export function leaderHintOf(err: grpc.ServiceError): string | null {
  return leaderHint(err.metadata?.get(LEADER_METADATA_KEY) ?? []);
}

// -------------------------------------------------------------------- core

/** The settings of {@link Router}: the policy above, or a caller's overrides. */
export interface RetryPolicy {
  deadlineMs: number;
  attemptTimeoutMs: number;
  backoff: BackoffPolicy;
  maxRedirects: number;
  /** Source of randomness in [0, 1) for the jitter. */
  random: () => number;
}

export interface CallSpec {
  /** Method name, for messages. */
  method: string;
  /**
   * Only the leader answers: a success teaches the client who the leader is.
   * Otherwise any node may answer (Status, reads of sequences).
   */
  leaderOnly: boolean;
}

/** One attempt at `endpoint` with a gRPC deadline of `timeoutMs`; rejects with a ServiceError. */
export type Attempt<T> = (
  endpoint: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
) => Promise<T>;

export interface RouteOptions {
  /** Overall deadline of this call (ms). */
  deadlineMs: number;
  /** When the deadline started (performance.now()); default: now. */
  startedAt?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Routes calls to the leader of one cluster: remembers the last known leader,
 * walks the configured endpoints round robin, and runs the retry loop.
 */
export class Router {
  private knownLeader: string | null = null;
  private cursor = 0;
  private closedFlag = false;

  constructor(
    /** The configured endpoints, de-duplicated. */
    readonly endpoints: readonly string[],
    private readonly policy: RetryPolicy,
  ) {}

  /** The last known leader's address (host:port), or null. */
  get leader(): string | null {
    return this.knownLeader;
  }

  /** Records who the leader is (null: unknown). */
  setLeader(address: string | null): void {
    this.knownLeader = address;
  }

  /** Replaces the known leader only if it is still `from` (another call may have moved on). */
  replaceLeader(from: string, to: string | null): void {
    if (this.knownLeader === from) this.knownLeader = to;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Calls made from now on fail with CANCELLED. */
  close(): void {
    this.closedFlag = true;
  }

  closedError(attempts: number): RaftseqError {
    return new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed', { attempts });
  }

  cancelled(attempts: number, cause: unknown): RaftseqError {
    return new RaftseqError(GrpcStatus.CANCELLED, 'the call was cancelled', { attempts, cause });
  }

  /** Runs `attempt` until one succeeds, a non-retryable error, or the deadline. */
  async call<T>(
    spec: CallSpec,
    attempt: Attempt<T>,
    options: RouteOptions,
  ): Promise<{ response: T; endpoint: string }> {
    const { deadlineMs, signal } = options;
    const start = options.startedAt ?? performance.now();
    const tried = new Set<string>();
    let target = this.knownLeader ?? this.nextConfigured(tried);
    let attempts = 0;
    let round = 0;
    let redirects = 0;
    let lastError: grpc.ServiceError | null = null;
    let lastEndpoint: string | null = null;
    let sawUnavailable = false;

    for (;;) {
      if (this.closedFlag) throw this.closedError(attempts);
      if (signal?.aborted) throw this.cancelled(attempts, signal.reason);
      const remaining = deadlineMs - (performance.now() - start);
      if (remaining <= 0) {
        throw this.exhausted(spec, deadlineMs, attempts, lastError, lastEndpoint, sawUnavailable);
      }
      attempts++;
      try {
        const response = await attempt(
          target,
          attemptTimeoutMs(remaining, this.policy.attemptTimeoutMs),
          signal,
        );
        if (spec.leaderOnly) this.knownLeader = target;
        return { response, endpoint: target };
      } catch (e) {
        if (signal?.aborted) throw this.cancelled(attempts, e);
        if (this.closedFlag) throw this.closedError(attempts);
        const err = asServiceError(e);
        if (err === null) {
          throw new RaftseqError(
            GrpcStatus.INTERNAL,
            `${spec.method} at ${target}: ${e instanceof Error ? e.message : String(e)}`,
            { endpoint: target, attempts, cause: e },
          );
        }
        if (!isRetryable(err.code)) {
          throw new RaftseqError(err.code, cleanDetails(err), {
            endpoint: target,
            attempts,
            details: err.details,
            cause: err,
          });
        }
        // Keep the most telling error for the final message: a deadline cut
        // short by the overall deadline says less than "connection refused".
        if (
          err.code !== GrpcStatus.DEADLINE_EXCEEDED ||
          lastError === null ||
          lastError.code === GrpcStatus.DEADLINE_EXCEEDED
        ) {
          lastError = err;
          lastEndpoint = target;
        }
        if (err.code === GrpcStatus.UNAVAILABLE) sawUnavailable = true;
        tried.add(target);

        const hint = err.code === GrpcStatus.UNAVAILABLE ? leaderHintOf(err) : null;
        if (hint !== null && hint !== target && redirects < this.policy.maxRedirects) {
          // A follower named the leader: go there at once.
          redirects++;
          this.knownLeader = hint;
          target = hint;
          continue;
        }
        redirects = 0;
        if (hint !== null && hint === target) {
          // The leader itself cannot serve yet (e.g. its lease is not
          // confirmed): ask it again after a pause.
          this.knownLeader = hint;
          await this.pause(round++, deadlineMs - (performance.now() - start), signal, attempts);
          tried.clear();
          continue;
        }
        // Unreachable, or knows no leader: forget it as leader and try the
        // configured endpoints not yet tried in this round.
        if (this.knownLeader === target) this.knownLeader = null;
        if (hint !== null) this.knownLeader = hint;
        const untried = this.nextConfigured(tried);
        if (!tried.has(untried)) {
          target = untried;
          continue;
        }
        // A whole round failed: back off, then start over.
        await this.pause(round++, deadlineMs - (performance.now() - start), signal, attempts);
        tried.clear();
        target = this.knownLeader ?? this.nextConfigured(tried);
      }
    }
  }

  /** The next configured endpoint (round robin) not in `skip`, or any if all are. */
  private nextConfigured(skip: ReadonlySet<string>): string {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const e = this.endpoints[(this.cursor + i) % n] as string;
      if (!skip.has(e)) {
        this.cursor = (this.cursor + i + 1) % n;
        return e;
      }
    }
    const e = this.endpoints[this.cursor % n] as string;
    this.cursor = (this.cursor + 1) % n;
    return e;
  }

  /** Sleeps the backoff of `round`, never past the deadline. */
  private async pause(
    round: number,
    remainingMs: number,
    signal: AbortSignal | undefined,
    attempts: number,
  ): Promise<void> {
    const delay = Math.min(
      nextBackoffMs(round, this.policy.random, this.policy.backoff),
      Math.max(0, remainingMs),
    );
    if (delay <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(this.cancelled(attempts, signal?.reason));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, delay);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private exhausted(
    spec: CallSpec,
    deadlineMs: number,
    attempts: number,
    last: grpc.ServiceError | null,
    lastEndpoint: string | null,
    sawUnavailable: boolean,
  ): RaftseqError {
    // UNAVAILABLE if any node said so or could not be reached (no leader);
    // DEADLINE_EXCEEDED if every attempt simply ran out of time.
    const code =
      !sawUnavailable && last?.code === GrpcStatus.DEADLINE_EXCEEDED
        ? GrpcStatus.DEADLINE_EXCEEDED
        : GrpcStatus.UNAVAILABLE;
    const what = spec.leaderOnly ? 'no leader answered' : 'no node answered';
    const tail =
      last === null
        ? ''
        : `; last error from ${lastEndpoint ?? '?'}: ${statusName(last.code)}: ${cleanDetails(last)}`;
    return new RaftseqError(
      code,
      `${spec.method}: ${what} within ${Math.round(deadlineMs)} ms ` +
        `(${attempts} attempt${attempts === 1 ? '' : 's'}, endpoints ${this.endpoints.join(',')})${tail}`,
      { endpoint: lastEndpoint, attempts, details: last?.details ?? '', cause: last ?? undefined },
    );
  }
}
