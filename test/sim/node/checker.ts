// The node world's checkers: what raftseq promises its users, checked after
// every event that could break it, so a violation names the first event that
// makes it observable.
//
//  - never twice: no value is handed out by two successful answers. Checked
//    on the server side (every answer a handler sent, whether or not the
//    client got it), which is stricter than Jepsen's client-side check;
//  - real-time order: if answer A reached its client before request B was
//    sent, every value of B is greater than every value of A (same sequence),
//    in simulated global time;
//  - a graceful hand-over skips nothing: when a new epoch inherits a committed
//    handover, every sequence starts exactly one past the largest value ever
//    handed out (or where it already stood, or past an advance);
//  - election safety: one leader per term;
//  - an emptied member never counts toward a vote: a leader must have a
//    quorum of grants without members that lost their data directory and have
//    not yet re-applied what they lost;
//  - a member whose storage lost records must never vote, acknowledge or serve.
// Liveness (every sequence served again after the faults heal) is the
// world's own check (world.ts).

import { Violation } from '../invariants.js';

/** Disjoint closed intervals of bigint, merged when adjacent. */
class Ranges {
  private readonly first: bigint[] = [];
  private readonly last: bigint[] = [];

  get max(): bigint {
    const n = this.last.length;
    return n === 0 ? 0n : (this.last[n - 1] as bigint);
  }

  /** Adds [a, b]; returns an overlapping interval instead if there is one. */
  add(a: bigint, b: bigint): [bigint, bigint] | null {
    // The first interval whose end is >= a.
    let lo = 0;
    let hi = this.last.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.last[mid] as bigint) < a) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.first.length && (this.first[lo] as bigint) <= b) {
      return [this.first[lo] as bigint, this.last[lo] as bigint];
    }
    const joinLeft = lo > 0 && (this.last[lo - 1] as bigint) + 1n === a;
    const joinRight = lo < this.first.length && b + 1n === (this.first[lo] as bigint);
    if (joinLeft && joinRight) {
      this.last[lo - 1] = this.last[lo] as bigint;
      this.first.splice(lo, 1);
      this.last.splice(lo, 1);
    } else if (joinLeft) {
      this.last[lo - 1] = b;
    } else if (joinRight) {
      this.first[lo] = a;
    } else {
      this.first.splice(lo, 0, a);
      this.last.splice(lo, 0, b);
    }
    return null;
  }
}

export interface SequenceStart {
  sequence: string;
  start: bigint;
}

export class NodeChecker {
  private readonly issued = new Map<string, Ranges>();
  /** Largest value of any answer a client received, per sequence. */
  private readonly received = new Map<string, bigint>();
  /** Largest `to - 1` of any committed advance, per sequence. */
  private readonly advanced = new Map<string, bigint>();
  /** Each sequence's start in the current epoch (as of its opening). */
  private starts = new Map<string, bigint>();
  private readonly leaders = new Map<number, string>();
  /** grants.get(term).get(candidate): who granted it a (real) vote, and when. */
  private readonly grants = new Map<number, Map<string, Map<string, number>>>();
  /** Members that lost their data directory: the index they had applied, and when. */
  private readonly emptied = new Map<string, { lost: number; at: number }>();
  /** Members started on a store that lost records (only a broken check lets them start). */
  private readonly lostRecords = new Set<string>();
  private firstApplied = 0;
  private handoverPending = false;
  valuesIssued = 0n;
  okAnswers = 0;

  // ---------------------------------------------------------------- never twice

  /** Node `id` (`who` describes it) answered `first..first+count-1` for `sequence`. */
  served(sequence: string, first: bigint, count: number, id: string, who: string): void {
    let r = this.issued.get(sequence);
    if (r === undefined) this.issued.set(sequence, (r = new Ranges()));
    const last = first + BigInt(count) - 1n;
    const clash = r.add(first, last);
    if (clash !== null) {
      throw new Violation(
        'never-twice',
        `${who} handed out ${sequence} ${first}..${last}, overlapping ${clash[0]}..${clash[1]} handed out before`,
      );
    }
    if (this.lostRecords.has(id)) {
      throw new Violation('lost-records-served', `${who} serves although its store lost records`);
    }
    this.valuesIssued += BigInt(count);
  }

  // ---------------------------------------------------------------- real-time order

  /** A client sends a request for `sequence`: what it must exceed. */
  invoke(sequence: string): bigint {
    return this.received.get(sequence) ?? 0n;
  }

  /** A client received an answer; `floor` is what invoke() returned for it. */
  ok(sequence: string, first: bigint, count: number, floor: bigint, who: string): void {
    this.okAnswers++;
    if (first <= floor) {
      throw new Violation(
        'real-time-order',
        `${who} received ${sequence} ${first} (count ${count}), but ${floor} had already reached a client before this request was sent`,
      );
    }
    const last = first + BigInt(count) - 1n;
    if (last > (this.received.get(sequence) ?? 0n)) this.received.set(sequence, last);
  }

  // ---------------------------------------------------------------- epochs and hand-overs

