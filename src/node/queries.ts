// Read-only views of a node for the admin API: members as the leader sees
// them, and sequences (next value, reservation, counters). Nothing here
// changes state or walks every sequence on the event loop.

import type { MemberView, SequenceView } from '../api/node-api.js';
import type { Status } from '../raft/index.js';
import type { Allocator } from '../state/allocator.js';
import type { SequenceInfo, SequenceStateMachine } from '../state/machine.js';
import { smallest } from '../state/select.js';
import type { Membership } from './membership.js';

export class Queries {
  constructor(
    private readonly sm: SequenceStateMachine,
    private readonly allocator: Allocator,
    private readonly membership: Membership,
    private readonly status: () => Status,
    private readonly tickMs: number,
  ) {}

  /** Every voter, then every learner, with the leader's view of its progress. */
  members(): MemberView[] {
    const st = this.status();
    const progress = new Map(st.progress.map((p) => [p.id, p]));
    const view = (id: string, voter: boolean): MemberView => {
      const p = progress.get(id);
      const contactTicks = p === undefined || p.ackedSentTick < 0 ? -1 : st.tick - p.ackedSentTick;
      const address = this.membership.memberAddress(id) ?? '';
      return {
        id,
        address,
        advertise: this.membership.advertisedAddress(id) ?? address,
        role: !voter ? 'learner' : st.leader === id ? 'leader' : 'follower',
        matchIndex: id === st.id && st.role === 'leader' ? st.persistedIndex : (p?.match ?? 0),
        lastContactMs:
          id === st.id ? 0 : contactTicks < 0 ? -1 : Math.round(contactTicks * this.tickMs),
      };
    };
    return [
      ...st.conf.voters.map((id) => view(id, true)),
      ...st.conf.learners.map((id) => view(id, false)),
    ];
  }

  /** The next value the leader would hand out for `name` (1 for a new sequence). */
  sequenceNext(name: string): bigint {
    // The allocator's cursor, unless an `advance` has moved the start past it
    // (the allocator catches up on its next request).
    const start = this.sm.startFor(name);
    const cursor = this.allocator.peekNext(name);
    return cursor !== null && cursor > start ? cursor : start;
  }

  sequenceInfo(name: string): SequenceView | null {
    if (!this.sm.has(name)) return null;
    return this.view(name, this.sm.reservedUpTo(name));
  }

  /** One page of sequences in name order, after `after`: O(N log limit), no full sort. */
  sequenceInfos(after: string, limit: number): SequenceView[] {
    const page = smallest(this.sequencesAfter(after), limit, (a, b) => a.sequence < b.sequence);
    return page.map((info) => this.view(info.sequence, info.reserved));
  }

  private *sequencesAfter(after: string): IterableIterator<SequenceInfo> {
    for (const info of this.sm.sequences()) if (info.sequence > after) yield info;
  }

  private view(name: string, reserved: bigint): SequenceView {
    const st = this.allocator.sequenceStats(name);
    let skipped = 0n;
    if (st) for (const v of Object.values(st.skipped)) skipped += v;
    return {
      name,
      next: this.sequenceNext(name).toString(),
      reserved: reserved.toString(),
      served: (st?.served ?? 0n).toString(),
      skipped: skipped.toString(),
      block: String(st?.block ?? 0),
    };
  }
}
