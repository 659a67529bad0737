// The follower side of member registration over gRPC: asks the leader's
// Cluster.RegisterMember to record this member (see src/node/registration.ts).

import * as grpc from '@grpc/grpc-js';
import type { RegisterAtLeader } from '../node/registration.js';
import { apiServices, loadApiDefinition } from './proto.js';

const DEADLINE_MS = 3000;

type RegisterClient = grpc.Client & {
  RegisterMember(
    req: object,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null) => void,
  ): void;
};

/** A RegisterAtLeader over gRPC, reusing one channel per leader address; close() ends it. */
export function grpcRegisterClient(
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): { registerAt: RegisterAtLeader; close(): void } {
  const Cluster = apiServices(loadApiDefinition()).Cluster;
  let client: { address: string; c: grpc.Client } | null = null;
  const clientFor = (address: string): RegisterClient => {
    if (client?.address !== address) {
      client?.c.close();
      client = { address, c: new Cluster(address, credentials) };
    }
    return client.c as RegisterClient;
  };
  return {
    registerAt: (address, req) =>
      new Promise((resolve) => {
        clientFor(address).RegisterMember(req, { deadline: Date.now() + DEADLINE_MS }, (err) => {
          if (err === null) resolve('ok');
          else if (err.code === grpc.status.FAILED_PRECONDITION) resolve('replaced');
          else resolve('retry');
        });
      }),
    close: () => client?.c.close(),
  };
}
