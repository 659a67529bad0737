// Original file: proto/raftseq/v1/sequencer.proto

import type { Long } from '@grpc/proto-loader';

export interface NextStreamResponse {
  'id'?: (number | string | Long);
  'code'?: (number);
  'message'?: (string);
  'first'?: (number | string | Long);
  'count'?: (number);
  'leader'?: (string);
}

export interface NextStreamResponse__Output {
  'id': (string);
  'code': (number);
  'message': (string);
  'first': (string);
  'count': (number);
  'leader': (string);
}
