// Original file: proto/raftseq/v1/ops.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { OverviewRequest as _raftseq_v1_OverviewRequest, OverviewRequest__Output as _raftseq_v1_OverviewRequest__Output } from '../../raftseq/v1/OverviewRequest.js';
import type { OverviewResponse as _raftseq_v1_OverviewResponse, OverviewResponse__Output as _raftseq_v1_OverviewResponse__Output } from '../../raftseq/v1/OverviewResponse.js';

export interface OpsClient extends grpc.Client {
  Overview(argument: _raftseq_v1_OverviewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  Overview(argument: _raftseq_v1_OverviewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  Overview(argument: _raftseq_v1_OverviewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  Overview(argument: _raftseq_v1_OverviewRequest, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  overview(argument: _raftseq_v1_OverviewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  overview(argument: _raftseq_v1_OverviewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  overview(argument: _raftseq_v1_OverviewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  overview(argument: _raftseq_v1_OverviewRequest, callback: grpc.requestCallback<_raftseq_v1_OverviewResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface OpsHandlers extends grpc.UntypedServiceImplementation {
  Overview: grpc.handleUnaryCall<_raftseq_v1_OverviewRequest__Output, _raftseq_v1_OverviewResponse>;
  
}

export interface OpsDefinition extends grpc.ServiceDefinition {
  Overview: MethodDefinition<_raftseq_v1_OverviewRequest, _raftseq_v1_OverviewResponse, _raftseq_v1_OverviewRequest__Output, _raftseq_v1_OverviewResponse__Output>
}
