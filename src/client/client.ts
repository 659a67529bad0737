// SequenceClient: the TypeScript client of raftseq.
//
// Every call runs the same loop: send to the last known leader (or the next
// configured endpoint), follow `raftseq-leader` redirects at once, fall back
// to the configured endpoints when a target is unreachable, and back off
// (exponentially, with jitter) after each round in which every endpoint
// failed — all within one overall deadline. Errors that name a problem with
// the request (INVALID_ARGUMENT, OUT_OF_RANGE, ...) are never retried.
//
// A retried Next may waste values reserved by an attempt whose answer was
// lost; it never returns a value twice (the server never serves one twice).
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { GrpcStatus, RaftseqError, statusName } from './errors.js';
import { raftseqServices } from './proto.js';
import { SequenceLease, type LeaseOptions } from './lease.js';
import { StreamPool, type StreamAnswer } from './stream.js';
import { hostPortProblem, memberIdProblem } from '../common/validate.js';
import {
  assertCount,
  assertSequenceName,
  check,
  parseEndpoints,
  requireAddress,
  requireText,
  toSequenceValue,
} from './validate.js';

/** Trailing metadata key naming the leader's advertised host:port. */
export const LEADER_METADATA_KEY = 'raftseq-leader';

/** Defaults of {@link SequenceClientOptions}. */
export const CLIENT_DEFAULTS = {
  deadlineMs: 10_000,
  attemptTimeoutMs: 3_000,
  backoffInitialMs: 25,
  backoffMaxMs: 1_000,
  backoffMultiplier: 2,
  maxRedirects: 4,
  transport: 'auto',
  streamMinInFlight: 2,
  maxStreams: 16,
  perStream: 4,
} as const;

/**
 * How {@link SequenceClient.next} reaches the leader: `'auto'` pipelines calls
 * over NextStream streams while at least `streamMinInFlight` calls are in
 * flight and uses unary Next otherwise; `'stream'` always streams; `'unary'`
 * never does.
 */
export type NextTransport = 'auto' | 'stream' | 'unary';

export interface BackoffOptions {
  /** Upper bound of the first backoff (ms). Default 25. */
  initialMs?: number;
  /** Upper bound of any backoff (ms). Default 1000. */
  maxMs?: number;
  /** Growth of the upper bound per round. Default 2. */
  multiplier?: number;
}

export interface SequenceClientOptions {
  /**
   * Cluster members as `host:port` (IPv6 as `[::1]:7001`): an array or one
   * comma-separated string. Any member will do; redirects lead to the leader.
   */
  endpoints: string | readonly string[];
  /** Overall deadline of each call, retries included (ms). Default 10000. */
  deadlineMs?: number;
  /**
   * gRPC deadline of one attempt (ms), capped by what is left of the overall
   * deadline, so that one hung node (paused process, black-holed packets)
   * cannot use up the whole call. Default 3000.
   */
  attemptTimeoutMs?: number;
  /** Backoff between rounds of failed attempts; full jitter. */
  backoff?: BackoffOptions;
  /** Redirects followed at once before backing off (guards redirect loops). Default 4. */
  maxRedirects?: number;
  /** Channel credentials. Default: insecure (plaintext). */
  credentials?: grpc.ChannelCredentials;
  /** Extra gRPC channel options. */
  channelOptions?: grpc.ChannelOptions;
  /** Source of randomness in [0, 1) for jitter (tests). Default Math.random. */
  random?: () => number;
  /**
   * How next() travels. Default `'auto'`: pipelined over a pool of
   * NextStream bidi streams to the leader while at least `streamMinInFlight`
   * calls are in flight (about ten times the calls/s of unary gRPC), unary
   * Next otherwise. `'unary'` never streams (e.g. through proxies that do
   * not pass bidi streams). A streamed call that meets an error the client
   * retries continues on the unary path within the same deadline.
   */
  transport?: NextTransport;
  /** In 'auto': calls in flight from which next() streams. Default 2. */
  streamMinInFlight?: number;
  /** Most NextStream streams per node. Default 16. */
  maxStreams?: number;
  /** Calls in flight per stream before another stream is opened. Default 4. */
  perStream?: number;
}

