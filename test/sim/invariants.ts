// The simulator's checkers. Every hook is called right after the event that
// could break the property, so a violation is reported at the first event
// that makes it observable, with the trace leading up to it.
//
// Properties (Raft paper Figure 3 plus what raftseq's contract needs):
//  - election safety: at most one leader per term, over the whole run;
//    no node grants its vote to two candidates in one term, even across a
//    crash (that is what persisting the vote is for);
//  - durable before acknowledged: a granted vote, and an append
//    acknowledgement for index i, leave the sender only when the vote / the
//    entries up to i are in its durable image;
//  - log matching: two durable logs holding an entry with the same index and
//    term hold identical prefixes up to it (checked in O(1) per entry with
//    prefix hashes keyed by (index, term));
//  - leader completeness: a new leader's log reaches every index applied
//    anywhere before its election;
//  - committed entries are never lost or changed: the first application of
//    an index anywhere fixes its (term, contents); every later application,
//    and every durable entry at or below a node's durable commit index, must
//    match; a leader commits an index only once a majority of its voters
//    hold it durably;
//  - state machine safety: every node applies the same entries in the same
//    order (index by index, no gaps, no repeats) and reaches the same state
//    (state hash per index, checked on snapshots too); the applied index never
//    decreases except by a crash-restart back to the durable snapshot;
//  - lease safety: no two nodes hold a valid leader lease at the same
//    simulated global instant.

import type { Entry, HardState, NodeId } from '../../src/raft/types.js';
import { entryHash } from './hash.js';

