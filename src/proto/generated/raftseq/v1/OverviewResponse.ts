// Original file: proto/raftseq/v1/ops.proto


export interface OverviewResponse {
  'json'?: (string);
}

export interface OverviewResponse__Output {
  'json': (string);
}
