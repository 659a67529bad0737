// Original file: proto/raftseq/v1/cluster.proto


export interface TransferLeadershipRequest {
  'to'?: (string);
}

export interface TransferLeadershipRequest__Output {
  'to': (string);
}
