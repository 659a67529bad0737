// The simulated peer network as a Transport (src/transport/transport.ts):
// the node hands it messages; the world decides each one's fate (loss,
// duplication, delay, reordering, cut links) with the seeded Network and
// delivers it to the receiving node's handler as an input of that process.
// A message to a peer the sender has no address for is dropped, as the gRPC
// transport drops it; a lost snapshot is reported back to the sender.

import type { Message, NodeId } from '../../../src/raft/types.js';
import type { LinkStats, Transport, TransportHandler } from '../../../src/transport/transport.js';

export interface PeerNetwork {
  /** Carries `m` from `from` (announcing `fromAddress`) to the node dialled at `address`. */
  carry(m: Message, address: string, fromAddress: string, onSnapshotLost: () => void): void;
}

export class SimTransport implements Transport {
  handler: TransportHandler | null = null;
  private peers = new Map<NodeId, string>();
  private selfAddress = '';
  private closed = false;
  private dropped = 0;

  constructor(
    readonly selfId: NodeId,
    private readonly net: PeerNetwork,
    /** Observes every message the node sends (the world's checkers). */
    private readonly observe: (m: Message) => void,
  ) {}

  attach(handler: TransportHandler): void {
    this.handler = handler;
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.closed) return;
      this.observe(m);
      const address = this.peers.get(m.to);
      if (address === undefined) {
        this.dropped++;
        if (m.type === 'snapshot') this.snapshotLost(m.to);
        continue;
      }
      this.net.carry(m, address, this.selfAddress, () => this.snapshotLost(m.to));
    }
  }

  private snapshotLost(to: NodeId): void {
    // The gRPC transport reports it asynchronously; so does this one.
    queueMicrotask(() => {
      if (!this.closed) this.handler?.onSnapshotFailure(to);
    });
  }

  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    this.peers = new Map(peers);
    this.peers.delete(this.selfId);
  }

  setSelfAddress(address: string): void {
    this.selfAddress = address;
  }

  knows(id: NodeId): boolean {
    return this.peers.has(id);
  }

  stats(): Record<NodeId, LinkStats> {
    const out: Record<NodeId, LinkStats> = {};
    for (const id of this.peers.keys())
      out[id] = { connected: true, dropped: this.dropped, queued: 0, announcesClusterId: true };
    return out;
  }

  /** Every simulated node belongs to the world's one cluster: ids are kept, not checked. */
  clusterId = '';

  setClusterId(id: string): void {
    this.clusterId = id;
  }

  refusals(): Readonly<Record<string, number>> {
    return {};
  }

  /** Crash or close: nothing goes out or comes in any more. */
  kill(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
