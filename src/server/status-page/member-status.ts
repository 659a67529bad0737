// Each member's own Status (term, commit, applied, lease, version), asked
// over the admin API at its advertised address, the way `cluster status`
// does: the leader knows its members' logs, not what they applied or which
// release they run. One channel per address, kept; a member that does not
// answer within the deadline shows as unreachable.

import * as grpc from '@grpc/grpc-js';
import type { ClusterClient } from '../../proto/generated/raftseq/v1/Cluster.js';
import type { StatusResponse__Output } from '../../proto/generated/raftseq/v1/StatusResponse.js';
import { raftseqApi } from '../../proto/load.js';

/** What a member says about itself (wire names, as the loader decodes them). */
export type OwnStatus = StatusResponse__Output;

export class MemberStatusClient {
  private readonly Cluster = raftseqApi().Cluster;
  private readonly clients = new Map<string, ClusterClient>();

  constructor(
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {}

  /** The member's own Status, or the reason it gave none. */
  ask(
    address: string,
    deadlineMs: number,
  ): Promise<{ ok: true; status: OwnStatus } | { ok: false; error: string }> {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new this.Cluster(address, this.credentials);
      this.clients.set(address, client);
    }
    const c = client;
    return new Promise((resolve) => {
      c.Status({}, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) resolve({ ok: false, error: err.details || err.message });
        else if (res === undefined) resolve({ ok: false, error: 'an empty answer' });
        else resolve({ ok: true, status: res });
      });
    });
  }

  /** Forgets the channels of addresses no longer in use. */
  keepOnly(addresses: ReadonlySet<string>): void {
    for (const [address, c] of this.clients) {
      if (!addresses.has(address)) {
        c.close();
        this.clients.delete(address);
      }
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
