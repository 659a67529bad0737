// The node runtime's orchestration, one defect at a time, on real NodeHosts
// in the deterministic simulator's cluster (test/sim/node/cluster.ts): real
// allocator, state machine, hand-over, membership and gRPC handlers; a calm
// simulated network; simulated time. Each case failed before its fix.

import { describe, expect, it } from 'vitest';
import { ReadyDriver } from '../../src/node/driver.js';
import { Leadership } from '../../src/node/leadership.js';
import { TickClock } from '../../src/node/clock.js';
import { NO_EVENTS } from '../../src/node/events.js';
import type { Clock } from '../../src/node/runtime.js';
import { RaftNode, bootstrapState, type Message } from '../../src/raft/index.js';
import { SequenceStateMachine, bootstrapData } from '../../src/state/machine.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { SimCluster, addressOf } from '../sim/node/cluster.js';

const IDS = ['n1', 'n2', 'n3'];

/** A formed cluster: a serving leader, and every member's data directory verified. */
async function cluster(ids = IDS, maxSequences?: number): Promise<SimCluster> {
  const c = new SimCluster({
    seed: 7,
    ids,
    drift: 0,
    ...(maxSequences !== undefined ? { maxSequences } : {}),
  });
  c.start();
  await c.runUntil(
    () => c.leader() !== null && ids.every((id) => c.host(id)?.isVerified === true),
    30_000,
    'a formed cluster',
  );
  return c;
}

async function next(c: SimCluster, sequence: string, count = 1): Promise<bigint> {
  const r = await c.settleOn(c.call('Sequencer', 'Next', { sequence, count }));
  expect(r.outcome.code).toBe(0);
  return BigInt(r.outcome.value!['first'] as string);
}

/** A clock that moves only when told; timers run on run(). */
function manualClock(): Clock & { advance(ms: number): void; run(): void } {
  let now = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    wallNow: () => now,
    setTimer: (ms, fn) => {
      const t = { at: now + ms, fn };
      timers.push(t);
      return () => timers.splice(timers.indexOf(t), 1);
    },
    advance: (ms) => (now += ms),
    run: () => {
      for (const t of timers.splice(0).filter((x) => x.at <= now)) t.fn();
    },
  };
}

/**
 * Member n2 of a bootstrapped three-member cluster, driven by hand: an
 * election timeout of 1 s (50 ticks of 20 ms), `sent` collecting what it
 * sends; `since` as DriverOptions.since.
 */
function memberN2(
  clock: ReturnType<typeof manualClock>,
  sent: Message[],
  since?: number,
): { raft: RaftNode; driver: ReadyDriver } {
  const transport: Transport = {
    attach: () => {},
    send: (ms) => sent.push(...ms),
    setPeers: () => {},
    setSelfAddress: () => {},
    stats: () => ({}),
    setClusterId: () => {},
    refusals: () => ({}),
    close: async () => {},
  };
  const init = bootstrapState(IDS, bootstrapData(new Map(IDS.map((id) => [id, id])), 1));
  const raft = new RaftNode(
    { id: 'n2', electionTick: 50, heartbeatTick: 5, rng: { int: () => 0 } },
    init,
  );
  const sm = new SequenceStateMachine();
  sm.load(init.snapshot.data);
  const storage = MemoryStorage.create();
  storage.persistSync([
    { snapshot: init.snapshot, compacted: null, entries: [], hardState: init.hardState },
  ]);
  const driver = new ReadyDriver({
    raft,
    sm,
    storage,
    transport,
    clock,
    tickMs: 20,
    tickTimes: new TickClock(20, 400),
    events: NO_EVENTS,
    snapshotEntries: 10_000,
    ...(since !== undefined ? { since } : {}),
    listener: {
      roleChanged: () => {},
      ticked: () => {},
      applied: () => {},
      snapshotInstalled: () => {},
      refused: () => {},
      fatal: (e) => {
        throw e;
      },
    },
  });
  return { raft, driver };
}

