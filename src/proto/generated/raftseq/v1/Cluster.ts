// Original file: proto/raftseq/v1/cluster.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddMemberRequest as _raftseq_v1_AddMemberRequest, AddMemberRequest__Output as _raftseq_v1_AddMemberRequest__Output } from '../../raftseq/v1/AddMemberRequest.js';
import type { AddMemberResponse as _raftseq_v1_AddMemberResponse, AddMemberResponse__Output as _raftseq_v1_AddMemberResponse__Output } from '../../raftseq/v1/AddMemberResponse.js';
import type { AdvanceSequenceRequest as _raftseq_v1_AdvanceSequenceRequest, AdvanceSequenceRequest__Output as _raftseq_v1_AdvanceSequenceRequest__Output } from '../../raftseq/v1/AdvanceSequenceRequest.js';
import type { GetSequenceRequest as _raftseq_v1_GetSequenceRequest, GetSequenceRequest__Output as _raftseq_v1_GetSequenceRequest__Output } from '../../raftseq/v1/GetSequenceRequest.js';
import type { ListSequencesRequest as _raftseq_v1_ListSequencesRequest, ListSequencesRequest__Output as _raftseq_v1_ListSequencesRequest__Output } from '../../raftseq/v1/ListSequencesRequest.js';
import type { ListSequencesResponse as _raftseq_v1_ListSequencesResponse, ListSequencesResponse__Output as _raftseq_v1_ListSequencesResponse__Output } from '../../raftseq/v1/ListSequencesResponse.js';
import type { RegisterMemberRequest as _raftseq_v1_RegisterMemberRequest, RegisterMemberRequest__Output as _raftseq_v1_RegisterMemberRequest__Output } from '../../raftseq/v1/RegisterMemberRequest.js';
import type { RegisterMemberResponse as _raftseq_v1_RegisterMemberResponse, RegisterMemberResponse__Output as _raftseq_v1_RegisterMemberResponse__Output } from '../../raftseq/v1/RegisterMemberResponse.js';
import type { RemoveMemberRequest as _raftseq_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _raftseq_v1_RemoveMemberRequest__Output } from '../../raftseq/v1/RemoveMemberRequest.js';
import type { RemoveMemberResponse as _raftseq_v1_RemoveMemberResponse, RemoveMemberResponse__Output as _raftseq_v1_RemoveMemberResponse__Output } from '../../raftseq/v1/RemoveMemberResponse.js';
import type { SequenceInfo as _raftseq_v1_SequenceInfo, SequenceInfo__Output as _raftseq_v1_SequenceInfo__Output } from '../../raftseq/v1/SequenceInfo.js';
import type { StatusRequest as _raftseq_v1_StatusRequest, StatusRequest__Output as _raftseq_v1_StatusRequest__Output } from '../../raftseq/v1/StatusRequest.js';
import type { StatusResponse as _raftseq_v1_StatusResponse, StatusResponse__Output as _raftseq_v1_StatusResponse__Output } from '../../raftseq/v1/StatusResponse.js';
import type { TransferLeadershipRequest as _raftseq_v1_TransferLeadershipRequest, TransferLeadershipRequest__Output as _raftseq_v1_TransferLeadershipRequest__Output } from '../../raftseq/v1/TransferLeadershipRequest.js';
import type { TransferLeadershipResponse as _raftseq_v1_TransferLeadershipResponse, TransferLeadershipResponse__Output as _raftseq_v1_TransferLeadershipResponse__Output } from '../../raftseq/v1/TransferLeadershipResponse.js';

