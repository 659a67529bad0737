import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { NextRequest as _raftseq_v1_NextRequest, NextRequest__Output as _raftseq_v1_NextRequest__Output } from './raftseq/v1/NextRequest.js';
import type { NextResponse as _raftseq_v1_NextResponse, NextResponse__Output as _raftseq_v1_NextResponse__Output } from './raftseq/v1/NextResponse.js';
import type { NextStreamRequest as _raftseq_v1_NextStreamRequest, NextStreamRequest__Output as _raftseq_v1_NextStreamRequest__Output } from './raftseq/v1/NextStreamRequest.js';
import type { NextStreamResponse as _raftseq_v1_NextStreamResponse, NextStreamResponse__Output as _raftseq_v1_NextStreamResponse__Output } from './raftseq/v1/NextStreamResponse.js';
import type { SequencerClient as _raftseq_v1_SequencerClient, SequencerDefinition as _raftseq_v1_SequencerDefinition } from './raftseq/v1/Sequencer.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raftseq: {
    v1: {
      NextRequest: MessageTypeDefinition<_raftseq_v1_NextRequest, _raftseq_v1_NextRequest__Output>
      NextResponse: MessageTypeDefinition<_raftseq_v1_NextResponse, _raftseq_v1_NextResponse__Output>
      NextStreamRequest: MessageTypeDefinition<_raftseq_v1_NextStreamRequest, _raftseq_v1_NextStreamRequest__Output>
      NextStreamResponse: MessageTypeDefinition<_raftseq_v1_NextStreamResponse, _raftseq_v1_NextStreamResponse__Output>
      Sequencer: SubtypeConstructor<typeof grpc.Client, _raftseq_v1_SequencerClient> & { service: _raftseq_v1_SequencerDefinition }
    }
  }
}

