// The gRPC server of a node: one port carries the client API (Sequencer),
// the admin API (Cluster), Raft between peers, health checking and reflection.

import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { clusterHandlers } from './cluster.js';
import type { ApiNode } from './node-api.js';
import { apiServices, loadApiDefinition } from './proto.js';
import { sequencerHandlers } from './sequencer.js';

export interface ApiServer {
  server: grpc.Server;
  health: HealthImplementation;
  port: number;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  /** host:port to bind. */
  listen: string;
  /** Adds the Raft peer service to the same server (the one port). */
  addPeerServices(server: grpc.Server): void;
}

export async function startApiServer(node: ApiNode, opts: ApiServerOptions): Promise<ApiServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  const def = loadApiDefinition();
  const services = apiServices(def);
  server.addService(services.Sequencer.service, sequencerHandlers(node));
  server.addService(services.Cluster.service, clusterHandlers(node));
  opts.addPeerServices(server);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(def).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(new Error(`cannot listen on ${opts.listen}: ${err.message}`));
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
