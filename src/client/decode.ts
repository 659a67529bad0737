// Decoding of raftseq.v1 answers into the client's result types. The client's
// loader (proto.ts) gives snake_case fields and 64-bit integers as decimal
// strings; every 64-bit value is kept exact as a bigint, and a field missing
// from an older server's answer decodes as its zero.
import type { NodeVersions } from '../common/build-info.js';
import { GrpcStatus, RaftseqError } from './errors.js';

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
  /** The answering node's build and formats (null from a server that predates them). */
  build: NodeBuild | null;
  /** The cluster the answering node belongs to; null while it knows none (or predates the field). */
  clusterId: string | null;
}

/** A node's release, commit and format versions, as its Status reports them. */
export type NodeBuild = NodeVersions;

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

export interface TransferLeadershipResult {
  /** Id of the new leader. */
  leader: string;
  term: bigint;
}

/** A Next answer (unary or streamed) as a NextResult; first must be >= 1. */
export function nextResult(
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

/** The member list of an AddMember or RemoveMember answer. */
export function toMemberList(response: unknown): MemberInfo[] {
  return toMembers((response as { members?: unknown } | null)?.members);
}

/** A ListSequences answer: one page of sequences. */
export function toSequencePage(response: unknown): SequenceInfo[] {
  const list = (response as { sequences?: unknown } | null)?.sequences;
  return Array.isArray(list) ? list.map(toSequenceInfo) : [];
}

/** A TransferLeadership answer. */
export function toTransferResult(response: unknown): TransferLeadershipResult {
  const r = (response ?? {}) as Record<string, unknown>;
  return { leader: str(r.leader), term: toBigInt(r.term, 'term') };
}

export function toClusterStatus(response: unknown, endpoint: string): ClusterStatus {
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
    build: toNodeBuild(r),
    clusterId: str(r.cluster_id) || null,
  };
}

/** The build fields of a Status answer; null when the node is older than them. */
function toNodeBuild(r: Record<string, unknown>): NodeBuild | null {
  const version = str(r.version);
  if (version === '') return null;
  return {
    version,
    commit: str(r.commit),
    storageFormat: toNumber(r.storage_format, 'storage_format'),
    recordFormat: toNumber(r.record_format, 'record_format'),
    wireFormat: toNumber(r.wire_format, 'wire_format'),
    minWireFormat: toNumber(r.min_wire_format, 'min_wire_format'),
    clusterWireFormat: toNumber(r.cluster_wire_format, 'cluster_wire_format'),
  };
}

export function toSequenceInfo(response: unknown): SequenceInfo {
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
