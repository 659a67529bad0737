// Original file: proto/raftseq/v1/cluster.proto


export interface ListSequencesRequest {
  'after'?: (string);
  'limit'?: (number);
}

export interface ListSequencesRequest__Output {
  'after': (string);
  'limit': (number);
}
