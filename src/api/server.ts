// The gRPC server of a node: one port carries the client API (Sequencer),
// the admin API (Cluster), Raft between peers, health checking and reflection.

import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { NodeHost } from '../node/host.js';
import { apiServices, loadApiDefinition } from './proto.js';
import { clusterHandlers } from './cluster.js';
import { sequencerHandlers } from './sequencer.js';

export const LEADER_METADATA_KEY = 'raftseq-leader';

/** A status error for a callback, optionally naming the leader to redirect to. */
export function statusError(
  code: grpc.status,
  details: string,
  leaderAddress: string | null = null,
): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (leaderAddress !== null) metadata.set(LEADER_METADATA_KEY, leaderAddress);
  return { code, details, metadata };
}

export interface ApiServer {
  server: grpc.Server;
  health: HealthImplementation;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(host: NodeHost): Promise<ApiServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const def = loadApiDefinition();
  const services = apiServices(def);
  server.addService(services.Sequencer.service, sequencerHandlers(host));
  server.addService(services.Cluster.service, clusterHandlers(host));
  host.transport.addToServer(server);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(def).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(host.options.listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(new Error(`cannot listen on ${host.options.listen}: ${err.message}`));
      else resolve(p);
    });
  });
  return {
    server,
    health,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
