// Original file: proto/raftseq/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface AdvanceSequenceRequest {
  'name'?: (string);
  'to'?: (number | string | Long);
}

export interface AdvanceSequenceRequest__Output {
  'name': (string);
  'to': (string);
}
