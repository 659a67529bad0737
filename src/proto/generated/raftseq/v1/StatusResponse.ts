// Original file: proto/raftseq/v1/cluster.proto

import type { Member as _raftseq_v1_Member, Member__Output as _raftseq_v1_Member__Output } from '../../raftseq/v1/Member.js';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'node_id'?: (string);
  'leader'?: (string);
  'term'?: (number | string | Long);
  'members'?: (_raftseq_v1_Member)[];
  'commit_index'?: (number | string | Long);
  'applied_index'?: (number | string | Long);
  'role'?: (string);
  'lease_remaining_ms'?: (number | string | Long);
  'values_served'?: (number | string | Long);
  'values_skipped'?: (number | string | Long);
  'first_index'?: (number | string | Long);
  'last_index'?: (number | string | Long);
  'leader_address'?: (string);
  'sequences'?: (number | string | Long);
  'version'?: (string);
  'commit'?: (string);
  'storage_format'?: (number);
  'record_format'?: (number);
  'wire_format'?: (number);
  'min_wire_format'?: (number);
  'cluster_wire_format'?: (number);
  'cluster_id'?: (string);
}

export interface StatusResponse__Output {
  'node_id': (string);
  'leader': (string);
  'term': (string);
  'members': (_raftseq_v1_Member__Output)[];
  'commit_index': (string);
  'applied_index': (string);
  'role': (string);
  'lease_remaining_ms': (string);
  'values_served': (string);
  'values_skipped': (string);
  'first_index': (string);
  'last_index': (string);
  'leader_address': (string);
  'sequences': (string);
  'version': (string);
  'commit': (string);
  'storage_format': (number);
  'record_format': (number);
  'wire_format': (number);
  'min_wire_format': (number);
  'cluster_wire_format': (number);
  'cluster_id': (string);
}
