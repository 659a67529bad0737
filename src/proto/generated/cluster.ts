import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddMemberRequest as _raftseq_v1_AddMemberRequest, AddMemberRequest__Output as _raftseq_v1_AddMemberRequest__Output } from './raftseq/v1/AddMemberRequest.js';
import type { AddMemberResponse as _raftseq_v1_AddMemberResponse, AddMemberResponse__Output as _raftseq_v1_AddMemberResponse__Output } from './raftseq/v1/AddMemberResponse.js';
import type { AdvanceSequenceRequest as _raftseq_v1_AdvanceSequenceRequest, AdvanceSequenceRequest__Output as _raftseq_v1_AdvanceSequenceRequest__Output } from './raftseq/v1/AdvanceSequenceRequest.js';
import type { ClusterClient as _raftseq_v1_ClusterClient, ClusterDefinition as _raftseq_v1_ClusterDefinition } from './raftseq/v1/Cluster.js';
import type { GetSequenceRequest as _raftseq_v1_GetSequenceRequest, GetSequenceRequest__Output as _raftseq_v1_GetSequenceRequest__Output } from './raftseq/v1/GetSequenceRequest.js';
import type { ListSequencesRequest as _raftseq_v1_ListSequencesRequest, ListSequencesRequest__Output as _raftseq_v1_ListSequencesRequest__Output } from './raftseq/v1/ListSequencesRequest.js';
import type { ListSequencesResponse as _raftseq_v1_ListSequencesResponse, ListSequencesResponse__Output as _raftseq_v1_ListSequencesResponse__Output } from './raftseq/v1/ListSequencesResponse.js';
import type { Member as _raftseq_v1_Member, Member__Output as _raftseq_v1_Member__Output } from './raftseq/v1/Member.js';
import type { RegisterMemberRequest as _raftseq_v1_RegisterMemberRequest, RegisterMemberRequest__Output as _raftseq_v1_RegisterMemberRequest__Output } from './raftseq/v1/RegisterMemberRequest.js';
import type { RegisterMemberResponse as _raftseq_v1_RegisterMemberResponse, RegisterMemberResponse__Output as _raftseq_v1_RegisterMemberResponse__Output } from './raftseq/v1/RegisterMemberResponse.js';
import type { RemoveMemberRequest as _raftseq_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _raftseq_v1_RemoveMemberRequest__Output } from './raftseq/v1/RemoveMemberRequest.js';
import type { RemoveMemberResponse as _raftseq_v1_RemoveMemberResponse, RemoveMemberResponse__Output as _raftseq_v1_RemoveMemberResponse__Output } from './raftseq/v1/RemoveMemberResponse.js';
import type { SequenceInfo as _raftseq_v1_SequenceInfo, SequenceInfo__Output as _raftseq_v1_SequenceInfo__Output } from './raftseq/v1/SequenceInfo.js';
import type { StatusRequest as _raftseq_v1_StatusRequest, StatusRequest__Output as _raftseq_v1_StatusRequest__Output } from './raftseq/v1/StatusRequest.js';
import type { StatusResponse as _raftseq_v1_StatusResponse, StatusResponse__Output as _raftseq_v1_StatusResponse__Output } from './raftseq/v1/StatusResponse.js';
import type { TransferLeadershipRequest as _raftseq_v1_TransferLeadershipRequest, TransferLeadershipRequest__Output as _raftseq_v1_TransferLeadershipRequest__Output } from './raftseq/v1/TransferLeadershipRequest.js';
import type { TransferLeadershipResponse as _raftseq_v1_TransferLeadershipResponse, TransferLeadershipResponse__Output as _raftseq_v1_TransferLeadershipResponse__Output } from './raftseq/v1/TransferLeadershipResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raftseq: {
    v1: {
      AddMemberRequest: MessageTypeDefinition<_raftseq_v1_AddMemberRequest, _raftseq_v1_AddMemberRequest__Output>
      AddMemberResponse: MessageTypeDefinition<_raftseq_v1_AddMemberResponse, _raftseq_v1_AddMemberResponse__Output>
      AdvanceSequenceRequest: MessageTypeDefinition<_raftseq_v1_AdvanceSequenceRequest, _raftseq_v1_AdvanceSequenceRequest__Output>
      Cluster: SubtypeConstructor<typeof grpc.Client, _raftseq_v1_ClusterClient> & { service: _raftseq_v1_ClusterDefinition }
      GetSequenceRequest: MessageTypeDefinition<_raftseq_v1_GetSequenceRequest, _raftseq_v1_GetSequenceRequest__Output>
      ListSequencesRequest: MessageTypeDefinition<_raftseq_v1_ListSequencesRequest, _raftseq_v1_ListSequencesRequest__Output>
      ListSequencesResponse: MessageTypeDefinition<_raftseq_v1_ListSequencesResponse, _raftseq_v1_ListSequencesResponse__Output>
      Member: MessageTypeDefinition<_raftseq_v1_Member, _raftseq_v1_Member__Output>
      RegisterMemberRequest: MessageTypeDefinition<_raftseq_v1_RegisterMemberRequest, _raftseq_v1_RegisterMemberRequest__Output>
      RegisterMemberResponse: MessageTypeDefinition<_raftseq_v1_RegisterMemberResponse, _raftseq_v1_RegisterMemberResponse__Output>
      RemoveMemberRequest: MessageTypeDefinition<_raftseq_v1_RemoveMemberRequest, _raftseq_v1_RemoveMemberRequest__Output>
      RemoveMemberResponse: MessageTypeDefinition<_raftseq_v1_RemoveMemberResponse, _raftseq_v1_RemoveMemberResponse__Output>
      SequenceInfo: MessageTypeDefinition<_raftseq_v1_SequenceInfo, _raftseq_v1_SequenceInfo__Output>
      StatusRequest: MessageTypeDefinition<_raftseq_v1_StatusRequest, _raftseq_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_raftseq_v1_StatusResponse, _raftseq_v1_StatusResponse__Output>
      TransferLeadershipRequest: MessageTypeDefinition<_raftseq_v1_TransferLeadershipRequest, _raftseq_v1_TransferLeadershipRequest__Output>
      TransferLeadershipResponse: MessageTypeDefinition<_raftseq_v1_TransferLeadershipResponse, _raftseq_v1_TransferLeadershipResponse__Output>
    }
  }
}

