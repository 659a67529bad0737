// Leadership as the runtime sees it: the lease (checked against the monotonic
// clock at the moment of answering) and the graceful hand-over (stop serving,
// commit the exact next value of every sequence, hand leadership to the most
// up-to-date voter; resume through the log if that fails).

import type { NodeId, Status } from '../raft/index.js';
import type { Allocator } from '../state/allocator.js';
import type { Command } from '../state/commands.js';
import type { TickClock } from './clock.js';
import type { ReadyDriver } from './driver.js';
import type { Logger } from './logger.js';
import { withTimeout, type Clock } from './runtime.js';

/**
 * How long a stopping leader waits for its handover entry to commit. A leader
 * that lost its quorum cannot commit anything; it must still exit within the
 * contract's 5 s, and the next leader then starts above the reserved blocks.
 */
export const HANDOVER_COMMIT_MS = 1500;
/** How long a leader whose transfer failed waits for its `resume` to commit. */
export const RESUME_COMMIT_MS = 2000;

export interface LeadershipOptions {
  id: NodeId;
  driver: ReadyDriver;
  allocator: Allocator;
  status: () => Status;
  clock: Clock;
  tickMs: number;
  tickTimes: TickClock;
  log: Logger;
  proposeCommand: (cmd: Command) => Promise<void>;
  /** The node is stopping: a failed transfer is not resumed. */
  stopping: () => boolean;
}

export class Leadership {
  /** Resolved (and replaced) at every change of role, term or known leader. */
  private changed: { promise: Promise<void>; resolve: () => void } = signal();

  constructor(protected readonly o: LeadershipOptions) {}

  /** Call on every change of role, term or known leader. */
  roleChanged(): void {
    const s = this.changed;
    this.changed = signal();
    s.resolve();
  }

  // ---------------------------------------------------------------- lease

  /**
   * Checked at the moment of answering, against the monotonic clock: the
   * lease runs from the time at which the acknowledged round was sent.
   */
  leaseValid(): boolean {
    return this.leaseRemainingMs() > 0;
  }

  leaseRemainingMs(): number {
    const lease = this.o.driver.lease();
    if (lease === null) return 0;
    const sentAt = this.o.tickTimes.timeOf(lease.basisTick);
    if (sentAt === undefined) return 0;
    const end = sentAt + (lease.validUntilTick - lease.basisTick) * this.o.tickMs;
    return Math.max(0, end - this.o.clock.now());
  }

  // ---------------------------------------------------------------- hand-over

  /**
   * Graceful hand-over: stop serving, commit the exact next value of every
   * sequence, then hand leadership to `to` (default: the most up-to-date
   * voter). Resolves with the new leader's id, or null if nobody took over
   * in time.
   */
  async handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null> {
    const clock = this.o.clock;
    const deadline = clock.now() + timeoutMs;
    const st = this.o.status();
    if (st.role !== 'leader') return st.leader;
    const target = to ?? this.bestTransferTarget();
    // With nobody to hand over to, still record the exact next values, so
    // that our own next term (after a restart) continues without a gap.
    await this.sealAndRecord(Math.min(deadline, clock.now() + HANDOVER_COMMIT_MS));
    if (target === null) return null;
    if (!this.o.driver.transferLeadership(target)) return null;
    this.o.log.info({ to: target }, 'transferring leadership');
    const next = await this.newLeaderBy(deadline);
    if (next !== null) return next;
    if (!this.o.stopping()) await this.resumeAfterFailedTransfer();
    return null;
  }

  /** Waits until another node is known to lead, or the deadline passes. */
  private async newLeaderBy(deadline: number): Promise<NodeId | null> {
    for (;;) {
      const st = this.o.status();
      if (st.role !== 'leader' && st.leader !== null && st.leader !== this.o.id) return st.leader;
      const left = deadline - this.o.clock.now();
      if (left <= 0) return null;
      await withTimeout(this.o.clock, this.changed.promise, left, 'transfer').catch(() => {});
    }
  }

  /**
   * The transfer did not complete and we are still leader: cancel the
   * handover through the log before serving again (a later leader must not
   * inherit next values we then move past).
   */
  private async resumeAfterFailedTransfer(): Promise<void> {
    if (this.o.status().role !== 'leader') return;
    try {
      await withTimeout(
        this.o.clock,
        this.o.proposeCommand({ type: 'resume' }),
        RESUME_COMMIT_MS,
        'resume',
      );
      this.o.allocator.unseal();
      this.o.log.info('leadership transfer failed; resumed serving');
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not resume after failed transfer');
    }
  }

  private async sealAndRecord(deadline: number): Promise<void> {
    const items = this.o.allocator.seal();
    try {
      await withTimeout(
        this.o.clock,
        this.o.proposeCommand({ type: 'handover', items }),
        deadline - this.o.clock.now(),
        'handover',
      );
      this.o.log.info({ sequences: items.length }, 'recorded the exact next values (handover)');
    } catch (err) {
      this.o.log.warn(
        { err: (err as Error).message },
        'handover not committed; the next leader will skip the rest of the blocks',
      );
    }
  }

  private bestTransferTarget(): NodeId | null {
    const st = this.o.status();
    let best: { id: NodeId; match: number } | null = null;
    for (const p of st.progress) {
      if (p.id === this.o.id || !p.voter) continue;
      if (best === null || p.match > best.match) best = { id: p.id, match: p.match };
    }
    return best?.id ?? null;
  }
}

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
