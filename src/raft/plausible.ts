// Messages that no correct member can send, refused before they reach the
// state machine of the core.
//
// A peer's certificate proves who sent a message, not that the sender
// follows Raft: any holder of a valid member certificate (a member, or an id
// the CA signed that is not, or no longer, in the cluster) can open a
// stream. Raft tolerates crashes, not lies, but three kinds of message are
// impossible from a correct cluster, so dropping them costs nothing and
// stops a certified stranger from deposing the leader, crashing it, or
// writing entries into a follower's log:
//
// 1. A leader's message (append, heartbeat, snapshot) in our term from
//    anyone but the leader we know for it, or to a leader: Election Safety
//    says a term has at most one leader.
// 2. TimeoutNow in our term from anyone but the leader we know: only the
//    leader hands its leadership over.
// 3. A higher term from someone in neither our voters nor our learners (nor
//    named by a membership change in our log) while we are in contact with a live leader (or are one). A correct newcomer
//    we do not know yet (our log lags behind its addition) is only delayed
//    until that contact lapses, as §9.6 of the thesis already delays votes.

import type { Message, NodeId, Role } from './types.js';

/** What the check needs to know of the receiving node. */
export interface Receiver {
  term: number;
  role: Role;
  /** The leader of `term` this node knows, or null. */
  leader: NodeId | null;
  /** In our configuration, or named by a membership change in our log. */
  isMember(id: NodeId): boolean;
  /** Heard from a live leader less than an election timeout ago, or leads. */
  inLeaderContact: boolean;
}

/** Why no correct member could have sent `m` to this node, or null if one could. */
export function implausibleMessage(m: Message, self: Receiver): string | null {
  const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
  if (m.term === self.term) {
    if (fromLeader && self.role === 'leader') {
      return `${m.type} from ${m.from} in term ${m.term}, which this node leads`;
    }
    if (
      (fromLeader || m.type === 'timeout-now') &&
      self.leader !== null &&
      m.from !== self.leader
    ) {
      return `${m.type} from ${m.from} in term ${m.term}, whose leader is ${self.leader}`;
    }
  }
  // A node that knows no leader yet (a new member, before its first append)
  // takes the leader's word whatever its own configuration says.
  if (
    m.term > self.term &&
    self.leader !== null &&
    self.inLeaderContact &&
    !self.isMember(m.from)
  ) {
    return `term ${m.term} from ${m.from}, not a member, while a leader is in contact`;
  }
  return null;
}
