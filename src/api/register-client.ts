// The follower side of member registration over gRPC: asks the leader's
// Cluster.RegisterMember to record this member (see src/node/registration.ts).

import * as grpc from '@grpc/grpc-js';
import type { RegisterAtLeader } from '../node/registration.js';
import { raftseqApi } from '../proto/load.js';

const DEADLINE_MS = 3000;

type RegisterClient = grpc.Client & {
  RegisterMember(
    req: object,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null) => void,
  ): void;
};

/**
 * A RegisterAtLeader over gRPC, reusing one channel per leader; close() ends
 * it. `credentialsFor(leaderId)`: how to dial the leader (TLS: our member
 * certificate, and the leader's must name it); default plaintext.
 */
export function grpcRegisterClient(
  credentialsFor: (leaderId: string) => grpc.ChannelCredentials = () =>
    grpc.credentials.createInsecure(),
): { registerAt: RegisterAtLeader; close(): void } {
  const Cluster = raftseqApi().Cluster;
  let client: { key: string; c: grpc.Client } | null = null;
  const clientFor = (leader: { id: string; address: string }): RegisterClient => {
    const key = `${leader.id}@${leader.address}`;
    if (client?.key !== key) {
      client?.c.close();
      client = { key, c: new Cluster(leader.address, credentialsFor(leader.id)) };
    }
    return client.c as RegisterClient;
  };
  return {
    registerAt: (leader, req) =>
      new Promise((resolve) => {
        clientFor(leader).RegisterMember(req, { deadline: Date.now() + DEADLINE_MS }, (err) => {
          if (err === null) resolve('ok');
          else if (err.code === grpc.status.FAILED_PRECONDITION) resolve('replaced');
          else resolve('retry');
        });
      }),
    close: () => client?.c.close(),
  };
}