/** Per-call overrides. */
export interface CallOptions {
  /** Overall deadline of this call (ms); default: the client's deadlineMs. */
  deadlineMs?: number;
  /** Abort the call (rejects with CANCELLED). */
  signal?: AbortSignal;
}

/** The answer of {@link SequenceClient.next}: the values first .. first+count-1. */
export interface NextResult {
  first: bigint;
  count: number;
}

/** Role of a member in {@link ClusterStatus.members}. */
export type MemberRole = 'leader' | 'follower' | 'learner' | (string & {});

export interface MemberInfo {
  id: string;
  /** The address the answering node dials to reach this member. */
  address: string;
  /** The address clients are redirected to (its --advertise). */
  advertise: string;
  role: MemberRole;
  /** Leader's view: highest log index known replicated to this member. */
  matchIndex: bigint;
  /** Leader's view: ms since this member last acknowledged anything. */
  lastContactMs: number;
}

/** The cluster as one node sees it (the leader, when it was reachable). */
export interface ClusterStatus {
  /** The endpoint that answered. */
  endpoint: string;
  /** Id of the answering node. */
  nodeId: string;
  /** Role of the answering node: leader, follower, candidate, pre-candidate, learner. */
  role: string;
  /** Leader id, or null while no leader is known. */
  leader: string | null;
  /** Leader's advertised address, or null. */
  leaderAddress: string | null;
  term: bigint;
  commitIndex: bigint;
  appliedIndex: bigint;
  firstIndex: bigint;
  lastIndex: bigint;
  /** Leader lease left (ms); 0 unless the answering node is the leader. */
  leaseRemainingMs: number;
  valuesServed: bigint;
  valuesSkipped: bigint;
  /** Sequences in the answering node's state machine (0 from a server that predates the field). */
  sequences: bigint;
  members: MemberInfo[];
}

/** A sequence as the leader sees it. */
export interface SequenceInfo {
  name: string;
  /** The next value the leader would hand out. */
  next: bigint;
  /** Highest value covered by a committed reservation. */
  reserved: bigint;
  served: bigint;
  skipped: bigint;
  /** Current block size of the adaptive allocator. */
  block: bigint;
}

export interface AddMemberRequest {
  id: string;
  /** The address the members dial to reach the new node. */
  address: string;
  /** Where clients are redirected to; default: address. */
  advertise?: string;
}

export interface TransferLeadershipResult {
  /** Id of the new leader. */
  leader: string;
  term: bigint;
}

type ServiceName = 'Sequencer' | 'Cluster';

interface Stubs {
  Sequencer: grpc.Client;
  Cluster: grpc.Client;
}

interface CallSpec {
  service: ServiceName;
  method: string;
  /**
   * Only the leader answers: a success teaches the client who the leader is.
   * Otherwise any node may answer (Status, reads of sequences).
   */
  leaderOnly: boolean;
  /** Any node answers, but the leader's answer is the freshest: find it first. */
  preferLeader?: boolean;
}

type UnaryFn = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

/** Codes a call is retried on (another node, or later). */
const RETRYABLE = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
]);

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
export class SequenceClient {
  private readonly configured: string[];
  private readonly deadlineMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly backoffMultiplier: number;
  private readonly maxRedirects: number;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly random: () => number;
  private readonly stubs = new Map<string, Stubs>();
  private readonly transport: NextTransport;
  private readonly streamMinInFlight: number;
  private readonly maxStreams: number;
  private readonly perStream: number;
  private readonly pools = new Map<string, StreamPool>();
  /** Nodes that answered NextStream with UNIMPLEMENTED (older servers). */
  private readonly noStreams = new Set<string>();
  private nextInFlight = 0;
  private readonly leases = new Set<SequenceLease>();
  private leaseSkipped = 0n;
  private knownLeader: string | null = null;
  private cursor = 0;
  private closed = false;

