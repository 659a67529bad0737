// What the status page remembers of one node's past: recent events
// (elections, transfers, membership changes, hand-overs, snapshots) and, once
// a second, the values served and skipped, for the rate charts. Both are
// bounded rings; the hooks are NodeEvents, called where things happen, and
// the sampling timer runs on the node's own clock.

import type { Entry, Message, NodeId } from '../../raft/index.js';
import type { AllocatorTotals } from '../../state/allocator.js';
import type { ApplyResult } from '../../state/machine.js';
import type { NodeEvents } from '../../node/events.js';
import type { CancelTimer, Clock } from '../../node/runtime.js';

export type ActivityKind = 'election' | 'transfer' | 'membership' | 'handover' | 'snapshot';

export interface ActivityEvent {
  /** Wall-clock milliseconds (for people reading the page). */
  at: number;
  kind: ActivityKind;
  text: string;
}

export interface RateSample {
  /** Wall-clock milliseconds at the end of the second. */
  at: number;
  /** Values served and skipped in that second, on this node. */
  served: number;
  skipped: number;
}

/** Events kept. */
export const EVENT_CAPACITY = 100;
/** Seconds of rate history kept (ten minutes). */
export const HISTORY_SECONDS = 600;
const SAMPLE_MS = 1000;

export interface ActivitySource {
  readonly id: NodeId;
  readonly clock: Clock;
  totals(): AllocatorTotals;
  status(): { term: number };
}

function skippedOf(t: AllocatorTotals): bigint {
  let n = 0n;
  for (const v of Object.values(t.skipped)) n += v;
  return n;
}

export class Activity implements Pick<
  NodeEvents,
  'leaderKnown' | 'snapshotTaken' | 'snapshotInstalled' | 'applied' | 'peerMessage'
> {
  private readonly events: ActivityEvent[] = [];
  private readonly samples: RateSample[] = [];
  private last: { served: bigint; skipped: bigint } | null = null;
  private cancel: CancelTimer | null = null;

  constructor(private readonly node: ActivitySource) {}

  start(): void {
    if (this.cancel !== null) return;
    const t = this.node.totals();
    this.last = { served: t.served, skipped: skippedOf(t) };
    this.cancel = this.node.clock.setTimer(SAMPLE_MS, () => this.sample());
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  /** Newest first. */
  recentEvents(): ActivityEvent[] {
    return [...this.events].reverse();
  }

  /** Oldest first, one per second. */
  history(): RateSample[] {
    return [...this.samples];
  }

  // ---------------------------------------------------------------- NodeEvents

  leaderKnown(leader: NodeId): void {
    const term = this.node.status().term;
    this.record(
      'election',
      `${leader} leads term ${term}${leader === this.node.id ? ' (this node)' : ''}`,
    );
  }

  snapshotTaken(index: number, bytes: number): void {
    this.record('snapshot', `snapshot taken at index ${index} (${bytes} bytes); log compacted`);
  }

  snapshotInstalled(index: number): void {
    this.record('snapshot', `snapshot from the leader installed at index ${index}`);
  }

  peerMessage(m: Message): void {
    if (m.type === 'timeout-now') {
      this.record('transfer', `${m.from} hands leadership to this node (term ${m.term})`);
    }
  }

  applied(entry: Entry, result: ApplyResult): void {
    if (result.kind === 'conf') {
      const what = {
        'add-learner': 'added as a learner',
        promote: 'promoted to voter',
        remove: 'removed',
      };
      this.record('membership', `${result.id} ${what[result.change]} (index ${entry.index})`);
      return;
    }
    if (result.kind !== 'command') return;
    const c = result.command;
    if (c.type === 'handover') {
      this.record(
        'handover',
        `leader of term ${entry.term} handed over ${c.items.length} sequence(s) at their exact next values` +
          (result.ignored !== undefined ? ` (ignored: ${result.ignored})` : ''),
      );
    } else if (c.type === 'resume') {
      this.record(
        'handover',
        `leader of term ${entry.term} resumed after a transfer that did not happen`,
      );
    }
  }

  // ---------------------------------------------------------------- internals

  private record(kind: ActivityKind, text: string): void {
    this.events.push({ at: this.node.clock.wallNow(), kind, text });
    if (this.events.length > EVENT_CAPACITY) this.events.shift();
  }

  private sample(): void {
    const t = this.node.totals();
    const now = { served: t.served, skipped: skippedOf(t) };
    const prev = this.last ?? now;
    this.samples.push({
      at: this.node.clock.wallNow(),
      served: Number(now.served - prev.served),
      skipped: Number(now.skipped - prev.skipped),
    });
    if (this.samples.length > HISTORY_SECONDS) this.samples.shift();
    this.last = now;
    this.cancel = this.node.clock.setTimer(SAMPLE_MS, () => this.sample());
  }
}
