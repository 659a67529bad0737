// Original file: proto/raftseq/v1/cluster.proto


export interface GetSequenceRequest {
  'name'?: (string);
}

export interface GetSequenceRequest__Output {
  'name': (string);
}
