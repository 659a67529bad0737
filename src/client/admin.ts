// The admin half of the client: wrappers of raftseq.v1.Cluster (status,
// membership, leadership transfer, sequences), each one call through the
// retry/redirect core. SequenceClient extends it with next() and leases.
import { performance } from 'node:perf_hooks';
import { hostPortProblem, memberIdProblem } from '../common/validate.js';
import { Channels, type ServiceName } from './channels.js';
import type { AnswerOf, RequestOf, UnaryMethod } from '../proto/methods.js';
import {
  toClusterStatus,
  toMemberList,
  toSequenceInfo,
  toSequencePage,
  toTransferResult,
  type ClusterStatus,
  type MemberInfo,
  type SequenceInfo,
  type TransferLeadershipResult,
} from './decode.js';
import {
  callDeadlineMs,
  resolveOptions,
  type CallOptions,
  type ResolvedOptions,
  type SequenceClientOptions,
} from './options.js';
import { Router, attemptTimeoutMs, type CallSpec } from './retry.js';
import {
  assertSequenceName,
  check,
  requireAddress,
  requireText,
  toSequenceValue,
} from './validate.js';

export interface AddMemberRequest {
  id: string;
  /** The address the members dial to reach the new node. */
  address: string;
  /** Where clients are redirected to; default: address. */
  advertise?: string;
}

interface ServiceCall<S extends ServiceName, M extends UnaryMethod<S>> extends CallSpec {
  service: S;
  method: M;
  /** Any node answers, but the leader's answer is the freshest: find it first. */
  preferLeader?: boolean;
}

/**
 * Client of the admin API (`raftseq.v1.Cluster`) of one cluster. It keeps one
 * channel per node and remembers the last known leader. Errors are
 * {@link RaftseqError}s.
 */
export class AdminClient {
  protected readonly settings: ResolvedOptions;
  protected readonly router: Router;
  protected readonly channels: Channels;

  constructor(options: SequenceClientOptions) {
    this.settings = resolveOptions(options);
    this.router = new Router(this.settings.endpoints, this.settings.retry);
    this.channels = new Channels(this.settings.credentials, this.settings.channelOptions);
  }

  /** The endpoints this client was given (de-duplicated). */
  get endpoints(): readonly string[] {
    return this.router.endpoints;
  }

  /** The last known leader's address (host:port), or null. */
  get leader(): string | null {
    return this.router.leader;
  }

  /**
   * The cluster's status, from the leader when it is reachable: the first
   * node to answer tells where the leader is, and the leader is asked in turn;
   * if it does not answer, the first answer is returned.
   */
  async clusterStatus(options: CallOptions = {}): Promise<ClusterStatus> {
    const started = performance.now();
    const deadlineMs = options.deadlineMs ?? this.settings.retry.deadlineMs;
    const { response, endpoint } = await this.call(
      { service: 'Cluster', method: 'Status', leaderOnly: false },
      {},
      options,
    );
    const first = toClusterStatus(response, endpoint);
    if (first.role === 'leader') {
      this.router.setLeader(endpoint);
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
      const response2 = await this.channels.unary(
        leaderAddress,
        'Cluster',
        'Status',
        {},
        attemptTimeoutMs(remaining, this.settings.retry.attemptTimeoutMs),
        options.signal,
      );
      const second = toClusterStatus(response2, leaderAddress);
      if (second.role === 'leader') this.router.setLeader(leaderAddress);
      return second;
    } catch (err) {
      if (options.signal?.aborted) throw this.router.cancelled(0, err);
      return first;
    }
  }

  /**
   * The status of the one node at `address` (its own view: no redirect, no
   * retry), within `timeoutMs`.
   */
  async memberStatus(address: string, timeoutMs: number): Promise<ClusterStatus> {
    const response = await this.channels.unary(
      address,
      'Cluster',
      'Status',
      {},
      timeoutMs,
      undefined,
    );
    return toClusterStatus(response, address);
  }

  /** Same as {@link AdminClient.clusterStatus}. */
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
    return toMemberList(response);
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
    // Not memberIdProblem: a member added under an older, looser rule must
    // still be removable.
    requireText('id', id);
    const { response } = await this.call(
      { service: 'Cluster', method: 'RemoveMember', leaderOnly: true },
      { id, force: opts.force === true },
      opts,
    );
    return toMemberList(response);
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
    this.router.setLeader(null);
    return toTransferResult(response);
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
    return toSequencePage(response);
  }

  /** Every sequence, by name (pages through {@link AdminClient.listSequences}). */
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
    this.router.close();
    this.channels.close();
  }

  /** One call through the retry/redirect core, each attempt a unary RPC. */
  protected async call<S extends ServiceName, M extends UnaryMethod<S>>(
    spec: ServiceCall<S, M>,
    request: RequestOf<S, M>,
    options: CallOptions,
  ): Promise<{ response: AnswerOf<S, M>; endpoint: string }> {
    const deadlineMs = callDeadlineMs(options, this.settings.retry.deadlineMs);
    const startedAt = performance.now();
    const signal = options.signal;
    if (spec.preferLeader === true && this.router.leader === null) {
      // One Status round trip tells where the leader is (and is cheap).
      await this.clusterStatus({ ...options, deadlineMs: deadlineMs / 2 }).catch((e: unknown) => {
        if (signal?.aborted) throw this.router.cancelled(0, e);
      });
    }
    return this.router.call(
      spec,
      (endpoint, timeoutMs, s) =>
        this.channels.unary(endpoint, spec.service, spec.method, request, timeoutMs, s),
      { deadlineMs, startedAt, signal },
    );
  }
}
