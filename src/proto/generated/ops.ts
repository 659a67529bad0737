import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { OpsClient as _raftseq_v1_OpsClient, OpsDefinition as _raftseq_v1_OpsDefinition } from './raftseq/v1/Ops.js';
import type { OverviewRequest as _raftseq_v1_OverviewRequest, OverviewRequest__Output as _raftseq_v1_OverviewRequest__Output } from './raftseq/v1/OverviewRequest.js';
import type { OverviewResponse as _raftseq_v1_OverviewResponse, OverviewResponse__Output as _raftseq_v1_OverviewResponse__Output } from './raftseq/v1/OverviewResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  raftseq: {
    v1: {
      Ops: SubtypeConstructor<typeof grpc.Client, _raftseq_v1_OpsClient> & { service: _raftseq_v1_OpsDefinition }
      OverviewRequest: MessageTypeDefinition<_raftseq_v1_OverviewRequest, _raftseq_v1_OverviewRequest__Output>
      OverviewResponse: MessageTypeDefinition<_raftseq_v1_OverviewResponse, _raftseq_v1_OverviewResponse__Output>
    }
  }
}

