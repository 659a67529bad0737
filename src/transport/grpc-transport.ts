// The Raft peer transport over gRPC.
//
// Outgoing: per peer, one long-lived client stream (Raft/Send) fed from the
// peer's own bounded queue; whatever queues up while a write is in flight goes
// out as the next RaftBatch. A peer that is slow or down never holds up the
// others. While a link is down its messages are dropped (Raft retransmits);
// the stream is re-opened with exponential backoff and jitter. Snapshots go
// through Raft/InstallSnapshot in chunks, one at a time per peer.
//
// Incoming: the Raft service added to the node's grpc.Server hands every
// decoded message addressed to this node to onMessage, in stream order.
//
// Faults (tests): setFault() drops or delays outgoing messages to a peer, or
// drops incoming messages from it, standing in for netem.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId, SnapshotRequest } from '../raft/types.js';
import {
  DEFAULT_CHUNK_SIZE,
  SnapshotAssembler,
  decodeMessage,
  encodeMessage,
  estimateSize,
  formatVersionError,
  snapshotChunks,
  type SnapshotWire,
} from './codec.js';
import {
  FEATURES,
  FORMAT_METADATA_KEY,
  MIN_WIRE_FORMAT,
  WIRE_FORMAT,
  announcedFormat,
  clusterFormat,
  linkFormat,
} from './formats.js';
import {
  CLUSTER_METADATA_KEY,
  REFUSED_CLUSTER_ID,
  RefusalLog,
  announceClusterId,
  announcedClusterId,
  clusterIdRefusal,
} from './cluster-id.js';
import { DEFLATE_MIN_BYTES, deflateSnapshot, inflateSnapshot } from './snapshot-deflate.js';
import {
  raftServices,
  type EmptyPb,
  type RaftBatchPb,
  type RaftMessagePb,
  type SetFaultRequestPb,
  type SetFaultResponsePb,
  type SnapshotChunkPb,
} from './proto.js';
import type { Transport, TransportHandler } from './transport.js';

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

const MiB = 1 << 20;

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

const SEND_PATH = '/raftseq.v1.Raft/Send';
const SNAPSHOT_PATH = '/raftseq.v1.Raft/InstallSnapshot';
/** A link that stayed up this long resets the backoff when it breaks. */
const STABLE_MS = 1_000;

type LinkState = 'connecting' | 'ready' | 'backoff' | 'closed';

interface Delayed {
  due: number;
  m: Message;
}

