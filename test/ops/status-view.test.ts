// The status page's memory and ranking, on a hand-driven clock: events kept
// in a bounded ring (newest first), one rate sample a second from the
// allocator's totals, and the busiest sequences by rate.

import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/node/runtime.js';
import type { Entry, Message } from '../../src/raft/index.js';
import type { AllocatorTotals, SequenceStats } from '../../src/state/allocator.js';
import {
  Activity,
  EVENT_CAPACITY,
  HISTORY_SECONDS,
} from '../../src/server/status-page/activity.js';
import { BUSIEST, busiest } from '../../src/server/status-page/view.js';

/** A clock whose timers run only when advance() says so. */
function manualClock() {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    wallNow: () => 1_700_000_000_000 + now,
    setTimer: (ms, fn) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => (timers = timers.filter((x) => x !== t));
    },
  };
  const advance = (ms: number): void => {
    const end = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      timers = timers.filter((t) => t !== due);
      now = due.at;
      due.fn();
    }
    now = end;
  };
  return { clock, advance };
}

function totals(served: bigint, crash = 0n): AllocatorTotals {
  return {
    served,
    skipped: { 'block-remainder': 0n, crash, handover: 0n, advance: 0n },
    reservationsProposed: 0,
    reservationsCommitted: 0,
    reservationsFailed: 0,
  };
}

describe('Activity', () => {
  it('samples values served and skipped once a second, and keeps ten minutes', () => {
    const { clock, advance } = manualClock();
    let t = totals(0n);
    const a = new Activity({ id: 'n1', clock, totals: () => t, status: () => ({ term: 2 }) });
    a.start();
    t = totals(300n);
    advance(1000);
    t = totals(350n, 20n);
    advance(1000);
    expect(a.history().map((s) => [s.served, s.skipped])).toEqual([
      [300, 0],
      [50, 20],
    ]);
    advance((HISTORY_SECONDS + 5) * 1000);
    expect(a.history()).toHaveLength(HISTORY_SECONDS);
    a.stop();
    advance(5000);
    expect(a.history()).toHaveLength(HISTORY_SECONDS);
  });

  it('records elections, transfers, membership, hand-overs and snapshots, newest first, bounded', () => {
    const { clock } = manualClock();
    const a = new Activity({
      id: 'n2',
      clock,
      totals: () => totals(0n),
      status: () => ({ term: 7 }),
    });
    const entry = { index: 40, term: 7, type: 'normal', data: new Uint8Array(0) } as Entry;
    a.leaderKnown('n2');
    a.peerMessage({ type: 'timeout-now', from: 'n1', to: 'n2', term: 6 } as Message);
    a.applied(entry, { kind: 'conf', change: 'add-learner', id: 'n4' });
    a.applied(entry, { kind: 'command', command: { type: 'handover', items: [] } });
    a.applied(entry, { kind: 'command', command: { type: 'reserve', items: [] } }); // not an event
    a.snapshotTaken(40, 1234);
    expect(a.recentEvents().map((e) => `${e.kind}: ${e.text}`)).toEqual([
      'snapshot: snapshot taken at index 40 (1234 bytes); log compacted',
      'handover: leader of term 7 handed over 0 sequence(s) at their exact next values',
      'membership: n4 added as a learner (index 40)',
      'transfer: n1 hands leadership to this node (term 6)',
      'election: n2 leads term 7 (this node)',
    ]);
    for (let i = 0; i < EVENT_CAPACITY + 10; i++) a.snapshotInstalled(i);
    expect(a.recentEvents()).toHaveLength(EVENT_CAPACITY);
    expect(a.recentEvents()[0]!.text).toContain(`index ${EVENT_CAPACITY + 9}`);
  });
});

describe('busiest sequences', () => {
  const stats = (rate: number, served: bigint): SequenceStats => ({
    served,
    requests: 1,
    skipped: { 'block-remainder': 0n, crash: 3n, handover: 0n, advance: 0n },
    reservationsProposed: 0,
    reservationsCommitted: 0,
    reservationsFailed: 0,
    rate,
    block: 100,
    cursor: served + 1n,
    reserved: served + 100n,
  });

  it('ranks by rate, then values served, and lists at most BUSIEST', () => {
    const m = new Map<string, SequenceStats>();
    for (let i = 0; i < 30; i++) m.set(`s${i}`, stats(i % 10, BigInt(i)));
    const top = busiest(m);
    expect(top).toHaveLength(BUSIEST);
    expect(top.slice(0, 4).map((s) => s.name)).toEqual(['s29', 's19', 's9', 's28']);
    expect(top[0]).toMatchObject({
      rate: 9,
      served: '29',
      next: '30',
      reserved: '129',
      block: 100,
    });
    expect(top[0]!.skipped.crash).toBe('3');
  });
});
