// Original file: proto/raftseq/v1/ops.proto


export interface OverviewRequest {
}

export interface OverviewRequest__Output {
}
