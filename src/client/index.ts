// The raftseq client library. See SequenceClient.
export { SequenceClient, CLIENT_DEFAULTS, LEADER_METADATA_KEY } from './client.js';
export type {
  AddMemberRequest,
  BackoffOptions,
  CallOptions,
  ClusterStatus,
  MemberInfo,
  MemberRole,
  NextResult,
  NextTransport,
  SequenceClientOptions,
  SequenceInfo,
  TransferLeadershipResult,
} from './client.js';
export { GrpcStatus, RaftseqError, statusName } from './errors.js';
export { SequenceLease } from './lease.js';
export type { LeaseOptions, LeaseStats } from './lease.js';
export type { RaftseqErrorOptions } from './errors.js';
export {
  MAX_SEQUENCE_NAME_BYTES,
  MAX_SEQUENCE_VALUE,
  hostPortProblem,
  sequenceNameProblem,
} from '../common/validate.js';
export { parseEndpoints } from './validate.js';
