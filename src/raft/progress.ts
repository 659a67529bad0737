// The leader's view of one follower's replication (etcd's tracker/progress).
//
//   probe      we do not know where the follower's log matches ours; send one
//              append at a time and wait for the answer (or a heartbeat reply)
//   replicate  the follower accepted our last append: stream appends
//              optimistically, at most `maxInflight` unacknowledged messages
//   snapshot   the follower needs entries we compacted; a snapshot is on the
//              way, send nothing until it is acknowledged or times out

import type { NodeId, Progress as ProgressView } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is out and we wait for its answer. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent, and when. */
  pendingSnapshot = 0;
  snapshotSentTick = 0;
  /** Last index carried by each append in flight (replicate state). */
  private readonly inflight: number[] = [];
  /** Tick (leader's clock) at which the newest message this member answered was sent. */
  ackedSentTick = -1;

  constructor(
    readonly id: NodeId,
    next: number,
    readonly maxInflight: number,
  ) {
    this.next = next;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Resume right after the snapshot we sent, or after what is known to match.
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(index: number, tick: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = index;
    this.snapshotSentTick = tick;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflight.length = 0;
  }

  /** Record that an append carrying entries up to `lastIndex` was sent. */
  sentEntries(lastIndex: number, entryCount: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** A successful append reply up to `index`. Returns false if it was stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    while (this.inflight.length > 0 && (this.inflight[0] as number) <= index) this.inflight.shift();
    return updated;
  }

  /**
   * A rejected append whose prevLogIndex was `rejected`; the follower hints
   * that its log may match ours up to `probeHint`. Returns false if stale.
   */
  maybeDecrTo(rejected: number, probeHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection of something at or below match is an old, reordered reply.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the probe we sent counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probeHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** A heartbeat reply proves the follower is alive: let one more append go. */
  onHeartbeatReply(): void {
    this.probeSent = false;
    if (this.state === 'replicate' && this.inflight.length >= this.maxInflight)
      this.inflight.shift();
  }

  view(voter: boolean): ProgressView {
    return {
      id: this.id,
      match: this.match,
      next: this.next,
      state: this.state,
      voter,
      ackedSentTick: this.ackedSentTick,
    };
  }
}