/** A pre-vote of n3 for term 3 with a log ahead of n2's. */
const preVoteOfN3: Message = {
  type: 'pre-vote',
  from: 'n3',
  to: 'n2',
  term: 3,
  lastLogIndex: 5,
  lastLogTerm: 2,
  transfer: false,
};

describe('hand-over (defects 1 and 3 of the node-simulation issue)', () => {
  it('a leader with no other voter never seals itself', async () => {
    const c = await cluster(['n1']);
    await next(c, 'a');
    const r = await c.settleOn(c.call('Cluster', 'TransferLeadership', { to: '' }));
    expect(r.outcome.code).not.toBe(0);
    expect(c.host('n1')?.allocator.serving).toBe(true);
    // Nothing was sealed or recorded (and so nothing had to be resumed).
    expect(c.trace.lines().filter((l) => l.includes('(handover)'))).toEqual([]);
    expect(await next(c, 'a')).toBe(2n);
  });

  it('a failed transfer resumes serving, even when the core still transfers at the deadline', async () => {
    const c = await cluster();
    const leader = c.leader()!;
    const target = IDS.find((id) => id !== leader)!;
    await next(c, 'a');
    c.net.isolate(target, IDS);
    // Two calls at once: the second waits for the first, then starts with
    // little of its own time left, while the core's transfer is still on.
    const first = c.call('Cluster', 'TransferLeadership', { to: target }, { deadlineMs: 3_500 });
    const second = c.call('Cluster', 'TransferLeadership', { to: target }, { deadlineMs: 3_500 });
    await c.settleOn(Promise.all([first, second]));
    await c.runFor(3_000);
    expect(c.host(leader)?.allocator.serving).toBe(true);
    expect(await next(c, 'a')).toBe(2n);
  });

  it('hand-overs run one at a time, however many are asked for at once', async () => {
    let running = 0;
    let most = 0;
    class Counting extends Leadership {
      protected override async handOverNow(
        to: string | null,
        deadline: number,
      ): Promise<string | null> {
        most = Math.max(most, ++running);
        try {
          return await super.handOverNow(to, deadline);
        } finally {
          running--;
        }
      }
    }
    const c = new SimCluster({ seed: 7, ids: IDS, drift: 0, classes: { Leadership: Counting } });
    c.start();
    await c.runUntil(() => c.leader() !== null, 30_000, 'a serving leader');
    const leader = c.leader()!;
    const target = IDS.find((id) => id !== leader)!;
    await next(c, 'a');
    c.net.isolate(target, IDS);
    const calls = [0, 1, 2].map(() =>
      c.call('Cluster', 'TransferLeadership', { to: target }, { start: addressOf(leader) }),
    );
    await c.settleOn(Promise.all(calls));
    expect(most).toBe(1);
    await c.runFor(3_000);
    expect(c.host(leader)?.allocator.serving).toBe(true);
  });
});

