// startNode: the whole node as `raftseq serve` runs it. This is the
// composition root: it picks the production implementation of every seam
// (LevelDB storage, the gRPC transport, real time) and puts the runtime
// (src/node) behind the gRPC API (src/api) and the metrics endpoint.

import { mkdirSync } from 'node:fs';
import { grpcRegisterClient } from '../api/register-client.js';
import { startApiServer } from '../api/server.js';
import { NodeHost } from '../node/host.js';
import { createLogger } from '../node/logger.js';
import { NodeMetrics } from '../node/metrics.js';
import type { NodeOptions } from '../node/options.js';
import { startRegistration } from '../node/registration.js';
import { systemClock, systemEntropy } from '../node/runtime.js';
import { LevelStorage } from '../storage/level.js';
import { GrpcTransport } from '../transport/grpc-transport.js';
import { NodeOps } from './ops.js';

/** A running node. */
export interface RunningNode {
  readonly id: string;
  /** Graceful stop: hand leadership over (with the exact next values), flush, close. */
  shutdown(): Promise<void>;
  /** Resolves when the node stopped for a reason of its own (fatal error). */
  readonly stopped: Promise<Error | null>;
  /** The runtime, for tests and tools in this process. */
  readonly host: NodeHost;
  /** Prometheus metrics (served only with --metrics-listen). */
  readonly metrics: NodeMetrics;
  /** Health, the status page and the HTTP listener (--metrics-listen). */
  readonly ops: NodeOps;
  /** The bound port (useful with --listen host:0). */
  readonly port: number;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  mkdirSync(options.dataDir, { recursive: true });
  let host: NodeHost | undefined;
  const log = createLogger(options.id, options.logLevel, () => host?.currentTerm ?? 0);
  const transport = new GrpcTransport({
    selfId: options.id,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
    enableFaultInjection: options.enableFaultInjection,
  });
  const storage = await LevelStorage.open(options.dataDir);
  try {
    host = await NodeHost.open(options, {
      storage,
      transport,
      clock: systemClock(),
      entropy: systemEntropy(),
      log,
    });
  } catch (err) {
    await transport.close();
    await storage.close().catch(() => {}); // the refusal is what the operator needs to see
    throw err;
  }
  const node = host;
  const metrics = new NodeMetrics(node);
  const ops = new NodeOps(node, metrics);
  node.events = ops.events;
  let api;
  try {
    api = await startApiServer(node, {
      listen: options.listen,
      addPeerServices: (server) => {
        transport.addToServer(server);
        ops.addToServer(server);
      },
    });
  } catch (err) {
    await node.shutdown(0).catch(() => {}); // report the bind failure, not a shutdown hiccup
    throw err;
  }
  if (options.metricsListen) {
    try {
      await ops.listen(options.metricsListen);
    } catch (err) {
      await api.close();
      await node.shutdown(0).catch(() => {}); // report the bind failure, not a shutdown hiccup
      throw err;
    }
  }
  node.start();
  const registration = grpcRegisterClient();
  const stopRegistration = startRegistration(node, registration.registerAt);
  ops.start(api.health);
  node.log.info(
    {
      listen: options.listen,
      port: api.port,
      advertise: options.advertise,
      ...(ops.httpPort !== null ? { metricsPort: ops.httpPort } : {}),
    },
    'serving',
  );
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      stopRegistration();
      registration.close();
      ops.stopServing();
      await node.shutdown();
      await api.close();
      await ops.close();
    })();
    return shuttingDown;
  };
  node.onFatal = () => {
    stopRegistration();
    registration.close();
    void api.close();
    void ops.close();
  };
  return {
    id: options.id,
    shutdown,
    stopped: node.stopped,
    host: node,
    metrics,
    ops,
    port: api.port,
  };
}
