// Original file: proto/raftseq/v1/cluster.proto


export interface RegisterMemberRequest {
  'id'?: (string);
  'incarnation'?: (string);
  'advertise'?: (string);
}

export interface RegisterMemberRequest__Output {
  'id': (string);
  'incarnation': (string);
  'advertise': (string);
}