describe('verified data directories', () => {
  it('a new directory vouches for its votes once registered, and stays verified across a restart', async () => {
    const c = await cluster();
    const verified = (): boolean[] => IDS.map((id) => c.host(id)?.isVerified === true);
    await c.runUntil(() => verified().every(Boolean), 10_000, 'every member verified');
    c.crash('n2');
    c.boot(c.slots.get('n2')!);
    await c.runUntil(() => c.host('n2') !== null, 10_000, 'n2 up again');
    expect(c.host('n2')?.isVerified).toBe(true);
  });

  it('a restarted member logs what its start cost: load, decode and the replay of its log', async () => {
    const c = await cluster();
    for (let i = 0; i < 5; i++) await next(c, `s${i}`);
    c.crash('n2');
    c.boot(c.slots.get('n2')!);
    await c.runUntil(
      () => c.trace.lines().some((l) => l.includes('replayed the log')),
      10_000,
      'n2 replayed its log',
    );
    const line = (msg: string): Record<string, unknown> =>
      JSON.parse(
        c.trace
          .lines()
          .filter((l) => l.includes('"n":"n2"') && l.includes(`"msg":"${msg}`))
          .at(-1)!
          .replace(/^[^{]*/, ''),
      ) as Record<string, unknown>;
    const started = line('started');
    // (No snapshot taken yet: every sequence comes back through the replay.)
    expect(started['sequences']).toBe(0);
    expect(typeof started['loadMs']).toBe('number');
    expect(typeof started['decodeMs']).toBe('number');
    const replayed = line('replayed the log up to the commit index it started with');
    expect(replayed['entries']).toBeGreaterThan(5);
    expect(replayed['entries']).toBeLessThanOrEqual(started['commit'] as number);
    expect(c.host('n2')!.sm.sequenceCount).toBe(5);
  });

  it('an emptied member never verifies: it refuses to run once it caught up', async () => {
    const c = await cluster();
    const leader = c.leader()!;
    const victim = IDS.find((id) => id !== leader)!;
    await c.runUntil(() => c.host(victim)?.isVerified === true, 10_000, 'the member verified');
    const slot = c.slots.get(victim)!;
    c.crash(victim);
    slot.storage = c.newStorage(victim); // same bootstrap flags, empty directory
    c.boot(slot);
    await c.runUntil(() => slot.state === 'refused', 20_000, 'the emptied member refuses');
    expect(c.trace.lines().some((l) => l.includes('was lost or replaced'))).toBe(true);
  });
});

describe('membership', () => {
  it('a member removed and added back with an empty directory is not refused while it replays its old record', async () => {
    const c = await cluster();
    const leader = c.leader()!;
    const victim = IDS.find((id) => id !== leader)!;
    await next(c, 'a');
    // Its record (incarnation, address) is in the log once it registered.
    await c.runUntil(
      () => c.host(leader)?.sm.member(victim) !== undefined,
      10_000,
      'the member registered',
    );
    const removed = await c.settleOn(
      c.call('Cluster', 'RemoveMember', { id: victim, force: true }, { start: addressOf(leader) }),
    );
    expect(removed.outcome.code).toBe(0);
    const slot = c.slots.get(victim)!;
    c.crash(victim);
    slot.storage = c.newStorage(victim);
    slot.initialCluster = null;
    c.boot(slot);
    const added = await c.settleOn(
      c.call('Cluster', 'AddMember', {
        id: victim,
        address: addressOf(victim),
        advertise: addressOf(victim),
      }),
    );
    expect(added.outcome.code).toBe(0);
    await c.runUntil(
      () => c.host(leader)?.status().conf.voters.includes(victim) === true,
      20_000,
      'the member is a voter again',
    );
    await c.runFor(3_000);
    expect(slot.state).toBe('up');
  });

  it('a member whose log lags behind a join still answers the new member', async () => {
    const c = await cluster();
    const ids = [...IDS];
    const lagging = ids.find((id) => id !== c.leader())!;
    const other = ids.find((id) => id !== c.leader() && id !== lagging)!;
    // n4 joins and the old leader leaves while `lagging` hears nothing.
    c.net.isolate(lagging, ids);
    const n4 = c.addSlot('n4', null);
    c.boot(n4);
    const add = await c.settleOn(
      c.call('Cluster', 'AddMember', {
        id: 'n4',
        address: addressOf('n4'),
        advertise: addressOf('n4'),
      }),
    );
    expect(add.outcome.code).toBe(0);
    await c.runUntil(
      () => c.host(c.leaders()[0]!.id)?.status().conf.voters.includes('n4') === true,
      20_000,
      'n4 is a voter',
    );
    const oldLeader = c.leaders()[0]!.id;
    const rm = await c.settleOn(c.call('Cluster', 'RemoveMember', { id: oldLeader, force: true }));
    expect(rm.outcome.code).toBe(0);
    await c.runUntil(() => c.leader() !== null && c.leader() !== oldLeader, 20_000, 'a new leader');
    // Now only n4 (or `other`) and `lagging` can form a quorum; `lagging`
    // knows nothing of n4 from its log.
    c.crash(oldLeader);
    c.crash(c.leader() === 'n4' ? other : c.leader()!);
    c.net.heal();
    await c.runUntil(() => c.leader() !== null, 30_000, 'a leader elected with the lagging member');
  });
});

describe('the Ready driver after an event-loop stall (defect 2)', () => {
  /** A clock whose time moves only when the test says; timers fire only when run(). */
  it('dates a message by the clock, not by ticks that have not caught up yet', async () => {
    const clock = manualClock();
    const sent: Message[] = [];
    const { raft, driver } = memberN2(clock, sent);
    driver.start();
    // The event loop stalls for 2 s; a heartbeat of leader n1 waited in the
    // queue and runs first, then the timers catch up.
    clock.advance(2_000);
    driver.onPeerMessage({
      type: 'heartbeat',
      from: 'n1',
      to: 'n2',
      term: 2,
      commit: 1,
      sentTick: 0,
    });
    clock.run();
    await new Promise((r) => setImmediate(r));
    sent.length = 0;
    // It heard from the leader just now: it must not help another candidate.
    driver.onPeerMessage(preVoteOfN3);
    await new Promise((r) => setImmediate(r));
    // (Inside the lease window the pre-vote is ignored, as etcd does; the
    // defect answered it with a grant.)
    expect(sent.filter((m) => m.type === 'pre-vote-resp' && m.granted)).toEqual([]);
    expect(raft.status()).toMatchObject({ role: 'follower', leader: 'n1' });
  });
});

describe('a restart', () => {
  it('counts its election timeout from when it opened its storage, and no earlier', async () => {
    const granted = (sent: Message[]): boolean =>
      sent.some((m) => m.type === 'pre-vote-resp' && m.granted);
    // Opened its storage 1.5 s before it starts ticking (a large state to
    // read and decode): an election timeout has passed since anything the
    // process before it sent, so it may vote at once.
    const clock = manualClock();
    const sent: Message[] = [];
    const { driver } = memberN2(clock, sent, clock.now());
    clock.advance(1_500);
    driver.start();
    driver.onPeerMessage(preVoteOfN3);
    await new Promise((r) => setImmediate(r));
    expect(granted(sent)).toBe(true);
    // Opened 0.5 s before: it still refuses until a whole election timeout
    // after that (the previous process may have acknowledged a leader just
    // before it stopped, and that leader's lease counts on this refusal).
    const clock2 = manualClock();
    const sent2: Message[] = [];
    const { driver: late } = memberN2(clock2, sent2, clock2.now());
    clock2.advance(500);
    late.start();
    clock2.advance(400);
    late.onPeerMessage(preVoteOfN3);
    await new Promise((r) => setImmediate(r));
    expect(granted(sent2)).toBe(false);
    clock2.advance(200);
    late.onPeerMessage(preVoteOfN3);
    await new Promise((r) => setImmediate(r));
    expect(granted(sent2)).toBe(true);
  });
});

describe('--max-sequences', () => {
  it('refuses a new sequence past the limit, by Next and by AdvanceSequence alike', async () => {
    const c = await cluster(IDS, 2);
    expect(await next(c, 'a')).toBe(1n);
    expect(await next(c, 'b')).toBe(1n);
    const refusedNext = await c.settleOn(c.call('Sequencer', 'Next', { sequence: 'c', count: 1 }));
    expect(refusedNext.outcome.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(refusedNext.outcome.details).toContain('max-sequences');
    const refusedAdvance = await c.settleOn(
      c.call('Cluster', 'AdvanceSequence', { name: 'c', to: '10' }),
    );
    expect(refusedAdvance.outcome.code).toBe(8);
    // Sequences that exist are still served and advanced; 'c' was never created.
    const advanced = await c.settleOn(
      c.call('Cluster', 'AdvanceSequence', { name: 'a', to: '50' }),
    );
    expect(advanced.outcome.code).toBe(0);
    expect(await next(c, 'a')).toBe(50n);
    expect(c.host(c.leader()!)?.sequenceInfo('c')).toBeNull();
  });
});