export interface ClusterClient extends grpc.Client {
  AddMember(argument: _raftseq_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _raftseq_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _raftseq_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _raftseq_v1_AddMemberRequest, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _raftseq_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _raftseq_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _raftseq_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _raftseq_v1_AddMemberRequest, callback: grpc.requestCallback<_raftseq_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  
  AdvanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  AdvanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  AdvanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  AdvanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  advanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  advanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  advanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  advanceSequence(argument: _raftseq_v1_AdvanceSequenceRequest, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  
  GetSequence(argument: _raftseq_v1_GetSequenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  GetSequence(argument: _raftseq_v1_GetSequenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  GetSequence(argument: _raftseq_v1_GetSequenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  GetSequence(argument: _raftseq_v1_GetSequenceRequest, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  getSequence(argument: _raftseq_v1_GetSequenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  getSequence(argument: _raftseq_v1_GetSequenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  getSequence(argument: _raftseq_v1_GetSequenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  getSequence(argument: _raftseq_v1_GetSequenceRequest, callback: grpc.requestCallback<_raftseq_v1_SequenceInfo__Output>): grpc.ClientUnaryCall;
  
  ListSequences(argument: _raftseq_v1_ListSequencesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  ListSequences(argument: _raftseq_v1_ListSequencesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  ListSequences(argument: _raftseq_v1_ListSequencesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  ListSequences(argument: _raftseq_v1_ListSequencesRequest, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  listSequences(argument: _raftseq_v1_ListSequencesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  listSequences(argument: _raftseq_v1_ListSequencesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  listSequences(argument: _raftseq_v1_ListSequencesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  listSequences(argument: _raftseq_v1_ListSequencesRequest, callback: grpc.requestCallback<_raftseq_v1_ListSequencesResponse__Output>): grpc.ClientUnaryCall;
  
  RegisterMember(argument: _raftseq_v1_RegisterMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  RegisterMember(argument: _raftseq_v1_RegisterMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  RegisterMember(argument: _raftseq_v1_RegisterMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  RegisterMember(argument: _raftseq_v1_RegisterMemberRequest, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  registerMember(argument: _raftseq_v1_RegisterMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  registerMember(argument: _raftseq_v1_RegisterMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  registerMember(argument: _raftseq_v1_RegisterMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  registerMember(argument: _raftseq_v1_RegisterMemberRequest, callback: grpc.requestCallback<_raftseq_v1_RegisterMemberResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveMember(argument: _raftseq_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _raftseq_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _raftseq_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _raftseq_v1_RemoveMemberRequest, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _raftseq_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _raftseq_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _raftseq_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _raftseq_v1_RemoveMemberRequest, callback: grpc.requestCallback<_raftseq_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _raftseq_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _raftseq_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _raftseq_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _raftseq_v1_StatusRequest, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _raftseq_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _raftseq_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _raftseq_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _raftseq_v1_StatusRequest, callback: grpc.requestCallback<_raftseq_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  TransferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  TransferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  TransferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  TransferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  transferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  transferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  transferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  transferLeadership(argument: _raftseq_v1_TransferLeadershipRequest, callback: grpc.requestCallback<_raftseq_v1_TransferLeadershipResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  AddMember: grpc.handleUnaryCall<_raftseq_v1_AddMemberRequest__Output, _raftseq_v1_AddMemberResponse>;
  
  AdvanceSequence: grpc.handleUnaryCall<_raftseq_v1_AdvanceSequenceRequest__Output, _raftseq_v1_SequenceInfo>;
  
  GetSequence: grpc.handleUnaryCall<_raftseq_v1_GetSequenceRequest__Output, _raftseq_v1_SequenceInfo>;
  
  ListSequences: grpc.handleUnaryCall<_raftseq_v1_ListSequencesRequest__Output, _raftseq_v1_ListSequencesResponse>;
  
  RegisterMember: grpc.handleUnaryCall<_raftseq_v1_RegisterMemberRequest__Output, _raftseq_v1_RegisterMemberResponse>;
  
  RemoveMember: grpc.handleUnaryCall<_raftseq_v1_RemoveMemberRequest__Output, _raftseq_v1_RemoveMemberResponse>;
  
  Status: grpc.handleUnaryCall<_raftseq_v1_StatusRequest__Output, _raftseq_v1_StatusResponse>;
  
  TransferLeadership: grpc.handleUnaryCall<_raftseq_v1_TransferLeadershipRequest__Output, _raftseq_v1_TransferLeadershipResponse>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  AddMember: MethodDefinition<_raftseq_v1_AddMemberRequest, _raftseq_v1_AddMemberResponse, _raftseq_v1_AddMemberRequest__Output, _raftseq_v1_AddMemberResponse__Output>
  AdvanceSequence: MethodDefinition<_raftseq_v1_AdvanceSequenceRequest, _raftseq_v1_SequenceInfo, _raftseq_v1_AdvanceSequenceRequest__Output, _raftseq_v1_SequenceInfo__Output>
  GetSequence: MethodDefinition<_raftseq_v1_GetSequenceRequest, _raftseq_v1_SequenceInfo, _raftseq_v1_GetSequenceRequest__Output, _raftseq_v1_SequenceInfo__Output>
  ListSequences: MethodDefinition<_raftseq_v1_ListSequencesRequest, _raftseq_v1_ListSequencesResponse, _raftseq_v1_ListSequencesRequest__Output, _raftseq_v1_ListSequencesResponse__Output>
  RegisterMember: MethodDefinition<_raftseq_v1_RegisterMemberRequest, _raftseq_v1_RegisterMemberResponse, _raftseq_v1_RegisterMemberRequest__Output, _raftseq_v1_RegisterMemberResponse__Output>
  RemoveMember: MethodDefinition<_raftseq_v1_RemoveMemberRequest, _raftseq_v1_RemoveMemberResponse, _raftseq_v1_RemoveMemberRequest__Output, _raftseq_v1_RemoveMemberResponse__Output>
  Status: MethodDefinition<_raftseq_v1_StatusRequest, _raftseq_v1_StatusResponse, _raftseq_v1_StatusRequest__Output, _raftseq_v1_StatusResponse__Output>
  TransferLeadership: MethodDefinition<_raftseq_v1_TransferLeadershipRequest, _raftseq_v1_TransferLeadershipResponse, _raftseq_v1_TransferLeadershipRequest__Output, _raftseq_v1_TransferLeadershipResponse__Output>
}
