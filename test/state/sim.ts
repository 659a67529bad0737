// A small in-process cluster for the state machine and the allocator: one
// global committed log (Raft itself is simulated, not run), a node per member
// with its own SequenceStateMachine and Allocator, and a proposer that commits
// through the real state machine. The test drives it with explicit operations
// so that apply lag, lost uncommitted entries, crashes, stale (partitioned)
// leaders and graceful transfers interleave with requests.
//
// The history of successful Next answers is checked afterwards (checkHistory).

import { Allocator } from '../../src/state/allocator.js';
import { decodeCommand, encodeCommand } from '../../src/state/commands.js';
import type { Command } from '../../src/state/commands.js';
import { SequenceStateMachine, bootstrapData } from '../../src/state/machine.js';
import type { ApplyEntry } from '../../src/state/machine.js';

export type SmFactory = (snapshot: Uint8Array) => SequenceStateMachine;

export const realSm: SmFactory = (snap) => SequenceStateMachine.restore(snap);

export interface Served {
  sequence: string;
  first: bigint;
  last: bigint;
  node: number;
  term: number;
  /** Event clock at send and at completion (for the real-time order check). */
  sentAt: number;
  doneAt: number;
}

interface Pending {
  data: Uint8Array;
  term: number;
  node: SimNode;
  resolve: () => void;
  reject: (e: unknown) => void;
}

class SimNode {
  sm: SequenceStateMachine;
  alloc!: Allocator;
  /** Partitioned stale leader: applies nothing new and is not told it lost. */
  stale = false;
  snap: Uint8Array;
  /** Proposals waiting for this node to apply their index. */
  waiting: { index: number; resolve: () => void }[] = [];
  /** Bumped on crash so that a dead process's late answers are not recorded. */
  incarnation = 0;

  constructor(
    readonly id: number,
    private readonly cluster: Cluster,
    bootstrap: Uint8Array,
  ) {
    this.snap = bootstrap;
    this.sm = cluster.smFactory(bootstrap);
    this.newAllocator();
  }

  newAllocator(): void {
    this.alloc = new this.cluster.allocatorClass({
      sm: this.sm,
      propose: (cmd) => this.cluster.propose(this, cmd),
      now: () => this.cluster.clock,
      leaseValid: () => this.cluster.leaseValid(this),
      ...this.cluster.allocatorOptions,
    });
  }
}

export interface ClusterOptions {
  nodes?: number;
  smFactory?: SmFactory;
  allocatorOptions?: { minBlock?: number; maxBlock?: number; targetSeconds?: number };
  /** A test-only subclass (mutant) instead of the real Allocator. */
  allocatorClass?: typeof Allocator;
}

export class Cluster {
  readonly log: ApplyEntry[] = [];
  readonly nodes: SimNode[] = [];
  readonly smFactory: SmFactory;
  readonly allocatorOptions: ClusterOptions['allocatorOptions'];
  readonly allocatorClass: typeof Allocator;
  pending: Pending[] = [];
  term = 0;
  leader: SimNode | null = null;
  clock = 0;
  events = 0;
  readonly served: Served[] = [];
  /** Highest committed upTo per sequence: nothing may be served above it. */
  readonly committedTop = new Map<string, bigint>();
  readonly violations: string[] = [];
  hadStaleLeader = false;
  leaseOk = true;
  private readonly inflight: Promise<unknown>[] = [];
  proposals = 0;
  /** Failed requests by error name (and NotLeaderError reason). */
  readonly failures = new Map<string, number>();

  constructor(opts: ClusterOptions = {}) {
    this.smFactory = opts.smFactory ?? realSm;
    this.allocatorOptions = opts.allocatorOptions ?? {};
    this.allocatorClass = opts.allocatorClass ?? Allocator;
    const members = new Map<string, string>();
    const n = opts.nodes ?? 3;
    for (let i = 0; i < n; i++) members.set(`n${i}`, `127.0.0.1:${7001 + i}`);
    const boot = bootstrapData(members);
    for (let i = 0; i < n; i++) this.nodes.push(new SimNode(i, this, boot));
  }

