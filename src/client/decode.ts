// Decoding of raftseq.v1 answers into the client's result types. The answers
// are typed by the generated code (src/proto/generated): snake_case fields,
// 64-bit integers as decimal strings, every field present (a field an older
// server leaves out decodes as its zero). Every 64-bit value is kept exact as
// a bigint.
import type { NodeVersions } from '../common/build-info.js';
import type { ListSequencesResponse__Output } from '../proto/generated/raftseq/v1/ListSequencesResponse.js';
import type { Member__Output } from '../proto/generated/raftseq/v1/Member.js';
import type { NextResponse__Output } from '../proto/generated/raftseq/v1/NextResponse.js';
import type { SequenceInfo__Output } from '../proto/generated/raftseq/v1/SequenceInfo.js';
import type { StatusResponse__Output } from '../proto/generated/raftseq/v1/StatusResponse.js';
import type { TransferLeadershipResponse__Output } from '../proto/generated/raftseq/v1/TransferLeadershipResponse.js';
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
  r: Pick<NextResponse__Output, 'first' | 'count'>,
  count: number,
  endpoint: string,
): NextResult {
  const first = toBigInt(r.first, 'first');
  if (first < 1n) {
    throw new RaftseqError(GrpcStatus.INTERNAL, `server ${endpoint} answered Next with first=0`, {
      endpoint,
    });
  }
  return { first, count: r.count === 0 ? count : r.count };
}

/**
 * A 64-bit integer as the loader decodes it (a decimal string; "0" when the
 * field is absent) as a bigint, exactly. Anything else is a broken server.
 */
export function toBigInt(value: string, field: string): bigint {
  if (/^-?[0-9]+$/.test(value)) return BigInt(value);
  throw new RaftseqError(GrpcStatus.INTERNAL, `server sent an invalid ${field}: ${value}`);
}

function toNumber(value: string, field: string): number {
  return Number(toBigInt(value, field));
}

function toMembers(list: readonly Member__Output[]): MemberInfo[] {
  return list.map((m) => ({
    id: m.id,
    address: m.address,
    advertise: m.advertise,
    role: m.role,
    matchIndex: toBigInt(m.match_index, 'match_index'),
    lastContactMs: toNumber(m.last_contact_ms, 'last_contact_ms'),
  }));
}

/** The member list of an AddMember or RemoveMember answer. */
export function toMemberList(response: { members: Member__Output[] }): MemberInfo[] {
  return toMembers(response.members);
}

/** A ListSequences answer: one page of sequences. */
export function toSequencePage(response: ListSequencesResponse__Output): SequenceInfo[] {
  return response.sequences.map(toSequenceInfo);
}

/** A TransferLeadership answer. */
export function toTransferResult(
  response: TransferLeadershipResponse__Output,
): TransferLeadershipResult {
  return { leader: response.leader, term: toBigInt(response.term, 'term') };
}

export function toClusterStatus(r: StatusResponse__Output, endpoint: string): ClusterStatus {
  return {
    endpoint,
    nodeId: r.node_id,
    role: r.role,
    leader: r.leader === '' ? null : r.leader,
    leaderAddress: r.leader_address === '' ? null : r.leader_address,
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
    clusterId: r.cluster_id === '' ? null : r.cluster_id,
  };
}

/** The build fields of a Status answer; null when the node is older than them. */
function toNodeBuild(r: StatusResponse__Output): NodeBuild | null {
  if (r.version === '') return null;
  return {
    version: r.version,
    commit: r.commit,
    storageFormat: r.storage_format,
    recordFormat: r.record_format,
    wireFormat: r.wire_format,
    minWireFormat: r.min_wire_format,
    clusterWireFormat: r.cluster_wire_format,
  };
}

export function toSequenceInfo(r: SequenceInfo__Output): SequenceInfo {
  return {
    name: r.name,
    next: toBigInt(r.next, 'next'),
    reserved: toBigInt(r.reserved, 'reserved'),
    served: toBigInt(r.served, 'served'),
    skipped: toBigInt(r.skipped, 'skipped'),
    block: toBigInt(r.block, 'block'),
  };
}
