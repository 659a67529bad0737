// startNode: the whole node (runtime + gRPC server), as `raftseq serve` runs it.

import { startRegistration } from '../api/register.js';
import { startApiServer } from '../api/server.js';
import { NodeHost } from './host.js';
import type { RunningNode } from './index.js';
import type { NodeOptions } from './options.js';

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const host = await NodeHost.open(options);
  let api;
  try {
    api = await startApiServer(host);
  } catch (err) {
    await host.shutdown(0).catch(() => {});
    throw err;
  }
  if (options.metricsListen) {
    try {
      await host.metrics.listen(options.metricsListen);
    } catch (err) {
      await api.close();
      await host.shutdown(0).catch(() => {});
      throw err;
    }
  }
  host.start();
  const stopRegistration = startRegistration(host, (err) => host.failWith(err));
  api.health.setStatus('', 'SERVING');
  host.log.info(
    {
      listen: options.listen,
      port: api.port,
      advertise: options.advertise,
      ...(host.metrics.port !== null ? { metricsPort: host.metrics.port } : {}),
    },
    'serving',
  );
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      stopRegistration();
      await host.shutdown();
      await api.close();
      await host.metrics.close();
    })();
    return shuttingDown;
  };
  host.onFatal = () => {
    stopRegistration();
    void api.close();
    void host.metrics.close();
  };
  return { id: options.id, shutdown, stopped: host.stopped, host, port: api.port };
}
