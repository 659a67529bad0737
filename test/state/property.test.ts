// Property tests: random interleavings of requests, commits, apply lag, leader
// changes (crash, stale partitioned leader, graceful transfer), aborted
// transfers, crashes with restore from snapshot, advances and lease loss.
// The checker (sim.ts checkHistory) must find nothing — and must find the
// overlap when the state machine is deliberately broken.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator, type Seal } from '../../src/state/allocator.js';
import type { HandoverItem } from '../../src/state/commands.js';
import { SequenceStateMachine } from '../../src/state/machine.js';
import { Cluster, checkHistory } from './sim.js';
import type { SmFactory } from './sim.js';

const NODES = 3;
const SEQS = ['a', 'b', 'c'];

type Op =
  | { t: 'req'; seq: number; count: number; target: 'leader' | 'stale' }
  | { t: 'commit'; n: number }
  | { t: 'apply'; node: number; n: number }
  | { t: 'tick' }
  | { t: 'crash'; node: number }
  | { t: 'snapshot'; node: number }
  | { t: 'abort-transfer' }
  | { t: 'advance'; seq: number; delta: number }
  | { t: 'clock'; ms: number }
  | { t: 'lease-blip' }
  | { t: 'heal' };

type Mode = 'crash' | 'stale' | 'graceful';
interface Elect {
  node: number;
  mode: Mode;
  keep: number;
}

const node = fc.integer({ min: 0, max: NODES - 1 });
const seq = fc.integer({ min: 0, max: SEQS.length - 1 });

