// Keeps this member's record in the log current: its data directory's
// incarnation and its advertised address (--advertise), which followers hand
// to clients in redirects. The leader records itself; a follower asks the
// leader (Cluster.RegisterMember, through the injected client). If the
// cluster already knows another incarnation of this member, its data
// directory was lost or replaced and the node stops
// (DataDirectoryReplacedError).

import { DataDirectoryReplacedError } from './bootstrap.js';
import type { NodeHost } from './host.js';
import { sleepOn } from './runtime.js';

const CHECK_EVERY_MS = 1000;

export interface RegisterRequest {
  id: string;
  incarnation: string;
  advertise: string;
}

/** Asks `leader` (dialled at its address) to record this member; 'retry' on any other failure. */
export type RegisterAtLeader = (
  leader: { id: string; address: string },
  req: RegisterRequest,
) => Promise<'ok' | 'replaced' | 'retry'>;

/** Runs until the returned function is called or the node stops. */
export function startRegistration(host: NodeHost, registerAt: RegisterAtLeader): () => void {
  let running = true;
  const attempt = async (): Promise<void> => {
    if (!host.needsRegistration()) return;
    const st = host.status();
    const req = { id: host.id, incarnation: host.incarnation, advertise: host.options.advertise };
    let outcome: 'ok' | 'replaced' | 'not-member' | 'retry';
    if (st.role === 'leader') {
      outcome = await host.registerMember(req.id, req.incarnation, req.advertise);
    } else {
      const address = st.leader === null ? null : host.memberAddress(st.leader);
      if (st.leader === null || address === null) return;
      outcome = await registerAt({ id: st.leader, address }, req);
    }
    if (outcome === 'replaced') {
      host.failWith(new DataDirectoryReplacedError(host.id, host.options.dataDir));
    }
  };
  void (async () => {
    while (running) {
      await sleepOn(host.clock, CHECK_EVERY_MS);
      if (!running) return;
      await attempt().catch((err: unknown) =>
        host.log.debug({ err: (err as Error).message }, 'member registration will be retried'),
      );
    }
  })();
  void host.stopped.then(() => (running = false));
  return () => {
    running = false;
  };
}
