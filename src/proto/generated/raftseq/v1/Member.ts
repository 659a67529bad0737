// Original file: proto/raftseq/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface Member {
  'id'?: (string);
  'address'?: (string);
  'role'?: (string);
  'match_index'?: (number | string | Long);
  'last_contact_ms'?: (number | string | Long);
  'advertise'?: (string);
}

export interface Member__Output {
  'id': (string);
  'address': (string);
  'role': (string);
  'match_index': (string);
  'last_contact_ms': (string);
  'advertise': (string);
}
