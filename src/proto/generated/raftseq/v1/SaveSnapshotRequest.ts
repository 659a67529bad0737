// Original file: proto/raftseq/v1/cluster.proto


export interface SaveSnapshotRequest {
}

export interface SaveSnapshotRequest__Output {
}
