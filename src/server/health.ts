// Health that tells the truth: the gRPC health services and the HTTP probes
// of one node, kept current from the node's own clock.
//
// Every EVAL_MS on the runtime's clock (the same timers the Raft driver runs
// on, so a stalled event loop stalls this too), the node's readiness and its
// Sequencer status are judged (src/node/health.ts: pure functions of its
// state) and pushed to the gRPC health service only when they change: a few
// comparisons, no allocation on the steady path.
//
// Liveness (/livez) asks whether the process is doing its job at all: the
// Raft driver ticked recently and this timer fires on time. A member that is
// merely cut off from the others stays live; restarting it would not help.

import type { CancelTimer, Clock } from '../node/runtime.js';
import {
  DEFAULT_MAX_LAG_ENTRIES,
  LeaderWatch,
  healthFacts,
  judgeHealth,
  type HealthBounds,
  type HealthSource,
  type HealthVerdict,
  type Verdict,
} from '../node/health.js';
import type { TickClock } from '../node/clock.js';

/** The gRPC health service name that is SERVING only on the leader with a valid lease. */
export const SEQUENCER_SERVICE = 'raftseq.v1.Sequencer';
/** How often the statuses are judged. */
export const EVAL_MS = 100;
/** How far back /livez reports the longest stall. */
const STALL_WINDOW_MS = 60_000;

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** Where the statuses go: grpc-health-check's HealthImplementation. */
export interface HealthSink {
  setStatus(service: string, status: ServingStatus): void;
}

export interface HealthNode extends HealthSource {
  readonly clock: Clock;
  readonly tickTimes: TickClock;
  readonly options: { electionTimeoutMs: number };
  status(): ReturnType<HealthSource['status']> & { tick: number };
}

export interface Liveness extends Verdict {
  /** Ms since the Raft driver last ticked. */
  sinceTickMs: number | null;
  /** The longest the health timer fired late in the last minute (an event-loop stall). */
  maxStallMs: number;
}

export class NodeHealth {
  /** Add to the node's events (it listens to peer messages). */
  readonly watch: LeaderWatch;
  readonly bounds: HealthBounds;
  /** Not live once the driver or this timer has been stuck this long. */
  readonly stallBoundMs: number;
  private cancel: CancelTimer | null = null;
  private lastBeat = 0;
  private stalls: { at: number; ms: number }[] = [];
  private ready: boolean | null = null;
  private sequencer: boolean | null = null;
  private sink: HealthSink | null = null;

  constructor(private readonly node: HealthNode) {
    this.watch = new LeaderWatch(() => node.clock.now());
    const election = node.options.electionTimeoutMs;
    this.bounds = { maxLagEntries: DEFAULT_MAX_LAG_ENTRIES, maxLeaderSilenceMs: election };
    this.stallBoundMs = Math.max(5000, 5 * election);
  }

  /** Starts judging (after node.start()), pushing every change to `sink`. */
  start(sink: HealthSink): void {
    if (this.cancel !== null) return;
    this.sink = sink;
    this.lastBeat = this.node.clock.now();
    this.beat();
  }

  /** Stops judging and reports NOT_SERVING for both services (the node is going away). */
  stop(): void {
    this.cancel?.();
    this.cancel = null;
    this.push(false, false);
  }

  /** The verdict now (/readyz, the status page). */
  verdict(): HealthVerdict {
    return judgeHealth(healthFacts(this.node, this.watch), this.bounds);
  }

  liveness(): Liveness {
    const now = this.node.clock.now();
    const recent = this.stalls.filter((s) => now - s.at <= STALL_WINDOW_MS);
    const maxStallMs = Math.round(recent.reduce((m, s) => Math.max(m, s.ms), 0));
    const tickAt = this.node.tickTimes.timeOf(this.node.status().tick);
    const sinceTickMs = tickAt === undefined ? null : Math.round(now - tickAt);
    const sinceBeat = Math.round(now - this.lastBeat);
    let reason = 'the Raft driver ticks and the event loop runs on time';
    let ok = true;
    if (this.cancel === null) {
      ok = false;
      reason = 'health checks are stopped (the node is stopping)';
    } else if (sinceTickMs === null || sinceTickMs > this.stallBoundMs) {
      ok = false;
      reason = `the Raft driver has not ticked for ${sinceTickMs ?? 'ever'} ms (bound ${this.stallBoundMs})`;
    } else if (sinceBeat > this.stallBoundMs) {
      ok = false;
      reason = `the runtime's timers have not fired for ${sinceBeat} ms (bound ${this.stallBoundMs})`;
    }
    return { ok, reason, sinceTickMs, maxStallMs };
  }

  private beat(): void {
    const now = this.node.clock.now();
    const late = now - this.lastBeat - EVAL_MS;
    if (late > EVAL_MS) this.stalls.push({ at: now, ms: late });
    while (this.stalls.length > 0 && now - this.stalls[0]!.at > STALL_WINDOW_MS)
      this.stalls.shift();
    this.lastBeat = now;
    const v = this.verdict();
    this.push(v.ready.ok, v.sequencer.ok);
    this.cancel = this.node.clock.setTimer(EVAL_MS, () => this.beat());
  }

  private push(ready: boolean, sequencer: boolean): void {
    const sink = this.sink;
    if (sink === null) return;
    if (ready !== this.ready) {
      this.ready = ready;
      sink.setStatus('', ready ? 'SERVING' : 'NOT_SERVING');
    }
    if (sequencer !== this.sequencer) {
      this.sequencer = sequencer;
      sink.setStatus(SEQUENCER_SERVICE, sequencer ? 'SERVING' : 'NOT_SERVING');
    }
  }
}
