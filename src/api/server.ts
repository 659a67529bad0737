// The gRPC server of a node: one port carries the client API (Sequencer),
// the admin API (Cluster), Raft between peers, health checking and reflection.

import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { clusterHandlers } from './cluster.js';
import type { ApiNode } from './node-api.js';
import { apiPackageDefinition, raftseqApi } from '../proto/load.js';
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
  /** Default: plaintext. */
  credentials?: grpc.ServerCredentials;
  /** Run on every call before any handler (authorization). */
  interceptors?: grpc.ServerInterceptor[];
}

/**
 * Bounds, so that one client cannot take a node down: concurrent streams per
 * connection; a message on the one port (Raft batches may carry a handover
 * entry that lists every sequence served in a term, so this stays large);
 * a request to the client and admin services (tiny by nature; refused before
 * it is decoded); requests in flight on one NextStream (sequencer.ts).
 */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const MAX_API_REQUEST_BYTES = 64 * 1024;
export const MAX_CONCURRENT_STREAMS = 1000;

/** The service with every request refused above `max` bytes, before decoding. */
function boundedRequests(service: grpc.ServiceDefinition, max: number): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(service)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer) => {
        if (buf.length > max) {
          throw new Error(`request of ${buf.length} bytes; at most ${max} are accepted`);
        }
        return m.requestDeserialize(buf) as unknown;
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

export async function startApiServer(node: ApiNode, opts: ApiServerOptions): Promise<ApiServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    ...(opts.interceptors !== undefined ? { interceptors: opts.interceptors } : {}),
  });
  const def = apiPackageDefinition();
  const services = raftseqApi();
  server.addService(
    boundedRequests(services.Sequencer.service, MAX_API_REQUEST_BYTES),
    sequencerHandlers(node),
  );
  server.addService(
    boundedRequests(services.Cluster.service, MAX_API_REQUEST_BYTES),
    clusterHandlers(node),
  );
  opts.addPeerServices(server);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(def).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    const credentials = opts.credentials ?? grpc.ServerCredentials.createInsecure();
    server.bindAsync(opts.listen, credentials, (err, p) => {
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