class Peer {
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

type IncomingCall = { finish(err: Partial<grpc.StatusObject> | null): void };

const noop = (): void => {};

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'number') {
    const e = err as grpc.ServiceError;
    return `${grpc.status[e.code] ?? e.code}: ${e.details || e.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export class GrpcTransport implements Transport {
  readonly selfId: NodeId;
  private onMessage: (m: Message) => void = () => {};
  private onSnapshotFailure: (to: NodeId) => void = () => {};
  private onUnknownPeer: ((id: NodeId, address: string) => void) | undefined;
  private selfAddress: string | undefined;
  private readonly log: LogFn;
  private readonly credentialsFor: (peer: NodeId) => grpc.ChannelCredentials;
  private readonly checkSenders: boolean;
  private readonly authorizeSender: (call: IncomingRaftCall, sender: NodeId) => SenderVerdict;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly enableFaultInjection: boolean;
  private readonly maxQueueMessages: number;
  private readonly maxQueueBytes: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly maxMessageBytes: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly snapshotChunkBytes: number;
  private readonly snapshotTimeoutMs: number;
  private readonly maxSnapshotBytes: number;

  private readonly raftService: grpc.ServiceDefinition;
  private readonly faultService: grpc.ServiceDefinition;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly faults = new Map<NodeId, FaultRule>();
  private readonly incoming = new Set<IncomingCall>();
  private readonly dirty: Peer[] = [];
  private flushQueued = false;
  private closed = false;
  /** This node's cluster id ('' while it has none): see cluster-id.ts. */
  private clusterId = '';
  private readonly refused: Record<string, number> = {};
  private readonly refusalLog = new RefusalLog(60_000, () => Date.now());

  constructor(opts: GrpcTransportOptions) {
    this.selfId = opts.selfId;
    if (opts.handler !== undefined) this.attach(opts.handler);
    this.selfAddress = opts.selfAddress;
    this.log = opts.log ?? noop;
    const credentials = opts.credentials ?? grpc.credentials.createInsecure();
    this.credentialsFor = opts.credentialsFor ?? (() => credentials);
    this.authorizeSender = opts.authorizeSender ?? (() => ({ allow: true }));
    this.checkSenders = opts.authorizeSender !== undefined;
    this.channelOptions = { ...RAFT_CHANNEL_OPTIONS, ...opts.channelOptions };
    this.enableFaultInjection = opts.enableFaultInjection ?? false;
    this.maxQueueMessages = opts.maxQueueMessages ?? 65_536;
    this.maxQueueBytes = opts.maxQueueBytes ?? 64 * MiB;
    this.maxBatchMessages = opts.maxBatchMessages ?? 4_096;
    this.maxBatchBytes = opts.maxBatchBytes ?? MiB;
    this.maxMessageBytes = opts.maxMessageBytes ?? 60 * MiB;
    this.backoffInitialMs = opts.backoffInitialMs ?? 50;
    this.backoffMaxMs = opts.backoffMaxMs ?? 2_000;
    this.snapshotChunkBytes = opts.snapshotChunkBytes ?? DEFAULT_CHUNK_SIZE;
    this.snapshotTimeoutMs = opts.snapshotTimeoutMs ?? 5 * 60_000;
    this.maxSnapshotBytes = opts.maxSnapshotBytes ?? 2 ** 32;
    const services = raftServices();
    this.raftService = services.Raft;
    this.faultService = services.FaultInjection;
  }

  /** Sets (or replaces) where incoming messages and snapshot failures go. */
  attach(handler: Partial<TransportHandler>): void {
    if (handler.onMessage) this.onMessage = handler.onMessage;
    if (handler.onSnapshotFailure) this.onSnapshotFailure = handler.onSnapshotFailure;
    if (handler.onUnknownPeer) this.onUnknownPeer = handler.onUnknownPeer;
  }

  // ---------------------------------------------------------------- server side

  /**
   * Registers Raft (and FaultInjection when enabled here or in the
   * constructor) on the node's server. Once per server.
   */
  addToServer(server: grpc.Server, opts: { enableFaultInjection?: boolean } = {}): void {
    server.addService(this.raftService, {
      Send: this.handleSend,
      InstallSnapshot: this.handleInstallSnapshot,
    } as grpc.UntypedServiceImplementation);
    if (opts.enableFaultInjection ?? this.enableFaultInjection) {
      server.addService(this.faultService, {
        SetFault: this.handleSetFault,
      } as grpc.UntypedServiceImplementation);
    }
  }

  private readonly handleSend = (
    call: grpc.ServerReadableStream<RaftBatchPb, EmptyPb>,
    callback: grpc.sendUnaryData<EmptyPb>,
  ): void => {
    const refusal = this.checkIncomingCall(call.metadata);
    if (refusal) {
      callback(refusal);
      return;
    }
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
    const from = call.metadata.get('raftseq-from')[0];
    const fromAddress = call.metadata.get('raftseq-from-address')[0];
    const sender = typeof from === 'string' ? from : '';
    const verdict = this.authorizeSender(call, sender);
    if (!verdict.allow) {
      this.log('warn', `raft transport: refusing stream: ${verdict.message}`, {
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
    if (typeof from === 'string') this.reconnectNowIfWaiting(from);
    if (
      typeof from === 'string' &&
      typeof fromAddress === 'string' &&
      from !== '' &&
      fromAddress !== '' &&
      !this.peers.has(from)
    ) {
      this.onUnknownPeer?.(from, fromAddress);
    }
    call.on('data', (batch: RaftBatchPb) => {
      if (done) return;
      const err = formatVersionError(batch.formatVersion, `raft batch from ${batch.from || '?'}`);
      if (err) {
        this.log('warn', `raft transport: refusing stream: ${err}`, { from: batch.from });
        entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: err });
        return;
      }
      // With sender checks on (TLS), every message on the stream speaks for
      // the member the stream was opened and authorized as, and no other.
      const forged = !this.checkSenders
        ? undefined
        : batch.from !== sender
          ? batch.from
          : batch.messages.find((pb) => pb.from !== sender)?.from;
      if (forged !== undefined) {
        const details = `a stream opened as ${JSON.stringify(sender)} carries a message from ${JSON.stringify(forged)}`;
        this.log('warn', `raft transport: refusing stream: ${details}`, { peer: call.getPeer() });
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
    answer.set(CLUSTER_METADATA_KEY, announceClusterId(this.clusterId));
    call.sendMetadata(answer);
  };

  /**
   * Null if a stream from `sender`, who announced cluster `theirs`, may go
   * on; else why not, counted, and logged at most once a minute per sender
   * and id (a refused peer keeps redialling).
   */
  private refuseForeignCluster(sender: string, theirs: string | undefined): string | null {
    const why = clusterIdRefusal(this.clusterId, theirs, sender);
    if (why === null) return null;
    this.refused[REFUSED_CLUSTER_ID] = (this.refused[REFUSED_CLUSTER_ID] ?? 0) + 1;
    if (this.refusalLog.shouldLog(`${sender}/${theirs ?? ''}`)) {
      this.log('warn', `raft transport: refusing stream: ${why}`, {
        from: sender,
        cluster: theirs,
        ownCluster: this.clusterId,
      });
    }
    return why;
  }

  /** Refuses a call meant for another member (addresses mixed up) or after close. */
  private checkIncomingCall(md: grpc.Metadata): Partial<grpc.StatusObject> | null {
    if (this.closed) return { code: grpc.status.UNAVAILABLE, details: 'raft transport closed' };
    const to = md.get('raftseq-to')[0];
    if (typeof to === 'string' && to !== '' && to !== this.selfId) {
      const details = `this is member ${this.selfId}, not ${to} (check the peer addresses)`;
      this.log('debug', `raft transport: refusing stream: ${details}`, {
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
      this.log('warn', `raft transport: undecodable message dropped: ${errorText(e)}`, {
        from: pb.from,
      });
      return;
    }
    this.handOver(m);
  }

  private handOver(m: Message): void {
    if (this.closed) return;
    if (m.to !== this.selfId) {
      this.log('debug', 'raft transport: message for another member dropped', {
        from: m.from,
        to: m.to,
        type: m.type,
      });
      return;
    }
    if (this.faults.get(m.from)?.dropIncoming) return;
    const peer = this.peers.get(m.from);
    if (peer) peer.received++;
    try {
      this.onMessage(m);
    } catch (e) {
      this.log('warn', `raft transport: onMessage threw: ${errorText(e)}`, { type: m.type });
    }
  }

  private readonly handleInstallSnapshot = (
    call: grpc.ServerReadableStream<SnapshotChunkPb, EmptyPb>,
    callback: grpc.sendUnaryData<EmptyPb>,
  ): void => {
    const refusal = this.checkIncomingCall(call.metadata);
    if (refusal) {
      callback(refusal);
      return;
    }
    const assembler = new SnapshotAssembler(this.maxSnapshotBytes);
    const theirCluster = announcedClusterId(call.metadata.get(CLUSTER_METADATA_KEY)[0]);
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
    const fail = (code: grpc.status, details: string): void => {
      this.log('warn', `raft transport: snapshot refused: ${details}`, {
        from: assembler.meta?.from,
      });
      entry.finish({ code, details });
    };
    this.incoming.add(entry);
    call.on('data', (chunk: SnapshotChunkPb) => {
      if (done) return;
      const versionErr = formatVersionError(chunk.formatVersion, 'snapshot chunk');
      if (versionErr) return fail(grpc.status.FAILED_PRECONDITION, versionErr);
      const first = assembler.meta === null;
      try {
        assembler.push(chunk);
      } catch (e) {
        return fail(grpc.status.INVALID_ARGUMENT, errorText(e));
      }
      if (first) {
        const h = assembler.meta!;
        if (h.to !== this.selfId) {
          return fail(
            grpc.status.FAILED_PRECONDITION,
            `snapshot for ${h.to}, this is ${this.selfId}`,
          );
        }
        const verdict = this.authorizeSender(call, h.from);
        if (!verdict.allow) return fail(verdict.code, verdict.message);
        if (this.refuseForeignCluster(h.from, theirCluster) !== null) {
          return entry.finish({
            code: grpc.status.FAILED_PRECONDITION,
            details: clusterIdRefusal(this.clusterId, theirCluster, h.from)!,
          });
        }
        if (this.faults.get(h.from)?.dropIncoming) {
          entry.finish({ code: grpc.status.UNAVAILABLE, details: 'dropped by fault injection' });
        }
      }
    });
    const delivered = (m: SnapshotRequest): void => {
      if (done) return;
      if (this.closed) return entry.finish({ code: grpc.status.UNAVAILABLE, details: 'closed' });
      const why = this.refuseForeignCluster(m.from, theirCluster);
      if (why !== null)
        return entry.finish({ code: grpc.status.FAILED_PRECONDITION, details: why });
      if (this.faults.get(m.from)?.dropIncoming) {
        return entry.finish({
          code: grpc.status.UNAVAILABLE,
          details: 'dropped by fault injection',
        });
      }
      this.handOver(m);
      entry.finish(null);
    };
    call.on('end', () => {
      if (done) return;
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

  private readonly handleSetFault = (
    call: grpc.ServerUnaryCall<SetFaultRequestPb, SetFaultResponsePb>,
    callback: grpc.sendUnaryData<SetFaultResponsePb>,
  ): void => {
    const r = call.request;
    if (r.clearAll) {
      for (const id of [...this.faults.keys()]) this.setFault(id, null);
    }
    if (r.peer) {
      this.setFault(r.peer, { drop: r.drop, delayMs: r.delayMs, dropIncoming: r.dropIncoming });
    } else if (!r.clearAll) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'peer is required' });
      return;
    }
    callback(null, { nodeId: this.selfId });
  };

  // ---------------------------------------------------------------- peers

  /** The address announced on streams opened from now on (see onUnknownPeer). */
  setSelfAddress(address: string): void {
    this.selfAddress = address;
  }

  /** id -> address this node dials. Adds, removes and re-addresses on the fly. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, peer] of this.peers) {
      if (!peers.has(id) || id === this.selfId) {
        this.teardown(peer);
        peer.removed = true;
        this.peers.delete(id);
        this.log('info', 'raft transport: peer removed', { peer: id });
      }
    }
    for (const [id, address] of peers) {
      if (id === this.selfId) continue;
      const existing = this.peers.get(id);
      if (existing && existing.address === address) continue;
      if (existing) {
        this.teardown(existing);
        existing.address = address;
        existing.backoffMs = this.backoffInitialMs;
        existing.state = 'backoff';
        existing.removed = false;
        this.log('info', 'raft transport: peer re-addressed', { peer: id, address });
        this.connect(existing);
      } else {
        const peer = new Peer(id, address, this.backoffInitialMs);
        this.peers.set(id, peer);
        this.log('info', 'raft transport: peer added', { peer: id, address });
        this.connect(peer);
      }
    }
  }

  private connect(peer: Peer): void {
    peer.retryTimer = null;
    if (this.closed || peer.removed) return;
    peer.client ??= new grpc.Client(
      peer.address,
      this.credentialsFor(peer.id),
      this.channelOptions,
    );
    const gen = ++peer.generation;
    const md = new grpc.Metadata();
    md.set('raftseq-from', this.selfId);
    md.set('raftseq-to', peer.id);
    if (this.selfAddress !== undefined) md.set('raftseq-from-address', this.selfAddress);
    md.set(FORMAT_METADATA_KEY, String(WIRE_FORMAT));
    md.set(CLUSTER_METADATA_KEY, announceClusterId(this.clusterId));
    const method = this.raftService.Send!;
    const stream = peer.client.makeClientStreamRequest<RaftBatchPb, EmptyPb>(
      SEND_PATH,
      method.requestSerialize,
      method.responseDeserialize,
      md,
      {},
      (err) => this.onStreamEnd(peer, gen, err),
    );
    stream.on('error', noop);
    stream.on('metadata', (answer: grpc.Metadata) => {
      if (gen !== peer.generation || this.closed) return;
      peer.announced = announcedFormat(answer.get(FORMAT_METADATA_KEY)[0]);
      peer.announcesClusterId =
        announcedClusterId(answer.get(CLUSTER_METADATA_KEY)[0]) !== undefined;
      peer.state = 'ready';
      peer.connectedAt = Date.now();
      peer.lastError = null;
      peer.lastLoggedError = null;
      this.log('info', 'raft transport: connected', { peer: peer.id, address: peer.address });
      this.scheduleFlush(peer);
    });
    peer.stream = stream;
    peer.state = 'connecting';
  }

  private onStreamEnd(peer: Peer, gen: number, err: grpc.ServiceError | null): void {
    if (gen !== peer.generation || this.closed || peer.removed) return;
    const wasReady = peer.state === 'ready';
    peer.generation++;
    peer.stream = null;
    peer.writing = false;
    peer.dropped += peer.clearQueue();
    const text = err ? errorText(err) : 'stream closed by the peer';
    peer.lastError = text;
    if (wasReady || text !== peer.lastLoggedError) {
      this.log(
        'warn',
        `raft transport: link to ${peer.id} ${wasReady ? 'lost' : 'failed'}: ${text}`,
        {
          peer: peer.id,
          address: peer.address,
        },
      );
      peer.lastLoggedError = text;
    } else {
      this.log('debug', `raft transport: link to ${peer.id} failed: ${text}`, { peer: peer.id });
    }
    if (wasReady && Date.now() - peer.connectedAt >= STABLE_MS) {
      peer.backoffMs = this.backoffInitialMs;
    }
    const delay = peer.backoffMs / 2 + (Math.random() * peer.backoffMs) / 2;
    peer.backoffMs = Math.min(peer.backoffMs * 2, this.backoffMaxMs);
    peer.state = 'backoff';
    peer.retryTimer = setTimeout(() => this.connect(peer), delay);
    peer.retryTimer.unref();
  }

  /**
   * The peer just opened a stream to us, so it is up: if our link to it is
   * waiting out a reconnect backoff (it was down a while, so the backoff grew
   * to seconds), dial now on a fresh channel (the old one may be in its own
   * backoff). Without this a leader elected just after a peer restarted may
   * not reach it for up to backoffMaxMs and step down for lack of a quorum.
   */
  private reconnectNowIfWaiting(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined || peer.state !== 'backoff' || peer.retryTimer === null) return;
    clearTimeout(peer.retryTimer);
    peer.retryTimer = null;
    peer.backoffMs = this.backoffInitialMs;
    peer.client?.close();
    peer.client = null;
    this.log('info', `raft transport: ${id} is up (it dialled us); reconnecting now`, { peer: id });
    this.connect(peer);
  }

  /** Stops everything going to the peer: stream, snapshot, timers, queue. */
  private teardown(peer: Peer): void {
    peer.generation++;
    if (peer.retryTimer) clearTimeout(peer.retryTimer);
    peer.retryTimer = null;
    if (peer.delayTimer) clearTimeout(peer.delayTimer);
    peer.delayTimer = null;
    peer.dropped += peer.clearQueue() + peer.delayedLength;
    peer.delayed = [];
    peer.delayedHead = 0;
    peer.writing = false;
    const stream = peer.stream;
    peer.stream = null;
    stream?.cancel();
    const snap = peer.snapshotCall;
    peer.snapshotCall = null;
    snap?.cancel();
    peer.client?.close();
    peer.client = null;
    peer.state = 'closed';
  }

  // ---------------------------------------------------------------- sending

  /** Queues messages for their peers. Never blocks, never throws. */
  send(messages: readonly Message[]): void {
    for (const m of messages) {
      try {
        this.route(m);
      } catch (e) {
        this.log('warn', `raft transport: send failed: ${errorText(e)}`, {
          to: m.to,
          type: m.type,
        });
      }
    }
  }

  private route(m: Message): void {
    if (this.closed) return;
    const peer = this.peers.get(m.to);
    if (!peer || m.to === this.selfId) {
      this.log('debug', 'raft transport: message for an unknown peer dropped', {
        to: m.to,
        type: m.type,
      });
      if (m.type === 'snapshot') this.reportSnapshotFailure(m.to);
      return;
    }
    const rule = this.faults.get(m.to);
    if (rule?.drop) {
      peer.dropped++;
      if (m.type === 'snapshot') this.reportSnapshotFailure(m.to);
      return;
    }
    const delayMs = rule?.delayMs ?? 0;
    if (delayMs > 0 || peer.delayedLength > 0) {
      // Behind whatever is already held back, so that order is kept.
      const last = peer.delayedLength > 0 ? peer.delayed[peer.delayed.length - 1]!.due : 0;
      peer.delayed.push({ due: Math.max(Date.now() + delayMs, last), m });
      this.armDelay(peer);
      return;
    }
    this.dispatch(peer, m);
  }

  private armDelay(peer: Peer): void {
    if (peer.delayTimer || peer.delayedLength === 0) return;
    const wait = Math.max(0, peer.delayed[peer.delayedHead]!.due - Date.now());
    peer.delayTimer = setTimeout(() => {
      peer.delayTimer = null;
      this.releaseDelayed(peer);
    }, wait);
    peer.delayTimer.unref();
  }

  private releaseDelayed(peer: Peer): void {
    if (this.closed || peer.removed) return;
    const now = Date.now();
    while (peer.delayedLength > 0 && peer.delayed[peer.delayedHead]!.due <= now) {
      const { m } = peer.delayed[peer.delayedHead]!;
      peer.delayedHead++;
      if (this.faults.get(peer.id)?.drop) {
        peer.dropped++;
        if (m.type === 'snapshot') this.reportSnapshotFailure(peer.id);
      } else {
        this.dispatch(peer, m);
      }
    }
    if (peer.delayedLength === 0) {
      peer.delayed = [];
      peer.delayedHead = 0;
    }
    this.armDelay(peer);
  }

  private dispatch(peer: Peer, m: Message): void {
    if (m.type === 'snapshot') {
      this.sendSnapshot(peer, m);
      return;
    }
    if (peer.state !== 'ready' && peer.state !== 'connecting') {
      peer.dropped++;
      return;
    }
    const size = estimateSize(m);
    if (size > this.maxMessageBytes) {
      peer.dropped++;
      this.log('warn', `raft transport: message of ~${size} bytes is too large, dropped`, {
        to: m.to,
        type: m.type,
      });
      return;
    }
    peer.queue.push(m);
    peer.sizes.push(size);
    peer.queuedBytes += size;
    // Bounded: drop the oldest (the newest carry the freshest terms and commits).
    while (
      peer.queueLength > 1 &&
      (peer.queueLength > this.maxQueueMessages || peer.queuedBytes > this.maxQueueBytes)
    ) {
      peer.shift();
      peer.dropped++;
    }
    this.scheduleFlush(peer);
  }

  private scheduleFlush(peer: Peer): void {
    if (peer.flushScheduled) return;
    peer.flushScheduled = true;
    this.dirty.push(peer);
    if (this.flushQueued) return;
    this.flushQueued = true;
    // Everything sent in the same synchronous run goes out in one batch per peer.
    queueMicrotask(() => {
      this.flushQueued = false;
      const peers = this.dirty.splice(0);
      for (const p of peers) {
        p.flushScheduled = false;
        this.flush(p);
      }
    });
  }

  private flush(peer: Peer): void {
    if (this.closed || peer.state !== 'ready' || peer.writing || !peer.stream) return;
    if (peer.queueLength === 0) return;
    const batch: RaftMessagePb[] = [];
    let bytes = 0;
    while (
      peer.queueLength > 0 &&
      batch.length < this.maxBatchMessages &&
      (batch.length === 0 || bytes + peer.sizes[peer.head]! <= this.maxBatchBytes)
    ) {
      bytes += peer.sizes[peer.head]!;
      const m = peer.shift();
      try {
        batch.push(encodeMessage(m));
      } catch (e) {
        peer.dropped++;
        this.log('warn', `raft transport: unencodable message dropped: ${errorText(e)}`, {
          to: m.to,
          type: m.type,
        });
      }
    }
    if (peer.queueLength === 0 && peer.head > 0) {
      peer.queue = [];
      peer.sizes = [];
      peer.head = 0;
    }
    if (batch.length === 0) return;
    const gen = peer.generation;
    peer.writing = true;
    peer.sent += batch.length;
    const pb: RaftBatchPb = {
      formatVersion: linkFormat(peer.announced ?? MIN_WIRE_FORMAT),
      from: this.selfId,
      messages: batch,
    };
    peer.stream.write(pb, () => {
      if (gen !== peer.generation) return;
      peer.writing = false;
      this.flush(peer);
    });
  }

  private sendSnapshot(peer: Peer, m: SnapshotRequest): void {
    if (peer.snapshotCall || peer.deflating) {
      // One at a time: the one in flight reports success or failure.
      peer.dropped++;
      this.log('debug', 'raft transport: snapshot already in flight, dropped', { to: peer.id });
      return;
    }
    if (!peer.client) {
      peer.dropped++;
      this.reportSnapshotFailure(peer.id);
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
        if (this.closed || peer.removed) return;
        if (gen !== peer.generation || !peer.client) return this.reportSnapshotFailure(peer.id);
        this.streamSnapshot(peer, m, { format, deflated });
      },
      (e: unknown) => {
        peer.deflating = false;
        this.log('warn', `raft transport: deflating a snapshot failed: ${errorText(e)}`, {
          peer: peer.id,
        });
        this.reportSnapshotFailure(peer.id);
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
    const members = [...this.peers.keys()];
    const f = clusterFormat(this.selfId, members, (id) => this.peers.get(id)?.announced);
    return (
      Math.min(f, linkFormat(peer.announced ?? MIN_WIRE_FORMAT)) >= FEATURES.snapshotCompression
    );
  }

  private streamSnapshot(peer: Peer, m: SnapshotRequest, wire: SnapshotWire): void {
    const client = peer.client!;
    const md = new grpc.Metadata();
    md.set('raftseq-from', this.selfId);
    md.set('raftseq-to', peer.id);
    md.set(CLUSTER_METADATA_KEY, announceClusterId(this.clusterId));
    const method = this.raftService.InstallSnapshot!;
    const started = Date.now();
    const call = client.makeClientStreamRequest<SnapshotChunkPb, EmptyPb>(
      SNAPSHOT_PATH,
      method.requestSerialize,
      method.responseDeserialize,
      md,
      { deadline: started + this.snapshotTimeoutMs },
      (err) => {
        if (peer.snapshotCall !== call) return; // torn down
        peer.snapshotCall = null;
        if (this.closed || peer.removed) return;
        if (err) {
          peer.snapshotsFailed++;
          peer.dropped++;
          peer.lastError = `snapshot: ${errorText(err)}`;
          this.log('warn', `raft transport: snapshot to ${peer.id} failed: ${errorText(err)}`, {
            peer: peer.id,
            index: m.snapshot.meta.index,
          });
          this.callSnapshotFailure(peer.id);
        } else {
          peer.snapshotsSent++;
          peer.sent++;
          this.log('info', `raft transport: snapshot delivered to ${peer.id}`, {
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
    const chunks = snapshotChunks(m, this.snapshotChunkBytes, wire);
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

  private reportSnapshotFailure(to: NodeId): void {
    setImmediate(() => {
      if (!this.closed) this.callSnapshotFailure(to);
    });
  }

  private callSnapshotFailure(to: NodeId): void {
    try {
      this.onSnapshotFailure(to);
    } catch (e) {
      this.log('warn', `raft transport: onSnapshotFailure threw: ${errorText(e)}`, { to });
    }
  }

  // ---------------------------------------------------------------- faults, stats, close

  /** Test hook standing in for netem. null (or a rule with everything off) clears it. */
  setFault(peer: NodeId, rule: FaultRule | null): void {
    const r: FaultRule | null =
      rule && (rule.drop || (rule.delayMs ?? 0) > 0 || rule.dropIncoming)
        ? {
            drop: rule.drop ?? false,
            delayMs: Math.max(0, rule.delayMs ?? 0),
            dropIncoming: rule.dropIncoming ?? false,
          }
        : null;
    if (r) this.faults.set(peer, r);
    else this.faults.delete(peer);
    this.log('info', 'raft transport: fault rule', { peer, rule: r });
  }

  /** The fault rules in force, by peer id. */
  faultRules(): Record<NodeId, FaultRule> {
    return Object.fromEntries([...this.faults].map(([id, r]) => [id, { ...r }]));
  }

  stats(): Record<NodeId, PeerStats> {
    const out: Record<NodeId, PeerStats> = {};
    for (const [id, p] of this.peers) {
      out[id] = {
        connected: p.state === 'ready',
        sent: p.sent,
        dropped: p.dropped,
        queued: p.queueLength + p.delayedLength,
        lastError: p.lastError,
        received: p.received,
        snapshotsSent: p.snapshotsSent,
        snapshotsFailed: p.snapshotsFailed,
        ...(p.announced !== undefined ? { format: p.announced } : {}),
        ...(p.announcesClusterId ? { announcesClusterId: true } : {}),
      };
    }
    return out;
  }

  /**
   * This node's cluster id: checked against every incoming batch and
   * snapshot from now on, and announced on links opened from now on. Open
   * links are left alone: the id changes only when a member adopts its own
   * cluster's (from '' to the id), and those links already reach members of
   * that cluster; a node that restarts announces its id from the start.
   */
  setClusterId(id: string): void {
    this.clusterId = id;
  }

  refusals(): Readonly<Record<string, number>> {
    return { ...this.refused };
  }

  /** Closes every outgoing link and ends incoming streams. Call before server shutdown. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      this.teardown(peer);
      peer.removed = true;
    }
    for (const call of [...this.incoming]) {
      call.finish({ code: grpc.status.UNAVAILABLE, details: 'raft transport closed' });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
