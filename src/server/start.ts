// startNode: the whole node as `raftseq serve` runs it. This is the
// composition root: it picks the production implementation of every seam
// (LevelDB storage, the gRPC transport, real time), puts the runtime
// (src/node) behind the gRPC API (src/api) and the metrics endpoint, and
// applies security (src/security) to the one port: TLS for clients, admins
// and peers, the authorization policy on every call, peers that can speak
// only for the member their certificate names, and the audit log.

import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { AutomaticBackups } from './backups.js';
import { forceNewCluster, statusProbe } from './force-new-cluster.js';
import { keepRatesFile } from './rates-file.js';
import { grpcRegisterClient } from '../api/register-client.js';
import { startApiServer } from '../api/server.js';
import type { Logger } from '../node/logger.js';
import { callIdentity, describeIdentity } from '../security/identity.js';
import { authorizationInterceptor } from '../security/interceptor.js';
import { authorizeSender } from '../security/policy.js';
import { channelCredentials, serverCredentials, TlsFiles } from '../security/tls.js';
import { AdminTokenFile } from '../security/tokens.js';
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

/** TLS files and admin tokens, watched while the node runs (null when plaintext / none). */
function security(
  options: NodeOptions,
  log: Logger,
): { tls: TlsFiles | null; tokens: AdminTokenFile | null } {
  if (options.tls == null) {
    log.warn(
      'serving plaintext: anyone who reaches this port can send Raft messages, change the membership and advance sequences; start with --cert, --key and --ca (raftseq certs --help)',
    );
    return { tls: null, tokens: null };
  }
  const tls = new TlsFiles(options.tls, {
    onEvent: (e) =>
      e.kind === 'error'
        ? log.warn({ err: e.message }, 'TLS files not reloaded; the previous ones stay in use')
        : log.info({ what: e.what, detail: e.detail }, 'TLS files reloaded'),
  });
  const tokens =
    options.adminTokenFile == null
      ? null
      : new AdminTokenFile(options.adminTokenFile, {
          onEvent: (e) =>
            e.kind === 'error'
              ? log.warn({ err: e.message }, 'admin token file not reloaded')
              : log.info('admin token file reloaded'),
        });
  return { tls, tokens };
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  mkdirSync(options.dataDir, { recursive: true });
  let host: NodeHost | undefined;
  const log = createLogger(options.id, options.logLevel, () => host?.currentTerm ?? 0);
  const { tls, tokens } = security(options, log);
  const transport = new GrpcTransport({
    selfId: options.id,
    log: (level, msg, fields) => log[level](fields ?? {}, msg),
    enableFaultInjection: options.enableFaultInjection,
    ...(tls !== null
      ? {
          credentialsFor: (peer: string) => channelCredentials(tls, { expectMember: peer }),
          authorizeSender: (call, sender) => authorizeSender(true, callIdentity(call), sender),
        }
      : {}),
  });
  const clock = systemClock();
  const openStart = clock.now();
  const storage = await LevelStorage.open(options.dataDir);
  const storageOpenMs = clock.now() - openStart;
  try {
    if (options.forceNewCluster != null) {
      await forceNewCluster(
        {
          id: options.id,
          dataDir: options.dataDir,
          listen: options.listen,
          advance: options.forceNewCluster,
        },
        {
          storage,
          reachable: statusProbe(
            tls !== null ? channelCredentials(tls) : grpc.credentials.createInsecure(),
          ),
          entropy: systemEntropy(),
          log,
        },
      );
    }
    host = await NodeHost.open(options, {
      storage,
      transport,
      clock,
      entropy: systemEntropy(),
      log,
    });
  } catch (err) {
    await transport.close();
    tokens?.close();
    await storage.close().catch(() => {}); // the refusal is what the operator needs to see
    throw err;
  }
  const node = host;
  const metrics = new NodeMetrics(node);
  // The status page asks other members over their client port: with TLS, as this member.
  const ops = new NodeOps(node, metrics, tls !== null ? channelCredentials(tls) : undefined);
  node.events = ops.events;
  let api;
  try {
    api = await startApiServer(node, {
      listen: options.listen,
      addPeerServices: (server) => {
        transport.addToServer(server);
        ops.addToServer(server);
      },
      ...(tls !== null ? { credentials: serverCredentials(tls) } : {}),
      interceptors: [
        authorizationInterceptor({
          tls: tls !== null,
          clientCertAuth: options.clientCertAuth === true,
          tokens,
          onDecision: (e) => {
            if (e.decision.allow) return;
            log.warn(
              {
                rpc: e.path,
                peer: e.peer,
                caller: describeIdentity(e.identity),
                code: e.decision.code,
              },
              `refused a call: ${e.decision.message}`,
            );
          },
          onAudit: (r) => log.info({ audit: r }, `admin ${r.rpc}: ${r.outcome}`),
        }),
      ],
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
  const registration = grpcRegisterClient(
    tls !== null ? (leader) => channelCredentials(tls, { expectMember: leader }) : undefined,
  );
  const stopRegistration = startRegistration(node, registration.registerAt);
  const backups =
    options.backup == null
      ? null
      : new AutomaticBackups(
          options.backup,
          {
            isLeader: () => node.status().role === 'leader',
            snapshotFile: () => node.snapshotFile(),
          },
          node.clock,
          node.log,
          metrics.registry,
        );
  backups?.start();
  const stopRates = keepRatesFile(node, options.dataDir);
  ops.start(api.health);
  node.log.info(
    {
      listen: options.listen,
      port: api.port,
      advertise: options.advertise,
      ...(ops.httpPort !== null ? { metricsPort: ops.httpPort } : {}),
      // From the process's start (the system clock counts from it): where a
      // slow restart's time went, with loadMs and decodeMs on "started".
      startupMs: Math.round(clock.now()),
      storageOpenMs: Math.round(storageOpenMs),
    },
    'serving',
  );
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      stopRegistration();
      registration.close();
      ops.stopServing();
      tokens?.close();
      await backups?.stop();
      await stopRates().catch(() => {}); // a missed last write only leaves older rates
      await node.shutdown();
      await api.close();
      await ops.close();
    })();
    return shuttingDown;
  };
  node.onFatal = () => {
    void backups?.stop();
    void stopRates();
    stopRegistration();
    registration.close();
    tokens?.close();
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