export class Violation extends Error {
  seed = -1;
  trace: string[] = [];
  constructor(
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

function fail(invariant: string, detail: string): never {
  throw new Violation(invariant, detail);
}

/** (index, term) as one safe integer key. */
export function logKey(index: number, term: number): number {
  return index * 1048576 + term;
}

export class Checker {
  /** term -> the node that was leader in it. */
  private readonly leaders = new Map<number, NodeId>();
  /** voter -> term -> candidate it granted its vote to. */
  private readonly votes = new Map<NodeId, Map<number, NodeId>>();
  /** (index, term) -> prefix hash of the first durable log holding it, and whose. */
  private readonly prefixes = new Map<number, { h: number; node: NodeId }>();
  /** index -> (term, contents hash) of the committed entry, fixed at its first application. */
  private readonly committedTerm: number[] = [];
  private readonly committedHash: number[] = [];
  private readonly committedBy: NodeId[] = [];
  /** index -> application state hash after applying it. */
  private readonly appHash: number[] = [];
  /** Highest index applied by any node so far. */
  maxApplied = 0;

  // ------------------------------------------------------------ elections

  leader(node: NodeId, term: number): void {
    const prev = this.leaders.get(term);
    if (prev === undefined) this.leaders.set(term, node);
    else if (prev !== node)
      fail('election-safety', `two leaders in term ${term}: ${prev} and ${node}`);
  }

  /** A node just became leader with this last log index. */
  leaderCompleteness(node: NodeId, term: number, lastIndex: number): void {
    if (lastIndex < this.maxApplied) {
      fail(
        'leader-completeness',
        `${node} became leader of term ${term} with last index ${lastIndex}, but index ${this.maxApplied} was already applied (by ${this.committedBy[this.maxApplied]})`,
      );
    }
  }

  /** A granted vote is leaving `voter` now; `durable` is its durable hard state. */
  voteGranted(voter: NodeId, term: number, candidate: NodeId, durable: HardState): void {
    if (durable.term < term || (durable.term === term && durable.vote !== candidate)) {
      fail(
        'vote-durable-before-sent',
        `${voter} grants its term-${term} vote to ${candidate} but its durable hard state is term ${durable.term} vote ${durable.vote}`,
      );
    }
    let m = this.votes.get(voter);
    if (!m) this.votes.set(voter, (m = new Map()));
    const prev = m.get(term);
    if (prev === undefined) m.set(term, candidate);
    else if (prev !== candidate) {
      fail('double-vote', `${voter} voted for ${prev} and for ${candidate} in term ${term}`);
    }
  }

  /** A (real) vote request is leaving `candidate`: its own vote must be durable. */
  voteRequested(candidate: NodeId, term: number, durable: HardState): void {
    if (durable.term < term || (durable.term === term && durable.vote !== candidate)) {
      fail(
        'vote-durable-before-sent',
        `${candidate} asks for votes in term ${term} but its durable hard state is term ${durable.term} vote ${durable.vote}`,
      );
    }
  }

  /** A successful append acknowledgement for `index` is leaving `node`. */
  ackSent(node: NodeId, to: NodeId, index: number, durableLast: number): void {
    if (index > durableLast) {
      fail(
        'ack-durable-before-sent',
        `${node} acknowledges index ${index} to ${to} but its durable log ends at ${durableLast}`,
      );
    }
  }

  // ------------------------------------------------------------ logs

  /** The prefix hash at a snapshot's index, if any durable log ever held that entry. */
  prefixAt(index: number, term: number): number {
    const r = this.prefixes.get(logKey(index, term));
    return r === undefined ? NaN : r.h;
  }

  /** Seeds the prefix hash of a snapshot nobody held as entries (the bootstrap). */
  seedPrefix(index: number, term: number, h: number): void {
    if (!this.prefixes.has(logKey(index, term)))
      this.prefixes.set(logKey(index, term), { h, node: 'bootstrap' });
  }

  /** `node`'s durable log now holds `e` with prefix hash `h` (NaN: unknown base). */
  durableEntry(node: NodeId, e: Entry, h: number): void {
    if (Number.isNaN(h)) return;
    const k = logKey(e.index, e.term);
    const r = this.prefixes.get(k);
    if (r === undefined) this.prefixes.set(k, { h, node });
    else if (r.h !== h) {
      fail(
        'log-matching',
        `${node} and ${r.node} both hold entry ${e.index}/${e.term} durably, but their logs differ at or before it`,
      );
    }
  }

  /** `node` durably holds `e` at or below its durable commit index. */
  durableCommitted(node: NodeId, e: Entry, eh: number): void {
    const t = this.committedTerm[e.index];
    if (t === undefined) return;
    if (t !== e.term || this.committedHash[e.index] !== eh) {
      fail(
        'committed-changed',
        `${node} durably holds ${e.index}/${e.term} as committed, but ${this.committedBy[e.index]} applied ${e.index}/${t} there`,
      );
    }
  }

  /** Durable term and vote only move forward. */
  hardState(node: NodeId, prev: HardState, next: HardState, lastIndex: number): void {
    if (next.term < prev.term)
      fail('durable-term', `${node} durable term went back from ${prev.term} to ${next.term}`);
    if (next.term === prev.term && prev.vote !== null && next.vote !== prev.vote) {
      fail(
        'durable-vote',
        `${node} changed its durable term-${next.term} vote from ${prev.vote} to ${next.vote}`,
      );
    }
    if (next.commit < prev.commit)
      fail(
        'durable-commit',
        `${node} durable commit went back from ${prev.commit} to ${next.commit}`,
      );
    if (next.commit > lastIndex)
      fail(
        'durable-commit',
        `${node} durable commit ${next.commit} beyond its durable log end ${lastIndex}`,
      );
  }

  // ------------------------------------------------------------ application

  /** `node` applies `e`; its app state hash afterwards is `stateHash`. */
  applied(node: NodeId, e: Entry, stateHash: number): void {
    const eh = entryHash(e);
    const t = this.committedTerm[e.index];
    if (t === undefined) {
      this.committedTerm[e.index] = e.term;
      this.committedHash[e.index] = eh;
      this.committedBy[e.index] = node;
      this.appHash[e.index] = stateHash;
      if (e.index > this.maxApplied) this.maxApplied = e.index;
      return;
    }
    if (t !== e.term || this.committedHash[e.index] !== eh) {
      fail(
        'committed-changed',
        `${node} applied ${e.index}/${e.term} but ${this.committedBy[e.index]} applied ${e.index}/${t}${t === e.term ? ' with different contents' : ''}`,
      );
    }
    if (this.appHash[e.index] !== stateHash) {
      fail(
        'state-divergence',
        `${node} state after applying ${e.index} differs from ${this.committedBy[e.index]}'s`,
      );
    }
  }

  /** `node` restored its app state from a snapshot at `index` (received or durable). */
  snapshotState(node: NodeId, index: number, term: number, stateHash: number): void {
    const t = this.committedTerm[index];
    if (t !== undefined && t !== term) {
      fail(
        'committed-changed',
        `${node} restored snapshot ${index}/${term} but ${this.committedBy[index]} applied ${index}/${t}`,
      );
    }
    const h = this.appHash[index];
    if (h === undefined) {
      // Nobody applied this index one entry at a time (the bootstrap snapshot).
      this.appHash[index] = stateHash;
      this.committedBy[index] ??= node;
      if (index > this.maxApplied) this.maxApplied = index;
    } else if (h !== stateHash) {
      fail(
        'state-divergence',
        `${node} restored a snapshot at ${index} whose state differs from ${this.committedBy[index]}'s`,
      );
    }
  }

  committedTermAt(index: number): number | undefined {
    return this.committedTerm[index];
  }
}