  leaseValid(node: SimNode): boolean {
    return this.leaseOk && (node === this.leader || node.stale);
  }

  propose(node: SimNode, cmd: Command): Promise<void> {
    this.proposals++;
    if (node !== this.leader || node.stale) return Promise.reject(new Error('not leader'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ data: encodeCommand(cmd), term: this.term, node, resolve, reject });
    });
  }

  /** Commit the first n pending entries (in order). */
  commit(n = Infinity): void {
    const batch = this.pending.splice(0, Math.min(n, this.pending.length));
    for (const p of batch) {
      const index = this.log.length + 1;
      this.log.push({ index, term: p.term, type: 'normal', data: p.data });
      this.noteCommitted(p.data);
      p.node.waiting.push({ index, resolve: p.resolve });
    }
  }

  private noteCommitted(data: Uint8Array): void {
    const cmd = decodeCommand(data);
    const items =
      cmd.type === 'reserve'
        ? cmd.items
        : cmd.type === 'advance'
          ? [{ sequence: cmd.sequence, upTo: cmd.to - 1n }]
          : [];
    for (const it of items) {
      const top = this.committedTop.get(it.sequence) ?? 0n;
      if (it.upTo > top) this.committedTop.set(it.sequence, it.upTo);
    }
  }

  /** Node applies up to n more committed entries. */
  apply(node: SimNode, n = Infinity): void {
    if (node.stale) return;
    let budget = n;
    while (budget-- > 0 && node.sm.lastApplied < this.log.length) {
      const e = this.log[node.sm.lastApplied]!;
      node.sm.apply(e);
      node.alloc.onApplied(e.index);
      const done = node.waiting.filter((w) => w.index <= e.index);
      node.waiting = node.waiting.filter((w) => w.index > e.index);
      for (const w of done) w.resolve();
    }
  }

  applyAll(): void {
    for (const node of this.nodes) this.apply(node);
  }

  /**
   * A new leader. mode 'crash': the old leader silently loses leadership and
   * only the first `keep` of its uncommitted entries survive; 'stale': same,
   * but the old leader is partitioned and not told (it keeps serving from
   * what it already has until heal()); 'graceful': the old leader seals, its
   * handover and everything pending commit first.
   */
  elect(nodeId: number, mode: 'crash' | 'stale' | 'graceful', keep = 0): void {
    const old = this.leader;
    if (mode === 'graceful' && old !== null && !old.stale) {
      const { items } = old.alloc.seal()!;
      this.propose(old, { type: 'handover', items }).catch(() => {}); // a lost proposal is a crash's
      this.commit();
      this.apply(old);
    } else {
      this.commit(keep);
    }
    for (const p of this.pending) p.reject(new Error('entry lost in leader change'));
    this.pending = [];
    if (old !== null) {
      if (mode === 'stale') {
        old.stale = true;
        this.hadStaleLeader = true;
      } else {
        old.alloc.stepDown();
      }
    }
    const node = this.nodes[nodeId]!;
    if (node.stale) this.healNode(node);
    this.term++;
    const noopIndex = this.log.length + 1;
    this.log.push({ index: noopIndex, term: this.term, type: 'normal', data: new Uint8Array() });
    this.leader = node;
    node.alloc.becomeLeader(this.term, noopIndex);
  }

  /** A leader's transfer is aborted: seal, hand over, then resume and unseal. */
  abortTransfer(): void {
    const l = this.leader;
    if (l === null || l.stale) return;
    const { items, generation } = l.alloc.seal()!;
    this.propose(l, { type: 'handover', items }).catch(() => {}); // lost like a crash's
    this.commit();
    this.apply(l);
    this.propose(l, { type: 'resume' }).catch(() => {}); // lost like a crash's
    this.commit();
    this.apply(l);
    l.alloc.unseal(generation);
  }

  advance(sequence: string, to: bigint): void {
    const l = this.leader;
    if (l === null || l.stale) return;
    this.propose(l, { type: 'advance', sequence, to }).catch(() => {}); // lost like a crash's
  }

  /** kill -9 and restart from the node's last snapshot. */
  crash(nodeId: number): void {
    const node = this.nodes[nodeId]!;
    node.alloc.stepDown();
    node.incarnation++;
    node.waiting = [];
    node.stale = false;
    node.sm = this.smFactory(node.snap);
    node.newAllocator();
    if (this.leader === node) this.leader = null;
  }

  snapshot(nodeId: number): void {
    const node = this.nodes[nodeId]!;
    node.snap = node.sm.snapshot();
  }

  private healNode(node: SimNode): void {
    node.stale = false;
    node.alloc.stepDown();
  }

  heal(): void {
    for (const node of this.nodes) if (node.stale) this.healNode(node);
  }

  request(nodeId: number | 'leader', sequence: string, count: number): void {
    const node = nodeId === 'leader' ? this.leader : this.nodes[nodeId]!;
    if (node === null) return;
    const incarnation = node.incarnation;
    const sentAt = ++this.events;
    const term = node.alloc.term ?? -1;
    const p = node.alloc.next(sequence, count).then(
      (r) => {
        if (node.incarnation !== incarnation) return; // the process died
        const last = r.first + BigInt(r.count) - 1n;
        const top = this.committedTop.get(sequence) ?? 0n;
        if (last > top) {
          this.violations.push(`${sequence} served up to ${last} above committed ${top}`);
        }
        this.served.push({
          sequence,
          first: r.first,
          last,
          node: node.id,
          term,
          sentAt,
          doneAt: ++this.events,
        });
      },
      (e: unknown) => {
        const k =
          e instanceof Error ? `${e.name}:${(e as { reason?: string }).reason ?? ''}` : String(e);
        this.failures.set(k, (this.failures.get(k) ?? 0) + 1);
      },
    );
    this.inflight.push(p);
  }

  /** Let every pending promise chain run (no timers exist in the simulation). */
  async settle(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
  }

  /** End of run: heal, commit and apply everything, step everyone down, settle. */
  async drain(): Promise<void> {
    this.heal();
    this.commit();
    this.applyAll();
    await this.settle();
    this.commit();
    this.applyAll();
    await this.settle();
    for (const n of this.nodes) n.alloc.stepDown();
    for (const p of this.pending) p.reject(new Error('shutdown'));
    this.pending = [];
    await Promise.all(this.inflight);
  }
}

