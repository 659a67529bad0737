// Original file: proto/raftseq/v1/sequencer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { NextRequest as _raftseq_v1_NextRequest, NextRequest__Output as _raftseq_v1_NextRequest__Output } from '../../raftseq/v1/NextRequest.js';
import type { NextResponse as _raftseq_v1_NextResponse, NextResponse__Output as _raftseq_v1_NextResponse__Output } from '../../raftseq/v1/NextResponse.js';
import type { NextStreamRequest as _raftseq_v1_NextStreamRequest, NextStreamRequest__Output as _raftseq_v1_NextStreamRequest__Output } from '../../raftseq/v1/NextStreamRequest.js';
import type { NextStreamResponse as _raftseq_v1_NextStreamResponse, NextStreamResponse__Output as _raftseq_v1_NextStreamResponse__Output } from '../../raftseq/v1/NextStreamResponse.js';

export interface SequencerClient extends grpc.Client {
  Next(argument: _raftseq_v1_NextRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  Next(argument: _raftseq_v1_NextRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  Next(argument: _raftseq_v1_NextRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  Next(argument: _raftseq_v1_NextRequest, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  next(argument: _raftseq_v1_NextRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  next(argument: _raftseq_v1_NextRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  next(argument: _raftseq_v1_NextRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  next(argument: _raftseq_v1_NextRequest, callback: grpc.requestCallback<_raftseq_v1_NextResponse__Output>): grpc.ClientUnaryCall;
  
  NextStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamResponse__Output>;
  NextStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamResponse__Output>;
  nextStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamResponse__Output>;
  nextStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamResponse__Output>;
  
}

export interface SequencerHandlers extends grpc.UntypedServiceImplementation {
  Next: grpc.handleUnaryCall<_raftseq_v1_NextRequest__Output, _raftseq_v1_NextResponse>;
  
  NextStream: grpc.handleBidiStreamingCall<_raftseq_v1_NextStreamRequest__Output, _raftseq_v1_NextStreamResponse>;
  
}

export interface SequencerDefinition extends grpc.ServiceDefinition {
  Next: MethodDefinition<_raftseq_v1_NextRequest, _raftseq_v1_NextResponse, _raftseq_v1_NextRequest__Output, _raftseq_v1_NextResponse__Output>
  NextStream: MethodDefinition<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamResponse, _raftseq_v1_NextStreamRequest__Output, _raftseq_v1_NextStreamResponse__Output>
}
