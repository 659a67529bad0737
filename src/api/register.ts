// Keeps this member's record in the log current: its data directory's
// incarnation and its advertised address (--advertise), which followers hand
// to clients in redirects. The leader records itself; a follower asks the
// leader through Cluster.RegisterMember. If the cluster already knows another
// incarnation of this member, its data directory was lost or replaced and the
// node stops (see DataDirectoryReplacedError).

import * as grpc from '@grpc/grpc-js';
import { DataDirectoryReplacedError, type NodeHost } from '../node/host.js';
import { apiServices, loadApiDefinition } from './proto.js';

const CHECK_EVERY_MS = 1000;

export function startRegistration(host: NodeHost, fail: (err: Error) => void): () => void {
  const Cluster = apiServices(loadApiDefinition()).Cluster;
  let busy = false;
  let client: { address: string; c: grpc.Client } | null = null;

  const clientFor = (address: string): grpc.Client => {
    if (client?.address !== address) {
      client?.c.close();
      client = { address, c: new Cluster(address, grpc.credentials.createInsecure()) };
    }
    return client.c;
  };

  const attempt = async (): Promise<void> => {
    if (!host.needsRegistration()) return;
    const st = host.status();
    if (st.role === 'leader') {
      const r = await host.registerMember(
        host.options.id,
        host.incarnation,
        host.options.advertise,
      );
      if (r === 'replaced')
        fail(new DataDirectoryReplacedError(host.options.id, host.options.dataDir));
      return;
    }
    if (st.leader === null) return;
    const address = host.memberAddress(st.leader);
    if (address === null) return;
    const c = clientFor(address) as grpc.Client & {
      RegisterMember: (
        req: object,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null) => void,
      ) => void;
    };
    await new Promise<void>((resolve) => {
      c.RegisterMember(
        { id: host.options.id, incarnation: host.incarnation, advertise: host.options.advertise },
        { deadline: Date.now() + 3000 },
        (err) => {
          if (err?.code === grpc.status.FAILED_PRECONDITION) {
            fail(new DataDirectoryReplacedError(host.options.id, host.options.dataDir));
          } else if (err) {
            host.log.debug({ err: err.message }, 'member registration will be retried');
          }
          resolve();
        },
      );
    });
  };

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    attempt()
      .catch((err: unknown) =>
        host.log.debug({ err: (err as Error).message }, 'registration failed'),
      )
      .finally(() => (busy = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    client?.c.close();
  };
}
