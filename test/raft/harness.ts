// A tiny synchronous cluster for paper and interaction tests: each node's
// Readies are persisted instantly (unless the node is told to hold them),
// messages sit in a queue until delivered, and nothing happens unless a test
// says so.

import type { RaftNode } from '../../src/raft/index.js';
import {
  bootstrapState,
  emptyState,
  type Entry,
  type InitialState,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type Rng,
  type Snapshot,
} from '../../src/raft/index.js';
import { Prng } from '../support/prng.js';
import { createRaftNode, type CoreMutant } from '../sim/core-mutants.js';

/** A node's settings in this harness: the core's (without id and rng), and a test-only mutant. */
export type HarnessConfig = Omit<RaftConfig, 'id' | 'rng'> & { mutant?: CoreMutant };

/** The tests' seeded PRNG as the core's Rng (election timeout jitter). */
export function seededRng(seed: number): Rng {
  return new Prng(seed);
}

export interface Durable {
  hardState: InitialState['hardState'];
  snapshot: Snapshot;
  entries: Entry[];
}

export class TestNode {
  raft: RaftNode;
  durable: Durable;
  applied: Entry[] = [];
  appliedSnapshot: Snapshot | null = null;
  /** Readies taken but not yet persisted (when holding). */
  held: Ready[] = [];
  holdPersist = false;

  constructor(
    readonly id: NodeId,
    private readonly cfg: HarnessConfig,
    initial: InitialState,
    readonly seed: number,
  ) {
    this.durable = {
      hardState: { ...initial.hardState },
      snapshot: initial.snapshot,
      entries: initial.entries.slice(),
    };
    this.raft = TestNode.create(cfg, id, seed, initial);
  }

  private static create(
    cfg: HarnessConfig,
    id: NodeId,
    seed: number,
    initial: InitialState,
  ): RaftNode {
    const { mutant, ...core } = cfg;
    return createRaftNode({ ...core, id, rng: seededRng(seed) }, initial, mutant);
  }

  /** Lose everything not persisted and start again from the durable copy. */
  restart(): void {
    this.held = [];
    this.applied = [];
    this.appliedSnapshot = null;
    this.raft = TestNode.create(this.cfg, this.id, this.seed + 1000, {
      hardState: { ...this.durable.hardState },
      snapshot: this.durable.snapshot,
      entries: this.durable.entries.slice(),
    });
  }

  persist(rd: Ready): void {
    const d = this.durable;
    if (rd.snapshot) {
      d.snapshot = rd.snapshot;
      d.entries = [];
    }
    if (rd.compacted) {
      const idx = rd.compacted.meta.index;
      d.entries = d.entries.filter((e) => e.index > idx);
      d.snapshot = rd.compacted;
    }
    if (rd.entries.length > 0) {
      const first = (rd.entries[0] as Entry).index;
      d.entries = d.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) d.hardState = { ...rd.hardState };
  }
}

export class Cluster {
  nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Links that drop messages: "a->b". */
  cut = new Set<string>();
  log: string[] = [];

  constructor(ids: NodeId[], cfg: Partial<HarnessConfig> = {}, seed = 1) {
    const full = { electionTick: 10, heartbeatTick: 1, ...cfg };
    ids.forEach((id, i) => {
      this.nodes.set(
        id,
        new TestNode(id, full, bootstrapState(ids, new Uint8Array([0])), seed * 100 + i),
      );
    });
    this.cfg = full;
    this.seed = seed;
  }
  private readonly cfg: HarnessConfig;
  private readonly seed: number;

  /**
   * Makes every node a member of a cluster that has already run: each holds
   * one entry past the bootstrap snapshot (2@1). Elections then need a
   * majority; at the bootstrap point the first election needs every voter.
   */
  pastBootstrap(): this {
    const ids = [...this.nodes.keys()];
    for (const id of ids) this.setState(id, stateWithLog(ids, [1]));
    return this;
  }

  /** This cluster's node configuration (without id and rng). */
  config(): HarnessConfig {
    return this.cfg;
  }

  /**
   * Replace node `id` with one started from `initial` (for tests that need
   * particular logs, as etcd's paper tests build them). The node starts at
   * tick 0 like every other node.
   */
  setState(id: NodeId, initial: InitialState): TestNode {
    const seed = this.node(id).seed;
    const n = new TestNode(id, this.cfg, initial, seed);
    this.nodes.set(id, n);
    return n;
  }