export interface CheckResult {
  overlaps: string[];
  realTime: string[];
  gaps: string[];
}

/**
 * The Jepsen unique-ids check generalised to ranges: no two successful
 * answers of one sequence overlap. Also reports real-time order violations
 * (an answer sent after another completed must lie above it) and gaps
 * (values below the highest served value that nobody got).
 */
export function checkHistory(served: readonly Served[]): CheckResult {
  const out: CheckResult = { overlaps: [], realTime: [], gaps: [] };
  const bySeq = new Map<string, Served[]>();
  for (const s of served) {
    let l = bySeq.get(s.sequence);
    if (l === undefined) bySeq.set(s.sequence, (l = []));
    l.push(s);
  }
  for (const [seq, list] of bySeq) {
    const sorted = [...list].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let expect = 1n;
    for (let i = 0; i < sorted.length; i++) {
      const s = sorted[i]!;
      if (i > 0 && s.first <= sorted[i - 1]!.last) {
        const p = sorted[i - 1]!;
        out.overlaps.push(
          `${seq}: [${p.first},${p.last}] (node ${p.node}, term ${p.term}) overlaps ` +
            `[${s.first},${s.last}] (node ${s.node}, term ${s.term})`,
        );
      }
      if (s.first > expect) out.gaps.push(`${seq}: ${expect}..${s.first - 1n} never served`);
      if (s.last + 1n > expect) expect = s.last + 1n;
    }
    for (const a of list) {
      for (const b of list) {
        if (a.doneAt < b.sentAt && b.first <= a.last) {
          out.realTime.push(
            `${seq}: [${b.first},${b.last}] sent after [${a.first},${a.last}] completed`,
          );
        }
      }
    }
  }
  return out;
}
