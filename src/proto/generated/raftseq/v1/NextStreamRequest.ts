// Original file: proto/raftseq/v1/sequencer.proto

import type { Long } from '@grpc/proto-loader';

export interface NextStreamRequest {
  'id'?: (number | string | Long);
  'sequence'?: (string);
  'count'?: (number);
  'timeout_ms'?: (number);
}

export interface NextStreamRequest__Output {
  'id': (string);
  'sequence': (string);
  'count': (number);
  'timeout_ms': (number);
}
