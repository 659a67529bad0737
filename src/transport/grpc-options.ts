// The options, limits and statistics of the gRPC peer transport
// (grpc-transport.ts), and the channel and server options it needs.

import type * as grpc from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import type { TransportHandler } from './transport.js';

export type LogLevel = 'debug' | 'info' | 'warn';
export type LogFn = (level: LogLevel, msg: string, fields?: object) => void;

export interface FaultRule {
  /** Discard outgoing messages to the peer. */
  drop?: boolean;
  /** Deliver outgoing messages to the peer this many ms later (order kept). */
  delayMs?: number;
  /** Discard messages received from the peer. */
  dropIncoming?: boolean;
}

/** What authorizeSender may look at: the call's peer address and its TLS context. */
export type IncomingRaftCall = Pick<
  grpc.ServerReadableStream<unknown, unknown>,
  'getPeer' | 'getAuthContext' | 'metadata'
>;

export type SenderVerdict = { allow: true } | { allow: false; code: grpc.status; message: string };

export interface PeerStats {
  /** The stream to the peer is open (the peer accepted it). */
  connected: boolean;
  /** Messages written to the stream (snapshots count once, when delivered). */
  sent: number;
  /** Messages discarded: link down, queue full, fault rule, snapshot busy. */
  dropped: number;
  /** Messages waiting: in the queue or held back by a delay rule. */
  queued: number;
  lastError: string | null;
  /** Messages received from the peer and handed to onMessage. */
  received: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  /** The newest wire format the peer announced; undefined until it was reached. */
  format?: number;
  /** The peer announced its cluster id (it checks them): see LinkStats. */
  announcesClusterId?: boolean;
}

export interface GrpcTransportOptions {
  selfId: NodeId;
  /** Where incoming messages go; may instead be set later with attach(). */
  handler?: Partial<TransportHandler>;
  /**
   * Announced to peers with every stream (see onUnknownPeer): the address the
   * cluster's members dial this node at. Changed later with setSelfAddress().
   */
  selfAddress?: string;
  log?: LogFn;
  /** Default: insecure. */
  credentials?: grpc.ChannelCredentials;
  /**
   * Credentials for dialling one peer (TLS: trust the CA, present our own
   * certificate, and require the peer's to name that member); overrides
   * `credentials`.
   */
  credentialsFor?: (peer: NodeId) => grpc.ChannelCredentials;
  /**
   * Whether the caller of an incoming Raft call may speak for `sender` (TLS:
   * its certificate must name that member). Checked when a stream opens and
   * for every batch, message and snapshot on it. Default: anyone may.
   */
  authorizeSender?: (call: IncomingRaftCall, sender: NodeId) => SenderVerdict;
  /** Register the FaultInjection service in addToServer (tests only). */
  enableFaultInjection?: boolean;
  /** Merged over RAFT_CHANNEL_OPTIONS. */
  channelOptions?: grpc.ChannelOptions;
  /** Per-peer queue bound, in messages (default 65536) and bytes (default 64 MiB). */
  maxQueueMessages?: number;
  maxQueueBytes?: number;
  /** Per-batch bound, in messages (default 4096) and estimated bytes (default 1 MiB). */
  maxBatchMessages?: number;
  maxBatchBytes?: number;
  /** A single message larger than this (estimated) is dropped. Default 60 MiB. */
  maxMessageBytes?: number;
  /** Reconnect backoff: initial (default 50 ms), doubling up to max (default 2 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Snapshot chunk size (default 1 MiB), deadline (default 5 min), largest accepted (default 4 GiB). */
  snapshotChunkBytes?: number;
  snapshotTimeoutMs?: number;
  maxSnapshotBytes?: number;
}

export const MiB = 1 << 20;

/** Channel options for peers on a LAN. */
export const RAFT_CHANNEL_OPTIONS: Readonly<grpc.ChannelOptions> = Object.freeze({
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * MiB,
  'grpc.max_send_message_length': 64 * MiB,
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A long-lived stream must not be buffered for replay; Raft does its own retries.
  'grpc.enable_retries': 0,
  // Each transport dials its own connections (several nodes may share a test process).
  'grpc.use_local_subchannel_pool': 1,
});

/**
 * Options the node's grpc.Server should be created with (merge with its own):
 * batches up to 64 MiB, keepalive matching the peers'.
 */
export const RAFT_SERVER_OPTIONS: Readonly<grpc.ServerOptions> = Object.freeze({
  'grpc.max_receive_message_length': 64 * MiB,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
});
