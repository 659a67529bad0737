// Sending a snapshot to one peer over Raft/InstallSnapshot: one at a time
// per peer, deflated once every member reads deflated snapshots, in chunks
// written as fast as the stream drains. The outcome is reported to the node
// (Raft's ReportSnapshot) through the host.

import * as grpc from '@grpc/grpc-js';
import type { NodeId, SnapshotRequest } from '../raft/types.js';
import { CLUSTER_METADATA_KEY, announceClusterId } from './cluster-id.js';
import { snapshotChunks, type SnapshotWire } from './codec.js';
import { FEATURES, MIN_WIRE_FORMAT, clusterFormat, linkFormat } from './formats.js';
import type { LogFn } from './grpc-options.js';
import { errorText, type Peer } from './peer-link.js';
import type { EmptyPb, SnapshotChunkPb } from './proto.js';
import { DEFLATE_MIN_BYTES, deflateSnapshot } from './snapshot-deflate.js';

const SNAPSHOT_PATH = '/raftseq.v1.Raft/InstallSnapshot';

const noop = (): void => {};

/** What the sender needs of the transport. */
export interface SnapshotSenderHost {
  readonly selfId: NodeId;
  readonly log: LogFn;
  readonly method: grpc.MethodDefinition<SnapshotChunkPb, EmptyPb>;
  readonly chunkBytes: number;
  readonly timeoutMs: number;
  isClosed(): boolean;
  clusterId(): string;
  /** Every other member, and the wire format each announced (undefined: not reached yet). */
  members(): NodeId[];
  announcedBy(id: NodeId): number | undefined;
  /** The snapshot to `to` failed: tell the node, after this call returns. */
  reportFailure(to: NodeId): void;
  /** The snapshot call to `to` failed: tell the node now. */
  failed(to: NodeId): void;
}

export class SnapshotSender {
  constructor(private readonly host: SnapshotSenderHost) {}

  send(peer: Peer, m: SnapshotRequest): void {
    if (peer.snapshotCall || peer.deflating) {
      // One at a time: the one in flight reports success or failure.
      peer.dropped++;
      this.host.log('debug', 'raft transport: snapshot already in flight, dropped', {
        to: peer.id,
      });
      return;
    }
    if (!peer.client) {
      peer.dropped++;
      this.host.reportFailure(peer.id);
      return;
    }
    const format = linkFormat(peer.announced ?? MIN_WIRE_FORMAT);
    if (!this.deflateSnapshotsTo(peer, m)) {
      this.streamSnapshot(peer, m, { format });
      return;
    }
    peer.deflating = true;
    const gen = peer.generation;
    deflateSnapshot(m.snapshot.data).then(
      (deflated) => {
        peer.deflating = false;
        if (this.host.isClosed() || peer.removed) return;
        if (gen !== peer.generation || !peer.client) return this.host.reportFailure(peer.id);
        this.streamSnapshot(peer, m, { format, deflated });
      },
      (e: unknown) => {
        peer.deflating = false;
        this.host.log('warn', `raft transport: deflating a snapshot failed: ${errorText(e)}`, {
          peer: peer.id,
        });
        this.host.reportFailure(peer.id);
      },
    );
  }

  /**
   * Deflate snapshots to `peer` only once the feature is on: the peer and
   * every other member (every voter, and learners too, since each may be
   * sent one) announced a format that has it. Until then the cluster
   * behaves as the older release did.
   */
  private deflateSnapshotsTo(peer: Peer, m: SnapshotRequest): boolean {
    if (m.snapshot.data.byteLength < DEFLATE_MIN_BYTES) return false;
    const h = this.host;
    const f = clusterFormat(h.selfId, h.members(), (id) => h.announcedBy(id));
    return (
      Math.min(f, linkFormat(peer.announced ?? MIN_WIRE_FORMAT)) >= FEATURES.snapshotCompression
    );
  }

  private streamSnapshot(peer: Peer, m: SnapshotRequest, wire: SnapshotWire): void {
    const client = peer.client!;
    const md = new grpc.Metadata();
    md.set('raftseq-from', this.host.selfId);
    md.set('raftseq-to', peer.id);
    md.set(CLUSTER_METADATA_KEY, announceClusterId(this.host.clusterId()));
    const method = this.host.method;
    const started = Date.now();
    const call = client.makeClientStreamRequest<SnapshotChunkPb, EmptyPb>(
      SNAPSHOT_PATH,
      method.requestSerialize,
      method.responseDeserialize,
      md,
      { deadline: started + this.host.timeoutMs },
      (err) => {
        if (peer.snapshotCall !== call) return; // torn down
        peer.snapshotCall = null;
        if (this.host.isClosed() || peer.removed) return;
        if (err) {
          peer.snapshotsFailed++;
          peer.dropped++;
          peer.lastError = `snapshot: ${errorText(err)}`;
          this.host.log(
            'warn',
            `raft transport: snapshot to ${peer.id} failed: ${errorText(err)}`,
            {
              peer: peer.id,
              index: m.snapshot.meta.index,
            },
          );
          this.host.failed(peer.id);
        } else {
          peer.snapshotsSent++;
          peer.sent++;
          this.host.log('info', `raft transport: snapshot delivered to ${peer.id}`, {
            peer: peer.id,
            index: m.snapshot.meta.index,
            bytes: m.snapshot.data.byteLength,
            ...(wire.deflated !== undefined ? { deflatedBytes: wire.deflated.byteLength } : {}),
            ms: Date.now() - started,
          });
        }
      },
    );
    call.on('error', noop);
    peer.snapshotCall = call;
    const chunks = snapshotChunks(m, this.host.chunkBytes, wire);
    const pump = (): void => {
      if (peer.snapshotCall !== call) return;
      for (;;) {
        const next = chunks.next();
        if (next.done) {
          call.end();
          return;
        }
        if (!call.write(next.value)) {
          call.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }
}
