// Leadership as the runtime sees it: the lease (checked against the monotonic
// clock at the moment of answering) and the graceful hand-over (stop serving,
// commit the exact next value of every sequence, hand leadership to the most
// up-to-date voter; resume through the log if that fails).
//
// A hand-over spans many awaits, and transfers, leaves and stops can be
// asked for at once (two operators, a CLI retrying as its first attempt
// times out, SIGTERM during a transfer). So:
//  - one hand-over at a time: a second one waits for the first to end, then
//    starts (usually to find that this node no longer leads);
//  - a seal has a generation, and a `resume` unseals only the seal it was
//    proposed for, never a newer one;
//  - a leader never stays sealed: a failed transfer is resumed through the
//    log, waiting as long as it leads (a resume that cannot commit means the
//    quorum is gone, and CheckQuorum ends the leadership), and with nobody to
//    hand over to, only a stopping node seals.

import type { NodeId, Status } from '../raft/index.js';
import type { Allocator } from '../state/allocator.js';
import type { Command, HandoverItem } from '../state/commands.js';
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

  /** Call on every change of role, term or known leader, and when the node starts stopping. */
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

  /** The hand-over in progress (resolved when none is). */
  private current: Promise<unknown> = Promise.resolve();

  /**
   * Graceful hand-over: stop serving, commit the exact next value of every
   * sequence, then hand leadership to `to` (default: the most up-to-date
   * voter). Resolves with the new leader's id, or null if nobody took over
   * by the deadline (then this node serves again, unless it is stopping).
   * One at a time: a call made during another waits for it first.
   */
  handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null> {
    const deadline = this.o.clock.now() + timeoutMs;
    const run = this.current.then(() => this.handOverNow(to, deadline));
    this.current = run.catch(() => {}); // the caller sees the failure; the next one still runs
    return run;
  }

  protected async handOverNow(to: NodeId | null, deadline: number): Promise<NodeId | null> {
    const clock = this.o.clock;
    const st = this.o.status();
    if (st.role !== 'leader') return st.leader;
    // A call that waited its whole time behind another hand-over starts nothing.
    if (clock.now() >= deadline) return null;
    const target = to ?? this.bestTransferTarget();
    if (target === null && !this.o.stopping()) return null;
    // With nobody to hand over to, a stopping leader still records the exact
    // next values, so that its own next term (after a restart) continues
    // without a gap.
    const seal = this.o.allocator.seal();
    if (seal !== null) {
      await this.record(seal.items, Math.min(deadline, clock.now() + HANDOVER_COMMIT_MS));
    }
    const next =
      target !== null && this.o.driver.transferLeadership(target)
        ? await this.transferTo(target, deadline)
        : null;
    if (next === null && seal !== null && !this.o.stopping()) await this.resume(seal.generation);
    return next;
  }

  private async transferTo(target: NodeId, deadline: number): Promise<NodeId | null> {
    this.o.log.info({ to: target }, 'transferring leadership');
    for (;;) {
      const st = this.o.status();
      if (st.role !== 'leader' && st.leader !== null && st.leader !== this.o.id) return st.leader;
      const left = deadline - this.o.clock.now();
      if (left <= 0) {
        // Give up now, not at the core's own timeout: until the transfer ends
        // the core refuses proposals, the resume among them.
        this.o.driver.cancelTransfer();
        return null;
      }
      // Woken by a change of role or leader, or by the deadline (then the loop ends).
      await withTimeout(this.o.clock, this.changed.promise, left, 'transfer').catch(() => {});
    }
  }

  /**
   * The transfer did not complete: cancel the handover through the log
   * before serving again (a later leader must not inherit next values we then
   * move past). Waits until the resume applies, this node stops leading, or
   * it is stopping; then unseals only if no newer seal is in force.
   */
  private async resume(generation: number): Promise<void> {
    if (this.o.status().role !== 'leader') return;
    const resumed = this.o.proposeCommand({ type: 'resume' });
    const stopping = this.stoppingSignal();
    // Whichever loses the race settles later, unobserved.
    resumed.catch(() => {});
    stopping.catch(() => {}); // (as above)
    try {
      await Promise.race([resumed, stopping]);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'could not resume after a failed transfer');
      return;
    }
    if (this.o.allocator.unseal(generation)) {
      this.o.log.info('leadership transfer failed; resumed serving');
    }
  }

  /** Rejects once the node is stopping (checked at every change of role or leader). */
  private async stoppingSignal(): Promise<never> {
    while (!this.o.stopping()) await this.changed.promise;
    throw new Error('node stopping');
  }

  private async record(items: HandoverItem[], deadline: number): Promise<void> {
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
