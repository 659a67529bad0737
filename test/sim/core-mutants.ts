// Deliberately broken variants of the Raft core, for proving that the core
// world's checkers catch real bugs. Each is a test-only subclass of RaftNode
// that overrides one of the core's rule hooks (src/raft/node.ts, "rules as
// hooks"); src never sees them. `npm run sim -- --mutant NAME` and
// test/sim/sim.test.ts run each until a seed catches it.

import { RaftLog } from '../../src/raft/log.js';
import { RaftNode } from '../../src/raft/index.js';
import type {
  Entry,
  InitialState,
  Lease,
  RaftConfig,
  Snapshot,
  VoteRequest,
} from '../../src/raft/index.js';

/** Grants votes without comparing logs (§5.4.1 gone). */
class VoteWithoutLogCheck extends RaftNode {
  protected override candidateUpToDate(_m: VoteRequest): boolean {
    return true;
  }
}

/** Commits an entry of an earlier term by counting replicas (Figure 8). */
class CommitEarlierTerm extends RaftNode {
  protected override mayCommitByCounting(_index: number): boolean {
    return true;
  }
}

/** A follower keeps entries that conflict with the leader's instead of replacing them. */
class KeepConflictsLog extends RaftLog {
  protected override dropConflicting(_index: number): boolean {
    return false;
  }
}
class KeepConflictingEntries extends RaftNode {
  protected override createLog(snapshot: Snapshot, entries: Entry[], committed: number): RaftLog {
    return new KeepConflictsLog(snapshot, entries, committed);
  }
}

/** Tells the candidate of a vote before the vote is durable. */
class NoPersistBeforeVote extends RaftNode {
  protected override voteResponseTiming(_isPre: boolean): 'now' | 'after-persist' {
    return 'now';
  }
}

/** Keeps answering with the last lease it held after it lost the right to one. */
class LeaseAfterStepDown extends RaftNode {
  private last: Lease | null = null;
  override lease(): Lease | null {
    const lease = super.lease();
    if (lease !== null) this.last = lease;
    return lease ?? this.last;
  }
}

const CLASSES = {
  'vote-without-log-check': VoteWithoutLogCheck,
  'commit-earlier-term': CommitEarlierTerm,
  'keep-conflicting-entries': KeepConflictingEntries,
  'lease-after-step-down': LeaseAfterStepDown,
  'no-persist-before-vote': NoPersistBeforeVote,
} as const;

export type CoreMutant = keyof typeof CLASSES;

export const CORE_MUTANTS = Object.keys(CLASSES) as readonly CoreMutant[];

/** The core, or with `mutant` its broken variant. */
export function createRaftNode(
  config: RaftConfig,
  initial: InitialState,
  mutant?: CoreMutant,
): RaftNode {
  return mutant === undefined
    ? new RaftNode(config, initial)
    : new CLASSES[mutant](config, initial);
}
