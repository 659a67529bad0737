// Original file: proto/raftseq/v1/cluster.proto


export interface RegisterMemberResponse {
}

export interface RegisterMemberResponse__Output {
}
