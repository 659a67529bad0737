// Original file: proto/raftseq/v1/cluster.proto

import type { Member as _raftseq_v1_Member, Member__Output as _raftseq_v1_Member__Output } from '../../raftseq/v1/Member.js';

export interface RemoveMemberResponse {
  'members'?: (_raftseq_v1_Member)[];
}

export interface RemoveMemberResponse__Output {
  'members': (_raftseq_v1_Member__Output)[];
}
