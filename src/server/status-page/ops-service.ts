// raftseq.v1.Ops (proto/raftseq/v1/ops.proto): a node's status-page view,
// asked for by the page on a follower so that every node shows the leader's
// view. Served on the node's one gRPC port.

import * as grpc from '@grpc/grpc-js';
import type { OpsClient } from '../../proto/generated/raftseq/v1/Ops.js';
import { raftseqApi } from '../../proto/load.js';
import type { Overview } from './view.js';

/** Adds the Ops service, answering with `view()`, to `server`. */
export function addOpsService(server: grpc.Server, view: () => Promise<Overview>): void {
  server.addService(raftseqApi().Ops.service, {
    Overview: (
      _call: grpc.ServerUnaryCall<object, { json: string }>,
      callback: grpc.sendUnaryData<{ json: string }>,
    ) => {
      view().then(
        (v) => callback(null, { json: JSON.stringify(v) }),
        (e: unknown) =>
          callback({ code: grpc.status.INTERNAL, details: (e as Error)?.message ?? String(e) }),
      );
    },
  });
}

/** Asks other nodes for their view; one channel, re-made when the leader moves. */
export class OverviewClient {
  private readonly Ops = raftseqApi().Ops;
  private client: { address: string; c: OpsClient } | null = null;

  constructor(
    private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {}

  ask(address: string, deadlineMs: number): Promise<Overview> {
    if (this.client?.address !== address) {
      this.client?.c.close();
      this.client = { address, c: new this.Ops(address, this.credentials) };
    }
    const c = this.client.c;
    return new Promise((resolve, reject) => {
      c.Overview({}, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) return reject(new Error(`${address}: ${err.details || err.message}`));
        try {
          resolve(JSON.parse(res?.json ?? '') as Overview);
        } catch {
          reject(new Error(`${address}: an overview that is not JSON`));
        }
      });
    });
  }

  close(): void {
    this.client?.c.close();
    this.client = null;
  }
}