  constructor(options: SequenceClientOptions) {
    if (options === null || typeof options !== 'object') {
      throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, 'SequenceClient needs { endpoints }');
    }
    this.configured = parseEndpoints(options.endpoints);
    this.deadlineMs = positive('deadlineMs', options.deadlineMs, CLIENT_DEFAULTS.deadlineMs);
    this.attemptTimeoutMs = positive(
      'attemptTimeoutMs',
      options.attemptTimeoutMs,
      CLIENT_DEFAULTS.attemptTimeoutMs,
    );
    this.backoffInitialMs = positive(
      'backoff.initialMs',
      options.backoff?.initialMs,
      CLIENT_DEFAULTS.backoffInitialMs,
    );
    this.backoffMaxMs = positive(
      'backoff.maxMs',
      options.backoff?.maxMs,
      CLIENT_DEFAULTS.backoffMaxMs,
    );
    this.backoffMultiplier = Math.max(
      1,
      positive(
        'backoff.multiplier',
        options.backoff?.multiplier,
        CLIENT_DEFAULTS.backoffMultiplier,
      ),
    );
    this.maxRedirects = Math.floor(
      positive('maxRedirects', options.maxRedirects, CLIENT_DEFAULTS.maxRedirects),
    );
    this.credentials = options.credentials ?? grpc.credentials.createInsecure();
    this.channelOptions = {
      // Reconnect quickly to a restarted node instead of sitting in backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...options.channelOptions,
    };
    this.random = options.random ?? Math.random;
    const transport = options.transport ?? CLIENT_DEFAULTS.transport;
    if (transport !== 'auto' && transport !== 'stream' && transport !== 'unary') {
      throw new RaftseqError(
        GrpcStatus.INVALID_ARGUMENT,
        `transport must be 'auto', 'stream' or 'unary', got ${String(transport)}`,
      );
    }
    this.transport = transport;
    this.streamMinInFlight = Math.floor(
      positive('streamMinInFlight', options.streamMinInFlight, CLIENT_DEFAULTS.streamMinInFlight),
    );
    this.maxStreams = Math.floor(
      positive('maxStreams', options.maxStreams, CLIENT_DEFAULTS.maxStreams),
    );
    this.perStream = Math.floor(
      positive('perStream', options.perStream, CLIENT_DEFAULTS.perStream),
    );
  }

  /** The endpoints this client was given (de-duplicated). */
  get endpoints(): readonly string[] {
    return this.configured;
  }

  /** The last known leader's address (host:port), or null. */
  get leader(): string | null {
    return this.knownLeader;
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
    const deadlineMs =
      options.deadlineMs === undefined
        ? this.deadlineMs
        : positive('deadlineMs', options.deadlineMs, this.deadlineMs);
    const start = performance.now();
    this.nextInFlight++;
    try {
      const leader = this.knownLeader;
      if (
        leader !== null &&
        !this.noStreams.has(leader) &&
        (this.transport === 'stream' ||
          (this.transport === 'auto' && this.nextInFlight >= this.streamMinInFlight))
      ) {
        const r = await this.nextStreamed(leader, sequence, count, deadlineMs, options.signal);
        if (r !== null) return r;
      }
      // Unary, or the rest of a streamed call that met a retryable error.
      const left = deadlineMs - (performance.now() - start);
      const { response, endpoint } = await this.call(
        { service: 'Sequencer', method: 'Next', leaderOnly: true },
        { sequence, count },
        { ...options, deadlineMs: Math.max(1, left) },
      );
      return nextResult(response as StreamAnswer, count, endpoint);
    } finally {
      this.nextInFlight--;
    }
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
    if (this.closed) throw new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed');
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

  /**
   * One attempt over the leader's stream pool. Null: a retryable failure
   * (redirect, stream broken, timeout); the caller continues on the unary
   * path, which follows redirects and backs off.
   */
  private async nextStreamed(
    leader: string,
    sequence: string,
    count: number,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<NextResult | null> {
    if (this.closed) {
      throw new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed', { attempts: 0 });
    }
    if (signal?.aborted) throw this.cancelled(0, signal.reason);
    let answer: StreamAnswer;
    try {
      answer = await this.poolFor(leader).send(
        sequence,
        count,
        Math.min(deadlineMs, this.attemptTimeoutMs),
        signal,
      );
    } catch (e) {
      if (signal?.aborted) throw this.cancelled(1, e);
      if (this.closed) {
        throw new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed', { attempts: 1 });
      }
      const err = asServiceError(e);
      if (err?.code === GrpcStatus.UNIMPLEMENTED) {
        this.noStreams.add(leader);
      } else if (err !== null && err.code === GrpcStatus.UNAVAILABLE) {
        const hint = leaderHint(err);
        if (this.knownLeader === leader) this.knownLeader = hint;
      }
      return null;
    }
    if (answer.code === GrpcStatus.OK) return nextResult(answer, count, leader);
    if (RETRYABLE.has(answer.code)) {
      if (answer.code === GrpcStatus.UNAVAILABLE && this.knownLeader === leader) {
        const hint = answer.leader.trim();
        if (hint !== '' && hint !== leader && hostPortProblem(hint) === null)
          this.knownLeader = hint;
      }
      return null;
    }
    throw new RaftseqError(answer.code, answer.message || statusName(answer.code), {
      endpoint: leader,
      attempts: 1,
      details: answer.message,
    });
  }

  private poolFor(address: string): StreamPool {
    let pool = this.pools.get(address);
    if (pool === undefined) {
      const stub = this.stubsFor(address).Sequencer as unknown as {
        NextStream(): grpc.ClientDuplexStream<object, Record<string, unknown>>;
      };
      pool = new StreamPool(() => stub.NextStream(), this.maxStreams, this.perStream);
      this.pools.set(address, pool);
    }
    return pool;
  }

  /**
   * The cluster's status, from the leader when it is reachable: the first
   * node to answer tells where the leader is, and the leader is asked in turn;
   * if it does not answer, the first answer is returned.
   */
  async clusterStatus(options: CallOptions = {}): Promise<ClusterStatus> {
    const started = performance.now();
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    const { response, endpoint } = await this.call(
      { service: 'Cluster', method: 'Status', leaderOnly: false },
      {},
      options,
    );
    const first = toClusterStatus(response, endpoint);
    if (first.role === 'leader') {
      this.knownLeader = endpoint;
      return first;
    }
    const leaderAddress = first.leaderAddress;
    const remaining = deadlineMs - (performance.now() - started);
    if (
      leaderAddress === null ||
      leaderAddress === endpoint ||
      hostPortProblem(leaderAddress) !== null ||
      remaining <= 0
    ) {
      return first;
    }
    try {
      const response2 = await this.unary(
        leaderAddress,
        'Cluster',
        'Status',
        {},
        Math.min(remaining, this.attemptTimeoutMs),
        options.signal,
      );
      const second = toClusterStatus(response2, leaderAddress);
      if (second.role === 'leader') this.knownLeader = leaderAddress;
      return second;
    } catch (err) {
      if (options.signal?.aborted) throw this.cancelled(0, err);
      return first;
    }
  }

  /** Same as {@link SequenceClient.clusterStatus}. */
  status(options: CallOptions = {}): Promise<ClusterStatus> {
    return this.clusterStatus(options);
  }

  /**
   * Adds a member as a learner; the leader promotes it to voter once it has
   * caught up. Start the node first with `serve` on an empty data directory
   * and no `--initial-cluster`. Resolves to the new member list.
   */
  async addMember(request: AddMemberRequest, options: CallOptions = {}): Promise<MemberInfo[]> {
    check(memberIdProblem(request?.id));
    requireAddress('address', request.address);
    if (request.advertise !== undefined && request.advertise !== '') {
      requireAddress('advertise', request.advertise);
    }
    const { response } = await this.call(
      { service: 'Cluster', method: 'AddMember', leaderOnly: true },
      { id: request.id, address: request.address, advertise: request.advertise ?? '' },
      options,
    );
    return toMembers((response as { members?: unknown }).members);
  }

  /**
   * Removes a member (voter or learner, the leader included). `force` allows
   * leaving fewer voters than can survive one failure. Resolves to the new
   * member list.
   */
  async removeMember(
    id: string,
    opts: { force?: boolean } & CallOptions = {},
  ): Promise<MemberInfo[]> {
    requireText('id', id);
    const { response } = await this.call(
      { service: 'Cluster', method: 'RemoveMember', leaderOnly: true },
      { id, force: opts.force === true },
      opts,
    );
    return toMembers((response as { members?: unknown }).members);
  }

  /**
   * Hands leadership to voter `to` (or, when omitted, the most up-to-date
   * voter) with no gap in any sequence.
   */
  async transferLeadership(
    to?: string,
    options: CallOptions = {},
  ): Promise<TransferLeadershipResult> {
    const { response } = await this.call(
      { service: 'Cluster', method: 'TransferLeadership', leaderOnly: true },
      { to: to ?? '' },
      options,
    );
    // The node that answered is no longer the leader.
    this.knownLeader = null;
    const r = response as { leader?: unknown; term?: unknown };
    return { leader: typeof r.leader === 'string' ? r.leader : '', term: toBigInt(r.term, 'term') };
  }

  /** One page of sequences, by name: names strictly after `after`, at most `limit`. */
  async listSequences(
    page: { after?: string; limit?: number } = {},
    options: CallOptions = {},
  ): Promise<SequenceInfo[]> {
    const { response } = await this.call(
      { service: 'Cluster', method: 'ListSequences', leaderOnly: false, preferLeader: true },
      { after: page.after ?? '', limit: page.limit ?? 0 },
      options,
    );
    const list = (response as { sequences?: unknown }).sequences;
    return Array.isArray(list) ? list.map(toSequenceInfo) : [];
  }

  /** Every sequence, by name (pages through {@link SequenceClient.listSequences}). */
  async listAllSequences(pageSize = 1000, options: CallOptions = {}): Promise<SequenceInfo[]> {
    const all: SequenceInfo[] = [];
    let after = '';
    for (;;) {
      const page = await this.listSequences({ after, limit: pageSize }, options);
      for (const s of page) all.push(s);
      const last = page[page.length - 1];
      if (page.length < pageSize || last === undefined || last.name <= after) return all;
      after = last.name;
    }
  }

  /** One sequence as the leader sees it (NOT_FOUND if it was never used). */
  async getSequence(name: string, options: CallOptions = {}): Promise<SequenceInfo> {
    assertSequenceName(name);
    const { response } = await this.call(
      { service: 'Cluster', method: 'GetSequence', leaderOnly: false, preferLeader: true },
      { name },
      options,
    );
    return toSequenceInfo(response);
  }

  /**
   * Moves a sequence forward (never backward) so that its next value is at
   * least `to` (1 .. 2^63-1). Resolves to the sequence afterwards.
   */
  async advanceSequence(
    name: string,
    to: bigint | number | string,
    options: CallOptions = {},
  ): Promise<SequenceInfo> {
    assertSequenceName(name);
    const target = toSequenceValue(to);
    const { response } = await this.call(
      { service: 'Cluster', method: 'AdvanceSequence', leaderOnly: true },
      { name, to: target.toString() },
      options,
    );
    return toSequenceInfo(response);
  }

  /** Closes every channel; calls made afterwards fail with CANCELLED. Idempotent. */
  close(): void {
    for (const lease of [...this.leases]) void lease.close();
    this.closed = true;
    for (const pool of this.pools.values()) pool.close(new Error('the client is closed'));
    this.pools.clear();
    for (const s of this.stubs.values()) {
      s.Sequencer.close();
      s.Cluster.close();
    }
    this.stubs.clear();
  }

  // ---------------------------------------------------------------- internals

  private async call(
    spec: CallSpec,
    request: unknown,
    options: CallOptions,
  ): Promise<{ response: unknown; endpoint: string }> {
    const deadlineMs =
      options.deadlineMs === undefined
        ? this.deadlineMs
        : positive('deadlineMs', options.deadlineMs, this.deadlineMs);
    const start = performance.now();
    const signal = options.signal;
    if (spec.preferLeader === true && this.knownLeader === null) {
      // One Status round trip tells where the leader is (and is cheap).
      await this.clusterStatus({ ...options, deadlineMs: deadlineMs / 2 }).catch((e: unknown) => {
        if (signal?.aborted) throw this.cancelled(0, e);
      });
    }
    const tried = new Set<string>();
    let target = this.knownLeader ?? this.nextConfigured(tried);
    let attempts = 0;
    let round = 0;
    let redirects = 0;
    let lastError: grpc.ServiceError | null = null;
    let lastEndpoint: string | null = null;
    let sawUnavailable = false;

    for (;;) {
      if (this.closed) {
        throw new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed', { attempts });
      }
      if (signal?.aborted) throw this.cancelled(attempts, signal.reason);
      const remaining = deadlineMs - (performance.now() - start);
      if (remaining <= 0) {
        throw this.exhausted(spec, deadlineMs, attempts, lastError, lastEndpoint, sawUnavailable);
      }
      attempts++;
      try {
        const response = await this.unary(
          target,
          spec.service,
          spec.method,
          request,
          Math.min(remaining, this.attemptTimeoutMs),
          signal,
        );
        if (spec.leaderOnly) this.knownLeader = target;
        return { response, endpoint: target };
      } catch (e) {
        if (signal?.aborted) throw this.cancelled(attempts, e);
        if (this.closed) {
          throw new RaftseqError(GrpcStatus.CANCELLED, 'the client is closed', { attempts });
        }
        const err = asServiceError(e);
        if (err === null) {
          throw new RaftseqError(
            GrpcStatus.INTERNAL,
            `${spec.method} at ${target}: ${errorMessage(e)}`,
            { endpoint: target, attempts, cause: e },
          );
        }
        if (!RETRYABLE.has(err.code)) {
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

        const hint = err.code === GrpcStatus.UNAVAILABLE ? leaderHint(err) : null;
        if (hint !== null && hint !== target && redirects < this.maxRedirects) {
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
    const n = this.configured.length;
    for (let i = 0; i < n; i++) {
      const e = this.configured[(this.cursor + i) % n] as string;
      if (!skip.has(e)) {
        this.cursor = (this.cursor + i + 1) % n;
        return e;
      }
    }
    const e = this.configured[this.cursor % n] as string;
    this.cursor = (this.cursor + 1) % n;
    return e;
  }

  /** Sleeps a jittered exponential backoff, never past the deadline. */
  private async pause(
    round: number,
    remainingMs: number,
    signal: AbortSignal | undefined,
    attempts: number,
  ): Promise<void> {
    const cap = Math.min(
      this.backoffMaxMs,
      this.backoffInitialMs * Math.pow(this.backoffMultiplier, Math.min(round, 30)),
    );
    // "Full jitter", with a floor of half the cap so rounds are not too eager.
    const delay = Math.min(cap / 2 + (this.random() * cap) / 2, Math.max(0, remainingMs));
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

  private stubsFor(address: string): Stubs {
    let s = this.stubs.get(address);
    if (s === undefined) {
      const services = raftseqServices();
      s = {
        Sequencer: new services.Sequencer(address, this.credentials, this.channelOptions),
        Cluster: new services.Cluster(address, this.credentials, this.channelOptions),
      };
      this.stubs.set(address, s);
    }
    return s;
  }

  /** One attempt: a unary RPC to `address` with a gRPC deadline of `timeoutMs`. */
  private unary(
    address: string,
    service: ServiceName,
    method: string,
    request: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const stub = this.stubsFor(address)[service];
    const fn = (stub as unknown as Record<string, UnaryFn | undefined>)[method];
    if (typeof fn !== 'function') {
      return Promise.reject(new Error(`raftseq.v1.${service} has no method ${method}`));
    }
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | null = null;
      const call = fn.call(
        stub,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + Math.max(1, Math.floor(timeoutMs)) },
        (err, response) => {
          if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(response);
        },
      );
      if (signal !== undefined) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private cancelled(attempts: number, cause: unknown): RaftseqError {
    return new RaftseqError(GrpcStatus.CANCELLED, 'the call was cancelled', { attempts, cause });
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
        `(${attempts} attempt${attempts === 1 ? '' : 's'}, endpoints ${this.configured.join(',')})${tail}`,
      { endpoint: lastEndpoint, attempts, details: last?.details ?? '', cause: last ?? undefined },
    );
  }
}

// ------------------------------------------------------------------ helpers

/** A Next answer (unary or streamed) as a NextResult; first must be >= 1. */
function nextResult(
  r: { first?: unknown; count?: unknown },
  count: number,
  endpoint: string,
): NextResult {
  const first = toBigInt(r.first, 'first');
  if (first < 1n) {
    throw new RaftseqError(GrpcStatus.INTERNAL, `server ${endpoint} answered Next with first=0`, {
      endpoint,
    });
  }
  const got = toNumber(r.count, 'count');
  return { first, count: got === 0 ? count : got };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RaftseqError(
      GrpcStatus.INVALID_ARGUMENT,
      `${name} must be a positive number, got ${String(value)}`,
    );
  }
  return value;
}

function asServiceError(e: unknown): grpc.ServiceError | null {
  if (e instanceof Error && typeof (e as Partial<grpc.ServiceError>).code === 'number') {
    return e as grpc.ServiceError;
  }
  return null;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The leader address from `raftseq-leader` trailing metadata, if valid. */
function leaderHint(err: grpc.ServiceError): string | null {
  const values = err.metadata?.get(LEADER_METADATA_KEY) ?? [];
  for (const v of values) {
    const s = (typeof v === 'string' ? v : v.toString('utf8')).trim();
    if (s !== '' && hostPortProblem(s) === null) return s;
  }
  return null;
}

/** gRPC details on one line, without grpc-js's timestamps on connection errors. */
function cleanDetails(err: grpc.ServiceError): string {
  const details = (err.details || err.message || statusName(err.code)).replace(/\s*\n\s*/g, '; ');
  const conn = /connect (E[A-Z]+ \S+)/.exec(details);
  if (conn !== null) return `connect ${(conn[1] as string).replace(/[.,;:]+$/, '')}`;
  return details.replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/g, '');
}

/** A uint64/int64 from the wire (decimal string, Long, number) as bigint, exactly. */
export function toBigInt(value: unknown, field: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string') {
    if (/^-?[0-9]+$/.test(value)) return BigInt(value);
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt(value);
  } else if (value === undefined || value === null) {
    return 0n;
  } else if (typeof value === 'object' && typeof value.toString === 'function') {
    // Long (from loaders configured with longs: Long).
    const s = value.toString();
    if (/^-?[0-9]+$/.test(s)) return BigInt(s);
  }
  throw new RaftseqError(GrpcStatus.INTERNAL, `server sent an invalid ${field}: ${String(value)}`);
}

function toNumber(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  const n = toBigInt(value, field);
  return Number(n);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function toMembers(list: unknown): MemberInfo[] {
  if (!Array.isArray(list)) return [];
  return list.map((m: Record<string, unknown>) => ({
    id: str(m.id),
    address: str(m.address),
    advertise: str(m.advertise),
    role: str(m.role),
    matchIndex: toBigInt(m.match_index, 'match_index'),
    lastContactMs: toNumber(m.last_contact_ms, 'last_contact_ms'),
  }));
}

function toClusterStatus(response: unknown, endpoint: string): ClusterStatus {
  const r = (response ?? {}) as Record<string, unknown>;
  const leader = str(r.leader);
  const leaderAddress = str(r.leader_address);
  return {
    endpoint,
    nodeId: str(r.node_id),
    role: str(r.role),
    leader: leader === '' ? null : leader,
    leaderAddress: leaderAddress === '' ? null : leaderAddress,
    term: toBigInt(r.term, 'term'),
    commitIndex: toBigInt(r.commit_index, 'commit_index'),
    appliedIndex: toBigInt(r.applied_index, 'applied_index'),
    firstIndex: toBigInt(r.first_index, 'first_index'),
    lastIndex: toBigInt(r.last_index, 'last_index'),
    leaseRemainingMs: toNumber(r.lease_remaining_ms, 'lease_remaining_ms'),
    valuesServed: toBigInt(r.values_served, 'values_served'),
    valuesSkipped: toBigInt(r.values_skipped, 'values_skipped'),
    sequences: toBigInt(r.sequences, 'sequences'),
    members: toMembers(r.members),
  };
}

function toSequenceInfo(response: unknown): SequenceInfo {
  const r = (response ?? {}) as Record<string, unknown>;
  return {
    name: str(r.name),
    next: toBigInt(r.next, 'next'),
    reserved: toBigInt(r.reserved, 'reserved'),
    served: toBigInt(r.served, 'served'),
    skipped: toBigInt(r.skipped, 'skipped'),
    block: toBigInt(r.block, 'block'),
  };
}
