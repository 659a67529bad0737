// The server side of the peer transport: the Raft service's Send (a client
// stream of RaftBatches) and InstallSnapshot (a client stream of chunks).
// Every call is checked before anything in it reaches the node: addressed to
// this member, from a sender the caller may speak for (TLS), of this
// cluster, in a wire format this build reads. What passes is decoded and
// handed to the transport in stream order.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId, SnapshotRequest } from '../raft/types.js';
import {
  CLUSTER_METADATA_KEY,
  REFUSED_CLUSTER_ID,
  RefusalLog,
  announceClusterId,
  announcedClusterId,
  clusterIdRefusal,
} from './cluster-id.js';
import { SnapshotAssembler, decodeMessage, formatVersionError } from './codec.js';
import { FORMAT_METADATA_KEY, WIRE_FORMAT } from './formats.js';
import type { IncomingRaftCall, LogFn, SenderVerdict } from './grpc-options.js';
import { errorText } from './peer-link.js';
import type { EmptyPb, RaftBatchPb, RaftMessagePb, SnapshotChunkPb } from './proto.js';
import { inflateSnapshot } from './snapshot-deflate.js';

/** What the receiver needs of the transport it serves. */
export interface ReceiverHost {
  readonly selfId: NodeId;
  readonly log: LogFn;
  /** Whether authorizeSender is a real check (TLS): then every message must be the sender's. */
  readonly checkSenders: boolean;
  authorizeSender(call: IncomingRaftCall, sender: NodeId): SenderVerdict;
  isClosed(): boolean;
  /** This node's cluster id ('' while it has none). */
  clusterId(): string;
  /** A stream opened from `from`, who is dialled at `fromAddress` (if it said). */
  streamOpened(from: NodeId, fromAddress: string | undefined): void;
  /** Fault injection (tests): messages from `from` are to be discarded. */
  dropsIncomingFrom(from: NodeId): boolean;
  /** A message for this node, checked and decoded. */
  receive(m: Message): void;
  readonly maxSnapshotBytes: number;
}

type IncomingCall = { finish(err: Partial<grpc.StatusObject> | null): void };

export class RaftReceiver {
  private readonly incoming = new Set<IncomingCall>();
  private readonly refused: Record<string, number> = {};
  private readonly refusalLog = new RefusalLog(60_000, () => Date.now());

  constructor(private readonly host: ReceiverHost) {}

  /** Refusals so far, by reason (e.g. cluster-id). */
  refusals(): Readonly<Record<string, number>> {
    return { ...this.refused };
  }

  /** Ends every incoming call (the transport is closing). */
  close(): void {
    for (const call of [...this.incoming]) {
      call.finish({ code: grpc.status.UNAVAILABLE, details: 'raft transport closed' });
    }
  }

  /** A call entry that answers once and leaves the set of open calls. */
  private track(callback: grpc.sendUnaryData<EmptyPb>): {
    entry: IncomingCall;
    done: () => boolean;
  } {
    let done = false;
    const entry: IncomingCall = {
      finish: (err) => {
        if (done) return;
        done = true;
        this.incoming.delete(entry);
        if (err) callback(err);
        else callback(null, {});
      },
    };
    this.incoming.add(entry);
    return { entry, done: () => done };
  }

