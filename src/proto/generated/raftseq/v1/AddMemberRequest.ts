// Original file: proto/raftseq/v1/cluster.proto


export interface AddMemberRequest {
  'id'?: (string);
  'address'?: (string);
  'advertise'?: (string);
}

export interface AddMemberRequest__Output {
  'id': (string);
  'address': (string);
  'advertise': (string);
}
