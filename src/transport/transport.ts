// The transport seam between the node runtime and the network (as
// hashicorp/raft's Transport): the runtime hands it messages and peer
// addresses and receives what arrives through the handler it attaches.
// GrpcTransport is the production implementation; the deterministic
// simulator (test/sim/node) provides a simulated network.

import type { Message, NodeId } from '../raft/types.js';

export interface TransportHandler {
  /** Every message addressed to this node, in per-sender order. Must not throw. */
  onMessage(m: Message): void;
  /** A snapshot to `to` was not delivered (report it to the core). Called asynchronously. */
  onSnapshotFailure(to: NodeId): void;
  /**
   * A member we have no address for opened a link to us, announcing the
   * address it can be reached at. A node that is joining knows nobody until
   * the leader's snapshot arrives; this is how it can answer the leader.
   */
  onUnknownPeer(id: NodeId, address: string): void;
  /**
   * The link to `id` broke or was refused: its process is gone or not
   * listening (a silent network gives no such sign; Raft's timeouts cover
   * that). Lets a follower of a crashed leader campaign without waiting out
   * a randomized election timeout. Called asynchronously.
   */
  onPeerUnreachable(id: NodeId): void;
}

/** Per-peer link figures (for metrics and status). */
export interface LinkStats {
  /** The link to the peer is up. */
  connected: boolean;
  /** Messages discarded: link down, queue full, fault rule, snapshot busy. */
  dropped: number;
  /** Messages waiting to go out. */
  queued: number;
  /**
   * The newest Raft wire format the peer announced (src/transport/formats.ts);
   * undefined until it was reached, or from a transport that does not negotiate.
   */
  format?: number;
  /**
   * The peer announced its cluster id when the link opened (a release that
   * checks cluster ids, src/transport/cluster-id.ts); undefined until it was
   * reached, or from a release before them.
   */
  announcesClusterId?: boolean;
}

export interface Transport {
  /** Sets where incoming messages go; called once, before the first peer is set. */
  attach(handler: TransportHandler): void;
  /** Queues messages for their peers. Never blocks, never throws. */
  send(messages: readonly Message[]): void;
  /** id -> address this node dials. Adds, removes and re-addresses on the fly. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void;
  /** The address announced to peers that do not know this node yet. */
  setSelfAddress(address: string): void;
  stats(): Record<NodeId, LinkStats>;
  /**
   * This node's cluster id ('' while it has none), announced on every link
   * opened from now on; traffic from a node of another cluster is refused.
   */
  setClusterId(id: string): void;
  /** Incoming streams and snapshots refused so far, by reason (e.g. `cluster-id`). */
  refusals(): Readonly<Record<string, number>>;
  /** Closes every link. */
  close(): Promise<void>;
}