  /**
   * The first application anywhere of entry `index`. `kind` describes it;
   * `starts` lists every sequence's start as of just after it (read lazily:
   * only new epochs need it).
   */
  applied(
    index: number,
    kind:
      | { kind: 'noop'; newEpoch: boolean; epoch: number }
      | { kind: 'handover' | 'resume' | 'other' }
      | { kind: 'advance'; sequence: string; to: bigint },
    starts: () => SequenceStart[],
    who: string,
  ): void {
    if (index <= this.firstApplied) return;
    this.firstApplied = index;
    switch (kind.kind) {
      case 'handover':
        this.handoverPending = true;
        return;
      case 'resume':
        this.handoverPending = false;
        return;
      case 'advance': {
        const floor = kind.to - 1n;
        if (floor > (this.advanced.get(kind.sequence) ?? 0n)) {
          this.advanced.set(kind.sequence, floor);
        }
        return;
      }
      case 'other':
        return;
      case 'noop':
        if (!kind.newEpoch) return;
        this.newEpoch(index, kind.epoch, starts(), who);
    }
  }

  private newEpoch(index: number, epoch: number, list: SequenceStart[], who: string): void {
    const inherited = this.handoverPending;
    this.handoverPending = false;
    const next = new Map<string, bigint>();
    for (const { sequence, start } of list) {
      next.set(sequence, start);
      if (!inherited) continue;
      let want = (this.issued.get(sequence)?.max ?? 0n) + 1n;
      const before = this.starts.get(sequence) ?? 1n;
      if (before > want) want = before;
      const adv = (this.advanced.get(sequence) ?? 0n) + 1n;
      if (adv > want) want = adv;
      if (start !== want) {
        throw new Violation(
          start < want ? 'handover-below-served' : 'handover-skipped-values',
          `epoch ${epoch} (no-op at ${index}, first applied on ${who}) inherited a hand-over, but starts ${sequence} at ${start}; exactly ${want} continues it (largest handed out ${want - 1n})`,
        );
      }
    }
    this.starts = next;
  }

  // ---------------------------------------------------------------- elections

  /** `process` (id#incarnation) leads `term`. */
  leader(term: number, process: string): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== process) {
      throw new Violation('election-safety', `${process} and ${other} both lead term ${term}`);
    }
    this.leaders.set(term, process);
  }

  /** `from` sent a granted (non-pre) vote to `to` for `term` at global time `at`. */
  voteGranted(from: string, to: string, term: number, fromApplied: number, at: number): void {
    if (this.lostRecords.has(from)) {
      throw new Violation(
        'lost-records-voted',
        `${from} grants a vote although its store lost records`,
      );
    }
    const e = this.emptied.get(from);
    if (e !== undefined && fromApplied >= e.lost) this.emptied.delete(from);
    let byCandidate = this.grants.get(term);
    if (byCandidate === undefined) this.grants.set(term, (byCandidate = new Map()));
    let set = byCandidate.get(to);
    if (set === undefined) byCandidate.set(to, (set = new Map()));
    set.set(from, at);
  }

  /**
   * `id` (a process started at global time `since`) became leader of `term`
   * with these voters: its quorum must not need emptied members.
   */
  elected(id: string, term: number, voters: string[], since: number, lastIndex: number): void {
    // Leader completeness (§5.4): the new leader's log reaches every index
    // committed (first applied) anywhere so far.
    if (lastIndex < this.firstApplied) {
      throw new Violation(
        'leader-completeness',
        `${id} leads term ${term} with a log ending at ${lastIndex}, but index ${this.firstApplied} was committed`,
      );
    }
    // The contract promises nothing once half the voters or more lost data.
    const emptiedVoters = voters.filter((v) => this.emptied.has(v));
    if (emptiedVoters.length * 2 >= voters.length) return;
    const grants = this.grants.get(term)?.get(id) ?? new Map<string, number>();
    // A grant counts as the emptied member's only if it was sent after the
    // wipe (one sent just before it, still on the wire, came from the data).
    const fromEmptied = (v: string, at: number): boolean => {
      const e = this.emptied.get(v);
      return e !== undefined && at >= e.at;
    };
    const granted = new Map([...grants].filter(([, at]) => at >= since));
    const self = (v: string): boolean => v === id && !this.emptied.has(v);
    const counted = voters.filter(
      (v) => self(v) || (granted.has(v) && !fromEmptied(v, granted.get(v) as number)),
    ).length;
    if (counted * 2 <= voters.length) {
      const needed = voters.filter((v) => (v === id || granted.has(v)) && this.emptied.has(v));
      throw new Violation(
        'emptied-member-voted',
        `${id} leads term ${term} (voters ${voters.join(',')}) only thanks to the vote of ${needed.join(',')}, whose data directory was emptied`,
      );
    }
  }

  /**
   * Members that lost their data directory and have not applied what they
   * lost yet (`appliedOf` gives each one's applied index now, or null when down).
   */
  stillEmptied(appliedOf: (id: string) => number | null): string[] {
    for (const [id, e] of this.emptied) {
      const applied = appliedOf(id);
      if (applied !== null && applied >= e.lost) this.emptied.delete(id);
    }
    return [...this.emptied.keys()];
  }

  /** `id` lost its data directory at global time `at`, having applied up to `applied`. */
  memberEmptied(id: string, applied: number, at: number): void {
    if (applied <= 1) return;
    this.emptied.set(id, { lost: Math.max(applied, this.emptied.get(id)?.lost ?? 0), at });
  }

  /** `id` acknowledged an append. */
  acked(id: string): void {
    if (this.lostRecords.has(id)) {
      throw new Violation(
        'lost-records-acked',
        `${id} acknowledges appends although its store lost records`,
      );
    }
  }

  /** `id` started on a store that lost records (only a mutant lets it). */
  startedWithLostRecords(id: string): void {
    this.lostRecords.add(id);
  }
}
