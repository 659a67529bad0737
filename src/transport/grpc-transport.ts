// The Raft peer transport over gRPC.
//
// Outgoing: per peer, one long-lived client stream (Raft/Send) fed from the
// peer's own bounded queue; whatever queues up while a write is in flight goes
// out as the next RaftBatch. A peer that is slow or down never holds up the
// others. While a link is down its messages are dropped (Raft retransmits);
// the stream is re-opened with exponential backoff and jitter. Each peer's
// link state lives in peer-link.ts. Snapshots go through
// Raft/InstallSnapshot in chunks, one at a time per peer (snapshot-sender.ts).
//
// Incoming: the Raft service added to the node's grpc.Server (raft-receiver.ts)
// checks every call and hands each decoded message addressed to this node to
// onMessage, in stream order. Options and limits: grpc-options.ts.
//
// Faults (tests): setFault() drops or delays outgoing messages to a peer, or
// drops incoming messages from it, standing in for netem.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/types.js';
import { DEFAULT_CHUNK_SIZE, encodeMessage, estimateSize } from './codec.js';
import {
  FORMAT_METADATA_KEY,
  MIN_WIRE_FORMAT,
  WIRE_FORMAT,
  announcedFormat,
  linkFormat,
} from './formats.js';
import { CLUSTER_METADATA_KEY, announceClusterId, announcedClusterId } from './cluster-id.js';
import {
  MiB,
  RAFT_CHANNEL_OPTIONS,
  type FaultRule,
  type GrpcTransportOptions,
  type IncomingRaftCall,
  type LogFn,
  type PeerStats,
  type SenderVerdict,
} from './grpc-options.js';
import { Peer, errorText } from './peer-link.js';
import { RaftReceiver, type ReceiverHost } from './raft-receiver.js';
import { SnapshotSender } from './snapshot-sender.js';
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

const SEND_PATH = '/raftseq.v1.Raft/Send';
/** A link that stayed up this long resets the backoff when it breaks. */
const STABLE_MS = 1_000;

const noop = (): void => {};

export class GrpcTransport implements Transport {
  readonly selfId: NodeId;
  private onMessage: (m: Message) => void = () => {};
  private onSnapshotFailure: (to: NodeId) => void = () => {};
  private onUnknownPeer: ((id: NodeId, address: string) => void) | undefined;
  private onPeerUnreachable: (id: NodeId) => void = () => {};
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
  private readonly dirty: Peer[] = [];
  private flushQueued = false;
  private closed = false;
  /** This node's cluster id ('' while it has none): see cluster-id.ts. */
  private clusterId = '';
  private readonly receiver: RaftReceiver;
  private readonly snapshots: SnapshotSender;

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
    this.receiver = new RaftReceiver(this.receiverHost());
    this.snapshots = new SnapshotSender({
      selfId: this.selfId,
      log: this.log,
      method: this.raftService.InstallSnapshot as grpc.MethodDefinition<SnapshotChunkPb, EmptyPb>,
      chunkBytes: this.snapshotChunkBytes,
      timeoutMs: this.snapshotTimeoutMs,
      isClosed: () => this.closed,
      clusterId: () => this.clusterId,
      members: () => [...this.peers.keys()],
      announcedBy: (id) => this.peers.get(id)?.announced,
      reportFailure: (to) => this.reportSnapshotFailure(to),
      failed: (to) => this.callSnapshotFailure(to),
    });
  }

  /** Sets (or replaces) where incoming messages and snapshot failures go. */
  attach(handler: Partial<TransportHandler>): void {
    if (handler.onMessage) this.onMessage = handler.onMessage;
    if (handler.onSnapshotFailure) this.onSnapshotFailure = handler.onSnapshotFailure;
    if (handler.onUnknownPeer) this.onUnknownPeer = handler.onUnknownPeer;
    if (handler.onPeerUnreachable) this.onPeerUnreachable = handler.onPeerUnreachable;
  }

  // ---------------------------------------------------------------- server side

  /**
   * Registers Raft (and FaultInjection when enabled here or in the
   * constructor) on the node's server. Once per server.
   */
  addToServer(server: grpc.Server, opts: { enableFaultInjection?: boolean } = {}): void {
    server.addService(this.raftService, {
      Send: this.receiver.handleSend,
      InstallSnapshot: this.receiver.handleInstallSnapshot,
    } as grpc.UntypedServiceImplementation);
    if (opts.enableFaultInjection ?? this.enableFaultInjection) {
      server.addService(this.faultService, {
        SetFault: this.handleSetFault,
      } as grpc.UntypedServiceImplementation);
    }
  }

  /** What the receiver (raft-receiver.ts) needs of this transport. */
  private receiverHost(): ReceiverHost {
    return {
      selfId: this.selfId,
      log: this.log,
      checkSenders: this.checkSenders,
      authorizeSender: (call, sender) => this.authorizeSender(call, sender),
      isClosed: () => this.closed,
      clusterId: () => this.clusterId,
      streamOpened: (from, fromAddress) => {
        this.reconnectNowIfWaiting(from);
        if (fromAddress !== undefined && !this.peers.has(from)) {
          this.onUnknownPeer?.(from, fromAddress);
        }
      },
      dropsIncomingFrom: (from) => this.faults.get(from)?.dropIncoming === true,
      receive: (m) => {
        const peer = this.peers.get(m.from);
        if (peer) peer.received++;
        try {
          this.onMessage(m);
        } catch (e) {
          this.log('warn', `raft transport: onMessage threw: ${errorText(e)}`, { type: m.type });
        }
      },
      maxSnapshotBytes: this.maxSnapshotBytes,
    };
  }

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
      const what = `link to ${peer.id} ${wasReady ? 'lost' : 'failed'}: ${text}`;
      this.log('warn', `raft transport: ${what}`, { peer: peer.id, address: peer.address });
      peer.lastLoggedError = text;
    } else {
      this.log('debug', `raft transport: link to ${peer.id} failed: ${text}`, { peer: peer.id });
    }
    if (err === null || err.code === grpc.status.UNAVAILABLE) {
      // Closed, reset or refused: the peer's process is gone or not listening
      // (a refusal by a live peer comes with another code).
      try {
        this.onPeerUnreachable(peer.id);
      } catch (e) {
        this.log('warn', `raft transport: onPeerUnreachable threw: ${errorText(e)}`, {
          peer: peer.id,
        });
      }
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
      this.snapshots.send(peer, m);
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
    return Object.fromEntries([...this.peers].map(([id, p]) => [id, p.stats()]));
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
    return this.receiver.refusals();
  }

  /** Closes every outgoing link and ends incoming streams. Call before server shutdown. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      this.teardown(peer);
      peer.removed = true;
    }
    this.receiver.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
