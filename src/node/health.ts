// Whether a node is ready, and whether it can answer Next, as pure functions
// of its state (so the simulator can judge every node at any instant), plus
// the one fact the core does not keep: when this node last heard from its
// leader, and how far the leader said it had committed.
//
// Readiness (gRPC health service "", HTTP /readyz): a member of the cluster
// that knows a leader, has heard from it within an election timeout, and has
// applied to within `maxLagEntries` of what the leader last said it had
// committed. A node catching up after a join, or cut off from its leader, is
// not ready: a client sent there would wait or be redirected in vain.
//
// Sequencer (gRPC health service "raftseq.v1.Sequencer"): ready, the leader,
// and holding a valid lease now. A load balancer that health-checks this
// service sends Next only to the node that can answer it.

import type { Message, NodeId, Role } from '../raft/index.js';
import type { NodeEvents } from './events.js';

export interface HealthFacts {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId | null;
  voters: readonly NodeId[];
  learners: readonly NodeId[];
  applied: number;
  /** The highest commit index the current leader announced (this node's own commit when it leads). */
  leaderCommit: number;
  /** Milliseconds since the current leader was last heard from; 0 when this node leads; null never. */
  leaderSilenceMs: number | null;
  leaseValid: boolean;
}

export interface HealthBounds {
  /** Behind the leader's commit index by more than this many entries: catching up. */
  maxLagEntries: number;
  /** Not heard from the leader for longer than this: cut off (an election timeout). */
  maxLeaderSilenceMs: number;
}

/** Ready or not, and why (one line for /readyz and the status page). */
export interface Verdict {
  ok: boolean;
  reason: string;
}

export interface HealthVerdict {
  /** gRPC health "" and /readyz. */
  ready: Verdict;
  /** gRPC health "raftseq.v1.Sequencer": the leader with a valid lease. */
  sequencer: Verdict;
}

/** Entries a ready follower may be behind its leader: a few seconds of reservations at most. */
export const DEFAULT_MAX_LAG_ENTRIES = 1000;

export function judgeHealth(f: HealthFacts, b: HealthBounds): HealthVerdict {
  const ready = judgeReady(f, b);
  if (!ready.ok) return { ready, sequencer: { ok: false, reason: ready.reason } };
  if (f.role !== 'leader') {
    return { ready, sequencer: { ok: false, reason: `not the leader (${f.leader} is)` } };
  }
  if (!f.leaseValid) {
    return {
      ready,
      sequencer: {
        ok: false,
        reason: 'leader without a valid lease (not yet confirmed by a majority, or handing over)',
      },
    };
  }
  return { ready, sequencer: { ok: true, reason: `leader of term ${f.term} with a valid lease` } };
}

function judgeReady(f: HealthFacts, b: HealthBounds): Verdict {
  const voter = f.voters.includes(f.id);
  if (!voter && !f.learners.includes(f.id)) {
    return {
      ok: false,
      reason:
        f.voters.length === 0
          ? 'not a member of a cluster yet (waiting to be added: raftseq cluster join)'
          : 'not a member of the cluster (removed)',
    };
  }
  if (f.leader === null) {
    return { ok: false, reason: `no leader known in term ${f.term} (role ${f.role})` };
  }
  if (f.role === 'leader') {
    return { ok: true, reason: `leader of term ${f.term}` };
  }
  if (f.leaderSilenceMs === null || f.leaderSilenceMs > b.maxLeaderSilenceMs) {
    return {
      ok: false,
      reason:
        f.leaderSilenceMs === null
          ? `leader ${f.leader} not heard from yet`
          : `leader ${f.leader} not heard from for ${Math.round(f.leaderSilenceMs)} ms (more than ${b.maxLeaderSilenceMs}): cut off?`,
    };
  }
  const lag = f.leaderCommit - f.applied;
  if (lag > b.maxLagEntries) {
    return {
      ok: false,
      reason: `catching up: applied ${f.applied}, leader ${f.leader} committed ${f.leaderCommit} (${lag} behind, more than ${b.maxLagEntries})`,
    };
  }
  return {
    ok: true,
    reason: `${voter ? 'follower' : 'learner'} of ${f.leader} in term ${f.term}, ${Math.max(0, lag)} entries behind`,
  };
}

/**
 * Listens to peer messages (a NodeEvents hook) for the two facts the core
 * does not keep: when the leader of the current term was last heard from,
 * and the commit index it announced. An append carries the leader's commit
 * index; a heartbeat carries it capped at what this node holds, which is
 * still a lower bound.
 */
export class LeaderWatch implements Pick<NodeEvents, 'peerMessage'> {
  private from: NodeId | null = null;
  private term = -1;
  private at = 0;
  private announced = 0;

  constructor(private readonly now: () => number) {}

  peerMessage(m: Message): void {
    if (m.type !== 'append' && m.type !== 'heartbeat' && m.type !== 'snapshot') return;
    if (m.term < this.term) return;
    if (m.term > this.term || m.from !== this.from) {
      this.term = m.term;
      this.from = m.from;
      this.announced = 0;
    }
    this.at = this.now();
    if (m.type === 'snapshot') this.announced = Math.max(this.announced, m.snapshot.meta.index);
    else this.announced = Math.max(this.announced, m.commit);
  }

  /** Ms since `leader` (in `term`) was last heard from, or null if it has not been. */
  silenceMs(leader: NodeId, term: number): number | null {
    return leader === this.from && term === this.term ? this.now() - this.at : null;
  }

  /** The commit index `leader` announced in `term` (0 if none). */
  commitOf(leader: NodeId, term: number): number {
    return leader === this.from && term === this.term ? this.announced : 0;
  }
}

/** What judgeHealth needs from a running node. */
export interface HealthSource {
  readonly id: NodeId;
  status(): {
    role: Role;
    term: number;
    leader: NodeId | null;
    commit: number;
    conf: { voters: readonly NodeId[]; learners: readonly NodeId[] };
  };
  appliedIndex(): number;
  leaseValid(): boolean;
}

/** The facts of `node` now, with `watch` listening to its peer messages. */
export function healthFacts(node: HealthSource, watch: LeaderWatch): HealthFacts {
  const st = node.status();
  const leads = st.role === 'leader';
  return {
    id: node.id,
    role: st.role,
    term: st.term,
    leader: st.leader,
    voters: st.conf.voters,
    learners: st.conf.learners,
    applied: node.appliedIndex(),
    leaderCommit: leads
      ? st.commit
      : st.leader === null
        ? 0
        : Math.max(st.commit, watch.commitOf(st.leader, st.term)),
    leaderSilenceMs: leads ? 0 : st.leader === null ? null : watch.silenceMs(st.leader, st.term),
    leaseValid: leads && node.leaseValid(),
  };
}
