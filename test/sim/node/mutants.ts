// Node-level mutants: test-only subclasses of the runtime's parts, each
// re-introducing one known defect, injected through NodeDeps.classes (or the
// storage's start-up check). The simulator's checkers must catch every one
// within NODE_MUTANT_SEED_BUDGET seeds:
//   npm run sim -- --world node --mutant NAME
// Production code carries no mutant branches; it only exposes the seams
// (injectable classes, protected methods) these subclasses override.

import { Allocator, type AllocatorOptions, type Seal } from '../../../src/state/allocator.js';
import { ReadyDriver } from '../../../src/node/driver.js';
import type { NodeClasses } from '../../../src/node/host.js';
import { Leadership } from '../../../src/node/leadership.js';
import type { Message, NodeId } from '../../../src/raft/index.js';
import { SequenceStateMachine } from '../../../src/state/machine.js';
import type { mustSync } from '../../../src/storage/plan.js';
import type { checkWatermark } from '../../../src/storage/watermark.js';

export interface NodeMutant {
  name: string;
  /** The defect it re-introduces. */
  what: string;
  classes?: Partial<NodeClasses>;
  checkDurable?: typeof checkWatermark;
  mustSync?: typeof mustSync;
}

/** Defect 1: a late resume unseals whatever seal is in force... */
class UnsealAnyAllocator extends Allocator {
  private latest = 0;
  override seal(): Seal | null {
    const s = super.seal();
    if (s !== null) this.latest = s.generation;
    return s;
  }
  override unseal(): boolean {
    return super.unseal(this.latest);
  }
}

/** ...and hand-overs overlap instead of running one at a time. */
class OverlappingLeadership extends Leadership {
  override handOver(to: NodeId | null, timeoutMs: number): Promise<NodeId | null> {
    return this.handOverNow(to, this.o.clock.now() + timeoutMs);
  }
}

/** Defect 2: a peer message is stepped at the stale tick count after a stall. */
class StaleTickDriver extends ReadyDriver {
  private stepping = false;
  override onPeerMessage(m: Message): void {
    this.stepping = true;
    try {
      super.onPeerMessage(m);
    } finally {
      this.stepping = false;
    }
  }
  protected override catchUpTicks(): void {
    if (!this.stepping) super.catchUpTicks();
  }
}

/** A leader serves an inherited sequence before a reservation of its term touched it. */
class UntouchedServedSm extends SequenceStateMachine {
  override touchedInEpoch(): boolean {
    return true;
  }
}

/** The leader answers without checking its lease. */
class NoLeaseAllocator extends Allocator {
  constructor(opts: AllocatorOptions) {
    super({ ...opts, leaseValid: () => true });
  }
}

/** A hand-over is recorded while the leader keeps serving. */
class UnsealedHandoverAllocator extends Allocator {
  override seal(): Seal | null {
    const s = super.seal();
    if (s !== null) super.unseal(s.generation);
    return s;
  }
}

export const NODE_MUTANTS: readonly NodeMutant[] = [
  {
    name: 'unseal-ignores-newer-seal',
    what: 'overlapping hand-overs; a late resume unseals a newer seal (defect 1)',
    classes: { Allocator: UnsealAnyAllocator, Leadership: OverlappingLeadership },
  },
  {
    name: 'step-before-tick-catch-up',
    what: 'peer messages stepped before ticks catch up after a stall (defect 2)',
    classes: { ReadyDriver: StaleTickDriver },
  },
  {
    name: 'serve-inherited-before-touch',
    what: 'an inherited sequence served before a reservation of this term touched it',
    classes: { SequenceStateMachine: UntouchedServedSm },
  },
  {
    name: 'skip-lease-check',
    what: 'the leader answers without a valid lease',
    classes: { Allocator: NoLeaseAllocator },
  },
  {
    name: 'handover-without-seal',
    what: 'a hand-over is recorded while the leader keeps serving',
    classes: { Allocator: UnsealedHandoverAllocator },
  },
  {
    name: 'start-behind-watermark',
    what: 'a store that lost records on recovery starts anyway (defect 5)',
    checkDurable: () => {},
  },
  {
    name: 'fsync-nothing',
    what: 'every persist is written without an fsync: a power loss drops entries and votes',
    mustSync: () => false,
  },
];

export function nodeMutant(name: string): NodeMutant {
  const m = NODE_MUTANTS.find((x) => x.name === name);
  if (m === undefined) throw new Error(`unknown node mutant ${name}`);
  return m;
}
