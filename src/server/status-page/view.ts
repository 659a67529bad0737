// The status page's data as one node sees it: the cluster's members (the
// leader's view of their logs, each member's own answer), this node's rate
// history, its busiest sequences and recent events. Built at most once a
// second and shared by every open page, since finding the busiest sequences
// walks the allocator's sequences.

import type { MemberView } from '../../api/node-api.js';
import type { NodeId, Status } from '../../raft/index.js';
import type { AllocatorTotals, SequenceStats, WasteCause } from '../../state/allocator.js';
import { smallest } from '../../state/select.js';
import type { HealthVerdict } from '../../node/health.js';
import type { NodeVersions } from '../../node/versions.js';
import type { Clock } from '../../node/runtime.js';
import type { Activity, ActivityEvent, RateSample } from './activity.js';
import type { MemberStatusClient, OwnStatus } from './member-status.js';

/** Sequences listed as busiest. */
export const BUSIEST = 10;
/** How long a member may take to say how it is. */
const MEMBER_DEADLINE_MS = 400;
/** A view this fresh is served again instead of built anew. */
const FRESH_MS = 900;

export interface PageSource {
  readonly id: NodeId;
  readonly clock: Clock;
  status(): Status;
  members(): MemberView[];
  appliedIndex(): number;
  leaseRemainingMs(): number;
  versions(): NodeVersions;
  /** The cluster this node belongs to ('' while it knows none). */
  clusterId(): string;
  /** Every sequence's counters on this node (see Allocator.stats()). */
  sequenceStats(): Map<string, SequenceStats>;
  totals(): AllocatorTotals;
}

export interface MemberRow {
  id: NodeId;
  address: string;
  /** The leader's view (or this node's, when it does not lead). */
  role: string;
  /** Leader's commit index minus what it knows the member holds; null off the leader. */
  lag: number | null;
  lastContactMs: number | null;
  /** The member's own answer; null when it did not give one. */
  term: number | null;
  commit: number | null;
  applied: number | null;
  ownRole: string | null;
  leaseRemainingMs: number | null;
  version: string | null;
  gitCommit: string | null;
  error: string | null;
}

export interface BusySequence {
  name: string;
  next: string | null;
  reserved: string;
  block: number;
  rate: number;
  served: string;
  skipped: Record<WasteCause, string>;
}

export interface Overview {
  answeredBy: { id: NodeId; role: string };
  leader: NodeId | null;
  term: number;
  commit: number;
  generatedAt: number;
  version: string;
  gitCommit: string;
  clusterWireFormat: number;
  /** The cluster id, or null while this node knows none. */
  clusterId: string | null;
  health: HealthVerdict;
  members: MemberRow[];
  history: RateSample[];
  busiest: BusySequence[];
  events: ActivityEvent[];
}

export class OverviewBuilder {
  private cached: { at: number; view: Promise<Overview> } | null = null;

  constructor(
    private readonly node: PageSource,
    private readonly activity: Activity,
    private readonly health: () => HealthVerdict,
    private readonly peers: MemberStatusClient,
  ) {}

  view(): Promise<Overview> {
    const now = this.node.clock.now();
    if (this.cached === null || now - this.cached.at > FRESH_MS) {
      this.cached = { at: now, view: this.build() };
    }
    return this.cached.view;
  }

  private async build(): Promise<Overview> {
    const st = this.node.status();
    const v = this.node.versions();
    const leads = st.role === 'leader';
    const members = this.node.members();
    this.peers.keepOnly(new Set(members.filter((m) => m.id !== st.id).map((m) => m.advertise)));
    const rows = await Promise.all(members.map((m) => this.row(m, st, leads)));
    return {
      answeredBy: { id: st.id, role: st.role },
      leader: st.leader,
      term: st.term,
      commit: st.commit,
      generatedAt: this.node.clock.wallNow(),
      version: v.version,
      gitCommit: v.commit,
      clusterWireFormat: v.clusterWireFormat,
      clusterId: this.node.clusterId() || null,
      health: this.health(),
      members: rows,
      history: this.activity.history(),
      busiest: busiest(this.node.sequenceStats()),
      events: this.activity.recentEvents(),
    };
  }

  private async row(m: MemberView, st: Status, leads: boolean): Promise<MemberRow> {
    const base = {
      id: m.id,
      address: m.advertise,
      role: m.role,
      lag: leads ? Math.max(0, st.commit - m.matchIndex) : null,
      lastContactMs: leads && m.lastContactMs >= 0 ? m.lastContactMs : null,
    };
    if (m.id === st.id) {
      const v = this.node.versions();
      return {
        ...base,
        term: st.term,
        commit: st.commit,
        applied: this.node.appliedIndex(),
        ownRole: st.role,
        leaseRemainingMs: leads ? Math.round(this.node.leaseRemainingMs()) : null,
        version: v.version,
        gitCommit: v.commit,
        error: null,
      };
    }
    const r = await this.peers.ask(m.advertise, MEMBER_DEADLINE_MS);
    if (!r.ok) {
      return {
        ...base,
        term: null,
        commit: null,
        applied: null,
        ownRole: null,
        leaseRemainingMs: null,
        version: null,
        gitCommit: null,
        error: r.error,
      };
    }
    const s: OwnStatus = r.status;
    const num = (x: unknown): number =>
      Number(typeof x === 'string' || typeof x === 'number' ? x : 0);
    const text = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);
    const role = text(s.role);
    return {
      ...base,
      term: num(s.term),
      commit: num(s.commit_index),
      applied: num(s.applied_index),
      ownRole: role,
      leaseRemainingMs: role === 'leader' ? num(s.lease_remaining_ms) : null,
      version: text(s.version),
      gitCommit: text(s.commit),
      error: null,
    };
  }
}

/** The BUSIEST sequences by current rate (then by values served), in O(n log k). */
export function busiest(stats: Map<string, SequenceStats>): BusySequence[] {
  const top = smallest(
    stats.entries(),
    BUSIEST,
    ([an, a], [bn, b]) =>
      a.rate > b.rate ||
      (a.rate === b.rate && (a.served > b.served || (a.served === b.served && an < bn))),
  );
  return top.map(([name, s]) => ({
    name,
    next: s.cursor === null ? null : s.cursor.toString(),
    reserved: s.reserved.toString(),
    block: s.block,
    rate: Math.round(s.rate * 10) / 10,
    served: s.served.toString(),
    skipped: Object.fromEntries(
      Object.entries(s.skipped).map(([cause, n]) => [cause, n.toString()]),
    ) as Record<WasteCause, string>,
  }));
}
