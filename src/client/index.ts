// The raftseq client library. See SequenceClient.
export { SequenceClient } from './client.js';
export { CLIENT_DEFAULTS } from './options.js';
export { LEADER_METADATA_KEY } from './retry.js';
export type { AddMemberRequest } from './admin.js';
export type {
  ClusterStatus,
  MemberInfo,
  MemberRole,
  NextResult,
  NodeBuild,
  SequenceInfo,
  TransferLeadershipResult,
} from './decode.js';
export type {
  BackoffOptions,
  CallOptions,
  NextTransport,
  SequenceClientOptions,
} from './options.js';
export { GrpcStatus, RaftseqError, statusName } from './errors.js';
export { SequenceLease } from './lease.js';
export type { LeaseOptions, LeaseStats } from './lease.js';
export type { ClientTls } from './credentials.js';
export type { RaftseqErrorOptions } from './errors.js';
export {
  MAX_SEQUENCE_NAME_BYTES,
  MAX_SEQUENCE_VALUE,
  hostPortProblem,
  sequenceNameProblem,
} from '../common/validate.js';
export { parseEndpoints } from './validate.js';
