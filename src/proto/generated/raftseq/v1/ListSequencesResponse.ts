// Original file: proto/raftseq/v1/cluster.proto

import type { SequenceInfo as _raftseq_v1_SequenceInfo, SequenceInfo__Output as _raftseq_v1_SequenceInfo__Output } from '../../raftseq/v1/SequenceInfo.js';

export interface ListSequencesResponse {
  'sequences'?: (_raftseq_v1_SequenceInfo)[];
}

export interface ListSequencesResponse__Output {
  'sequences': (_raftseq_v1_SequenceInfo__Output)[];
}
