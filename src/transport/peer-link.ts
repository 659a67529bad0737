// One peer's outgoing link: its stream, queue, delay line, snapshot in
// flight and counters. GrpcTransport drives it; this is only its state.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/types.js';
import type { PeerStats } from './grpc-options.js';
import type { RaftBatchPb, SnapshotChunkPb } from './proto.js';

export type LinkState = 'connecting' | 'ready' | 'backoff' | 'closed';

export interface Delayed {
  due: number;
  m: Message;
}

export class Peer {
  client: grpc.Client | null = null;
  stream: grpc.ClientWritableStream<RaftBatchPb> | null = null;
  state: LinkState = 'backoff';
  /** Bumped whenever the stream is replaced: callbacks of older streams are ignored. */
  generation = 0;
  connectedAt = 0;
  backoffMs: number;
  retryTimer: NodeJS.Timeout | null = null;

  queue: Message[] = [];
  sizes: number[] = [];
  head = 0;
  queuedBytes = 0;
  writing = false;
  flushScheduled = false;

  delayed: Delayed[] = [];
  delayedHead = 0;
  delayTimer: NodeJS.Timeout | null = null;

  snapshotCall: grpc.ClientWritableStream<SnapshotChunkPb> | null = null;
  /** A snapshot for the peer is being deflated (it counts as in flight). */
  deflating = false;
  /** The newest wire format the peer announced when the link last opened. */
  announced: number | undefined = undefined;
  /** The peer announced its cluster id when the link last opened (see cluster-id.ts). */
  announcesClusterId = false;

  sent = 0;
  dropped = 0;
  received = 0;
  snapshotsSent = 0;
  snapshotsFailed = 0;
  lastError: string | null = null;
  lastLoggedError: string | null = null;
  removed = false;

  constructor(
    readonly id: NodeId,
    public address: string,
    backoffMs: number,
  ) {
    this.backoffMs = backoffMs;
  }

  get queueLength(): number {
    return this.queue.length - this.head;
  }

  get delayedLength(): number {
    return this.delayed.length - this.delayedHead;
  }

  clearQueue(): number {
    const n = this.queueLength;
    this.queue = [];
    this.sizes = [];
    this.head = 0;
    this.queuedBytes = 0;
    return n;
  }

  stats(): PeerStats {
    return {
      connected: this.state === 'ready',
      sent: this.sent,
      dropped: this.dropped,
      queued: this.queueLength + this.delayedLength,
      lastError: this.lastError,
      received: this.received,
      snapshotsSent: this.snapshotsSent,
      snapshotsFailed: this.snapshotsFailed,
      ...(this.announced !== undefined ? { format: this.announced } : {}),
      ...(this.announcesClusterId ? { announcesClusterId: true } : {}),
    };
  }

  shift(): Message {
    const m = this.queue[this.head]!;
    this.queuedBytes -= this.sizes[this.head]!;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return m;
  }
}

/** A gRPC or other error as one line for the log. */
export function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'number') {
    const e = err as grpc.ServiceError;
    return `${grpc.status[e.code] ?? e.code}: ${e.details || e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
