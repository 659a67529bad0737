// Original file: proto/raftseq/v1/cluster.proto


export interface RemoveMemberRequest {
  'id'?: (string);
  'force'?: (boolean);
}

export interface RemoveMemberRequest__Output {
  'id': (string);
  'force': (boolean);
}
