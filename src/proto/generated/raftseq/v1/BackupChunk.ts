// Original file: proto/raftseq/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface BackupChunk {
  'total_bytes'?: (number | string | Long);
  'index'?: (number | string | Long);
  'term'?: (number | string | Long);
  'sequences'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface BackupChunk__Output {
  'total_bytes': (string);
  'index': (string);
  'term': (string);
  'sequences': (string);
  'data': (Buffer);
}
