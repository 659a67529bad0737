// Original file: proto/raftseq/v1/sequencer.proto

import type { Long } from '@grpc/proto-loader';

export interface NextResponse {
  'first'?: (number | string | Long);
  'count'?: (number);
}

export interface NextResponse__Output {
  'first': (string);
  'count': (number);
}