  /**
   * Every node refuses to vote for electionTick ticks after it starts. Tick
   * every node past that window and drop whatever the ticks produced.
   */
  passStartWindow(): void {
    for (const n of this.nodes.values())
      for (let i = 0; i < this.cfg.electionTick; i++) n.raft.tick();
    this.processReadies();
    this.queue = [];
  }

  addEmptyNode(id: NodeId): TestNode {
    const n = new TestNode(id, this.cfg, emptyState(), this.seed * 100 + 50 + this.nodes.size);
    this.nodes.set(id, n);
    return n;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): RaftNode {
    return this.node(id).raft;
  }

  /** Process every node's Ready: persist (unless held), queue messages, apply. */
  processReadies(): void {
    for (const n of this.nodes.values()) this.processNode(n);
  }

  /** Process one node's Readies; returns the messages it queued. */
  processNode(n: TestNode): Message[] {
    const out: Message[] = [];
    while (n.raft.hasReady()) {
      const rd = n.raft.ready();
      out.push(...rd.messages);
      this.queue.push(...rd.messages);
      if (n.holdPersist) {
        n.held.push(rd);
        continue;
      }
      out.push(...this.finish(n, rd));
    }
    return out;
  }

  private finish(n: TestNode, rd: Ready): Message[] {
    n.persist(rd);
    this.queue.push(...rd.persistedMessages);
    n.raft.advance(rd);
    if (rd.snapshot) {
      n.appliedSnapshot = rd.snapshot;
      n.applied = [];
    }
    n.applied.push(...rd.committedEntries);
    return rd.persistedMessages;
  }

  releaseHeld(id: NodeId): Message[] {
    const n = this.node(id);
    n.holdPersist = false;
    const out: Message[] = [];
    for (const rd of n.held.splice(0)) out.push(...this.finish(n, rd));
    return out;
  }

  /** Deliver queued messages (optionally only those matching) once. */
  deliver(filter: (m: Message) => boolean = () => true): number {
    this.processReadies();
    const now = this.queue;
    this.queue = [];
    let count = 0;
    for (const m of now) {
      if (!filter(m)) {
        this.queue.push(m);
        continue;
      }
      count++;
      if (this.cut.has(`${m.from}->${m.to}`)) continue;
      const target = this.nodes.get(m.to);
      if (target) target.raft.step(m);
    }
    this.processReadies();
    return count;
  }

  /** Deliver until no message is left. */
  stabilize(maxRounds = 200): void {
    for (let i = 0; i < maxRounds; i++) {
      this.processReadies();
      if (this.queue.length === 0) return;
      this.deliver();
    }
    throw new Error('cluster did not stabilize');
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.raft(id).tick();
    this.processReadies();
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const node of this.nodes.values()) node.raft.tick();
    this.processReadies();
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Elect `id` through a normal (pre-vote + vote) election. */
  elect(id: NodeId): void {
    // Let every node's "heard from a leader" window pass first.
    for (const n of this.nodes.values()) for (let i = 0; i < 10; i++) n.raft.tick();
    // Draining ticks can start elections elsewhere; clear them out.
    this.queue = [];
    this.raft(id).campaign();
    this.stabilize();
    const st = this.raft(id).status();
    if (st.role !== 'leader') throw new Error(`${id} did not win: ${st.role} term ${st.term}`);
  }

  leader(): NodeId | null {
    const leaders = [...this.nodes.values()].filter((n) => n.raft.status().role === 'leader');
    if (leaders.length === 0) return null;
    return (leaders.sort((a, b) => b.raft.status().term - a.raft.status().term)[0] as TestNode).id;
  }
}

/** Entries with consecutive indexes from `first`, one per term in `terms`. */
export function entries(first: number, terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    index: first + i,
    term,
    type: 'normal' as const,
    data: new TextEncoder().encode(`e${first + i}@${term}`),
  }));
}

/**
 * A member of a cluster bootstrapped with `voters` (snapshot at 1/1) whose
 * log continues with one entry per term in `terms` (from index 2).
 */
export function stateWithLog(
  voters: NodeId[],
  terms: number[],
  hard: { term?: number; vote?: NodeId | null; commit?: number } = {},
): InitialState {
  const base = bootstrapState(voters, new Uint8Array([0]));
  const ents = entries(2, terms);
  const lastTerm = ents.length > 0 ? (ents[ents.length - 1] as Entry).term : 1;
  return {
    hardState: {
      term: hard.term ?? lastTerm,
      vote: hard.vote ?? null,
      commit: hard.commit ?? 1,
    },
    snapshot: base.snapshot,
    entries: ents,
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