function opArb(graceful: boolean): fc.Arbitrary<Op> {
  const ops: fc.WeightedArbitrary<Op>[] = [
    {
      weight: 12,
      arbitrary: fc.record({
        t: fc.constant('req' as const),
        seq,
        count: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 })),
        target: graceful ? fc.constant('leader' as const) : fc.constantFrom('leader', 'stale'),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('commit' as const),
        n: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        t: fc.constant('apply' as const),
        node,
        n: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('tick' as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('crash' as const), node }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('snapshot' as const), node }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('abort-transfer' as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('clock' as const),
        ms: fc.integer({ min: 1, max: 700 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('lease-blip' as const) }) },
  ];
  if (!graceful) {
    ops.push(
      {
        weight: 1,
        arbitrary: fc.record({
          t: fc.constant('advance' as const),
          seq,
          delta: fc.integer({ min: 0, max: 80 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('heal' as const) }) },
    );
  }
  return fc.oneof(...ops);
}

function electArb(graceful: boolean): fc.Arbitrary<Elect> {
  return fc.record({
    node,
    mode: graceful
      ? fc.constant<Mode>('graceful')
      : fc.constantFrom<Mode>('crash', 'stale', 'graceful'),
    keep: fc.integer({ min: 0, max: 3 }),
  });
}

/** At least 10 leader changes, each preceded by a random stretch of operations. */
function scenarioArb(graceful: boolean) {
  return fc.array(
    fc.record({
      ops: fc.array(opArb(graceful), { minLength: 3, maxLength: 25 }),
      elect: electArb(graceful),
    }),
    {
      minLength: 10,
      maxLength: 12,
    },
  );
}

type Scenario = { ops: Op[]; elect: Elect }[];

async function run(
  scenario: Scenario,
  graceful: boolean,
  mutant: { smFactory?: SmFactory; allocatorClass?: typeof Allocator } = {},
) {
  const c = new Cluster({ nodes: NODES, ...mutant });
  c.elect(0, 'crash');
  const step = async (op: Op) => {
    switch (op.t) {
      case 'req': {
        const stale = c.nodes.find((n) => n.stale);
        c.request(op.target === 'stale' && stale ? stale.id : 'leader', SEQS[op.seq]!, op.count);
        break;
      }
      case 'commit':
        c.commit(op.n);
        break;
      case 'apply':
        c.apply(c.nodes[op.node]!, op.n);
        break;
      case 'tick':
        c.commit();
        c.applyAll();
        break;
      case 'crash':
        // In the graceful scenario only followers crash (a leader crash is not graceful).
        if (!graceful || c.nodes[op.node] !== c.leader) c.crash(op.node);
        break;
      case 'snapshot':
        c.snapshot(op.node);
        break;
      case 'abort-transfer':
        c.abortTransfer();
        break;
      case 'advance': {
        const l = c.leader;
        if (l !== null)
          c.advance(SEQS[op.seq]!, l.sm.reservedUpTo(SEQS[op.seq]!) + BigInt(op.delta) + 1n);
        break;
      }
      case 'clock':
        c.clock += op.ms;
        break;
      case 'lease-blip':
        // The lease is invalid while everything that is ready to answer answers.
        c.commit();
        c.applyAll();
        c.leaseOk = false;
        await c.settle();
        c.leaseOk = true;
        break;
      case 'heal':
        c.heal();
        break;
    }
    await c.settle();
  };
  for (const chunk of scenario) {
    for (const op of chunk.ops) await step(op);
    c.elect(chunk.elect.node, chunk.elect.mode, chunk.elect.keep);
    await c.settle();
  }
  // Let the last leader serve too.
  for (let i = 0; i < 6; i++) {
    await step({ t: 'req', seq: i % SEQS.length, count: 3, target: 'leader' });
    await step({ t: 'tick' });
  }
  await c.drain();
  return { cluster: c, check: checkHistory(c.served) };
}

describe('no value is served twice across leader changes (property)', () => {
  it('random interleavings with crash, stale-leader and graceful changes: no overlap, durable', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(false), async (scenario) => {
        const { cluster, check } = await run(scenario, false);
        expect(check.overlaps).toEqual([]);
        expect(cluster.violations).toEqual([]);
        if (!cluster.hadStaleLeader) expect(check.realTime).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('graceful transfers only (handover): no overlap, no gap, real-time order', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(true), async (scenario) => {
        const { cluster, check } = await run(scenario, true);
        expect(check.overlaps).toEqual([]);
        expect(check.gaps).toEqual([]);
        expect(check.realTime).toEqual([]);
        expect(cluster.violations).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('the runs actually serve values across many terms (the property is not vacuous)', async () => {
    const scenarios = fc.sample(scenarioArb(false), { numRuns: 20, seed: 7 });
    let served = 0;
    const terms = new Set<number>();
    for (const s of scenarios) {
      const { cluster } = await run(s, false);
      served += cluster.served.length;
      for (const x of cluster.served) terms.add(x.term);
    }
    expect(served).toBeGreaterThan(200);
    expect(terms.size).toBeGreaterThanOrEqual(10);
  });
});

// --- The checker must be shown to fail: deliberately broken state machines. ---

/** startFor ignores `reserved`: a new leader restarts at 1 (or the handover value). */
class IgnoresReservedSm extends SequenceStateMachine {
  override startFor(sequence: string): bigint {
    return this.inheritedHandover()?.get(sequence) ?? 1n;
  }
}

/** Off by one: a crashed leader's last reserved value is the next leader's first. */
class OffByOneSm extends SequenceStateMachine {
  override startFor(sequence: string): bigint {
    const v = super.startFor(sequence);
    return this.inheritedHandover()?.has(sequence) || v === 1n ? v : v - 1n;
  }
}

/**
 * The allocator serves an inherited sequence from the previous leader's block
 * before a reservation of its own term touched it, while the state machine
 * still passes the inherited exact value on if this leader crashes.
 */
class ServesUntouchedSm extends SequenceStateMachine {
  override touchedInEpoch(): boolean {
    return true;
  }
}

function mutantFactory(M: typeof SequenceStateMachine): SmFactory {
  return (snap) => {
    const sm = new M();
    sm.load(snap);
    return sm;
  };
}

/** The allocator hands over one value too low: the next leader repeats it. */
class LowHandoverAllocator extends Allocator {
  override seal(): Seal | null {
    const s = super.seal();
    if (s === null) return null;
    const items: HandoverItem[] = s.items.map((i) => ({
      ...i,
      next: i.next > 1n ? i.next - 1n : i.next,
    }));
    return { ...s, items };
  }
}

describe('the overlap checker catches broken variants (mutants)', () => {
  for (const [name, mutant] of [
    ['startFor ignores reserved', { smFactory: mutantFactory(IgnoresReservedSm) }],
    ['startFor off by one', { smFactory: mutantFactory(OffByOneSm) }],
    ['handover one value too low', { allocatorClass: LowHandoverAllocator }],
    [
      'serves an inherited sequence before touching it',
      { smFactory: mutantFactory(ServesUntouchedSm) },
    ],
  ] as const) {
    it(`catches: ${name}`, async () => {
      const result = await fc.check(
        fc.asyncProperty(scenarioArb(false), async (scenario) => {
          const { check } = await run(scenario, false, mutant);
          return check.overlaps.length === 0;
        }),
        { numRuns: 300, seed: 42, endOnFailure: true },
      );
      expect(result.failed).toBe(true);
    });
  }
});
