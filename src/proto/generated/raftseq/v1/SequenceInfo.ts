// Original file: proto/raftseq/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface SequenceInfo {
  'name'?: (string);
  'next'?: (number | string | Long);
  'reserved'?: (number | string | Long);
  'served'?: (number | string | Long);
  'skipped'?: (number | string | Long);
  'block'?: (number | string | Long);
}

export interface SequenceInfo__Output {
  'name': (string);
  'next': (string);
  'reserved': (string);
  'served': (string);
  'skipped': (string);
  'block': (string);
}