  readonly handleSend = (
    call: grpc.ServerReadableStream<RaftBatchPb, EmptyPb>,
    callback: grpc.sendUnaryData<EmptyPb>,
  ): void => {
    const h = this.host;
    const refusal = this.checkIncomingCall(call.metadata);
    if (refusal) {
      callback(refusal);
      return;
    }
    const { entry, done } = this.track(callback);
    const from = call.metadata.get('raftseq-from')[0];
    const fromAddress = call.metadata.get('raftseq-from-address')[0];
    const sender = typeof from === 'string' ? from : '';
    const verdict = h.authorizeSender(call, sender);
    if (!verdict.allow) {
      h.log('warn', `raft transport: refusing stream: ${verdict.message}`, {
        from: sender,
        peer: call.getPeer(),
      });
      entry.finish({ code: verdict.code, details: verdict.message });
      return;
    }
    const theirCluster = announcedClusterId(call.metadata.get(CLUSTER_METADATA_KEY)[0]);
    const foreign = (): boolean => {
      const why = this.refuseForeignCluster(sender, theirCluster);
      if (why !== null) entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: why });
      return why !== null;
    };
    if (foreign()) return;
    if (sender !== '') {
      h.streamOpened(
        sender,
        typeof fromAddress === 'string' && fromAddress !== '' ? fromAddress : undefined,
      );
    }
    call.on('data', (batch: RaftBatchPb) => {
      if (done()) return;
      const err = formatVersionError(batch.formatVersion, `raft batch from ${batch.from || '?'}`);
      if (err) {
        h.log('warn', `raft transport: refusing stream: ${err}`, { from: batch.from });
        entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: err });
        return;
      }
      // With sender checks on (TLS), every message on the stream speaks for
      // the member the stream was opened and authorized as, and no other.
      const forged = !h.checkSenders
        ? undefined
        : batch.from !== sender
          ? batch.from
          : batch.messages.find((pb) => pb.from !== sender)?.from;
      if (forged !== undefined) {
        const details = `a stream opened as ${JSON.stringify(sender)} carries a message from ${JSON.stringify(forged)}`;
        h.log('warn', `raft transport: refusing stream: ${details}`, { peer: call.getPeer() });
        entry.finish({ code: grpc.status.PERMISSION_DENIED, details });
        return;
      }
      // Again for every batch: this node may have adopted its id since the stream opened.
      if (foreign()) return;
      for (const pb of batch.messages) this.deliver(pb);
    });
    call.on('end', () => entry.finish(null));
    call.on('cancelled', () => entry.finish(null));
    call.on('error', () => entry.finish(null));
    // Initial metadata tells the sender the link is up, which format we speak
    // and that we check cluster ids (so the leader may give the cluster one).
    const answer = new grpc.Metadata();
    answer.set(FORMAT_METADATA_KEY, String(WIRE_FORMAT));
    answer.set(CLUSTER_METADATA_KEY, announceClusterId(h.clusterId()));
    call.sendMetadata(answer);
  };

  readonly handleInstallSnapshot = (
    call: grpc.ServerReadableStream<SnapshotChunkPb, EmptyPb>,
    callback: grpc.sendUnaryData<EmptyPb>,
  ): void => {
    const h = this.host;
    const refusal = this.checkIncomingCall(call.metadata);
    if (refusal) {
      callback(refusal);
      return;
    }
    const assembler = new SnapshotAssembler(h.maxSnapshotBytes);
    const theirCluster = announcedClusterId(call.metadata.get(CLUSTER_METADATA_KEY)[0]);
    const { entry, done } = this.track(callback);
    const fail = (code: grpc.status, details: string): void => {
      h.log('warn', `raft transport: snapshot refused: ${details}`, {
        from: assembler.meta?.from,
      });
      entry.finish({ code, details });
    };
    call.on('data', (chunk: SnapshotChunkPb) => {
      if (done()) return;
      const versionErr = formatVersionError(chunk.formatVersion, 'snapshot chunk');
      if (versionErr) return fail(grpc.status.FAILED_PRECONDITION, versionErr);
      const first = assembler.meta === null;
      try {
        assembler.push(chunk);
      } catch (e) {
        return fail(grpc.status.INVALID_ARGUMENT, errorText(e));
      }
      if (first) {
        const meta = assembler.meta!;
        if (meta.to !== h.selfId) {
          return fail(
            grpc.status.FAILED_PRECONDITION,
            `snapshot for ${meta.to}, this is ${h.selfId}`,
          );
        }
        const verdict = h.authorizeSender(call, meta.from);
        if (!verdict.allow) return fail(verdict.code, verdict.message);
        const why = this.refuseForeignCluster(meta.from, theirCluster);
        if (why !== null) {
          return entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: why });
        }
        if (h.dropsIncomingFrom(meta.from)) {
          entry.finish({ code: grpc.status.UNAVAILABLE, details: 'dropped by fault injection' });
        }
      }
    });
    const delivered = (m: SnapshotRequest): void => {
      if (done()) return;
      if (h.isClosed()) return entry.finish({ code: grpc.status.UNAVAILABLE, details: 'closed' });
      const why = this.refuseForeignCluster(m.from, theirCluster);
      if (why !== null)
        return entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: why });
      if (h.dropsIncomingFrom(m.from)) {
        return entry.finish({
          code: grpc.status.UNAVAILABLE,
          details: 'dropped by fault injection',
        });
      }
      this.handOver(m);
      entry.finish(null);
    };
    call.on('end', () => {
      if (done()) return;
      let m: SnapshotRequest;
      try {
        m = assembler.finish();
      } catch (e) {
        return fail(grpc.status.INVALID_ARGUMENT, errorText(e));
      }
      const rawSize = assembler.deflatedRawSize;
      if (rawSize === null) return delivered(m);
      inflateSnapshot(m, rawSize).then(delivered, (e: unknown) =>
        fail(grpc.status.INVALID_ARGUMENT, errorText(e)),
      );
    });
    call.on('cancelled', () => entry.finish(null));
    call.on('error', () => entry.finish(null));
  };

  /**
   * Null if a stream from `sender`, who announced cluster `theirs`, may go
   * on; else why not, counted, and logged at most once a minute per sender
   * and id (a refused peer keeps redialling).
   */
  private refuseForeignCluster(sender: string, theirs: string | undefined): string | null {
    const own = this.host.clusterId();
    const why = clusterIdRefusal(own, theirs, sender);
    if (why === null) return null;
    this.refused[REFUSED_CLUSTER_ID] = (this.refused[REFUSED_CLUSTER_ID] ?? 0) + 1;
    if (this.refusalLog.shouldLog(`${sender}/${theirs ?? ''}`)) {
      this.host.log('warn', `raft transport: refusing stream: ${why}`, {
        from: sender,
        cluster: theirs,
        ownCluster: own,
      });
    }
    return why;
  }

  /** Refuses a call meant for another member (addresses mixed up) or after close. */
  private checkIncomingCall(md: grpc.Metadata): Partial<grpc.StatusObject> | null {
    const h = this.host;
    if (h.isClosed()) return { code: grpc.status.UNAVAILABLE, details: 'raft transport closed' };
    const to = md.get('raftseq-to')[0];
    if (typeof to === 'string' && to !== '' && to !== h.selfId) {
      const details = `this is member ${h.selfId}, not ${to} (check the peer addresses)`;
      h.log('debug', `raft transport: refusing stream: ${details}`, {
        from: md.get('raftseq-from')[0],
      });
      return { code: grpc.status.FAILED_PRECONDITION, details };
    }
    return null;
  }

  private deliver(pb: RaftMessagePb): void {
    let m: Message;
    try {
      m = decodeMessage(pb);
    } catch (e) {
      this.host.log('warn', `raft transport: undecodable message dropped: ${errorText(e)}`, {
        from: pb.from,
      });
      return;
    }
    this.handOver(m);
  }

  private handOver(m: Message): void {
    const h = this.host;
    if (h.isClosed()) return;
    if (m.to !== h.selfId) {
      h.log('debug', 'raft transport: message for another member dropped', {
        from: m.from,
        to: m.to,
        type: m.type,
      });
      return;
    }
    if (h.dropsIncomingFrom(m.from)) return;
    h.receive(m);
  }
}
