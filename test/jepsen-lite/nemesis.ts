// Nemeses of jepsen-lite: each one starts a fault and returns how to end it.
// A scenario alternates healthy phases and fault phases of one nemesis (or,
// for `random`, of one picked at random each time); every phase is recorded
// with monotonic times on the history's clock, so the checker can compute
// availability and skipped values per phase and the plot can shade it.

import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/index.js';
import { now } from '../support/history.js';
import type { Prng } from '../support/prng.js';
import type { DockerCluster } from './cluster.js';
import { loseMajority, restoreFromBackup } from './recovery.js';

export interface Phase {
  /** healthy, or the nemesis's name. */
  name: string;
  /** What exactly was done, for people: "partition {n1,n2}|{n3,n4,n5}". */
  label: string;
  fault: boolean;
  /** Monotonic ns (same clock as the history). */
  from: bigint;
  to: bigint;
  /** Extra facts (admin op results, who was killed...). */
  notes: string[];
}

export interface FaultCtx {
  cluster: DockerCluster;
  /** Every random choice of the nemeses (seeded: a run's seed replays them). */
  rng: Prng;
  log: (msg: string) => void;
  /** Ids for new members (membership nemesis): n6, n7, ... */
  nextSpareId: () => string;
}

export interface ActiveFault {
  label: string;
  notes: string[];
  /** Ends the fault (heal / restart / resume). */
  end(): Promise<void>;
}

export type Nemesis = (ctx: FaultCtx) => Promise<ActiveFault>;

const fmt = (xs: readonly string[]): string => `{${[...xs].sort().join(',')}}`;

function liveIds(ctx: FaultCtx): string[] {
  return ctx.cluster.members.filter((n) => n.up).map((n) => n.id);
}

async function leaderOrRandom(ctx: FaultCtx): Promise<string> {
  const l = await ctx.cluster.leader();
  if (l !== null) return l;
  const ids = liveIds(ctx);
  return ctx.rng.pick(ids);
}

const heal = (ctx: FaultCtx) => async (): Promise<void> => {
  await ctx.cluster.heal();
};

/** Random halves: a majority and a minority that cannot talk to each other. */
export const partitionHalves: Nemesis = async (ctx) => {
  const ids = ctx.rng.shuffle(liveIds(ctx));
  const k = Math.floor(ids.length / 2);
  const a = ids.slice(0, k);
  const b = ids.slice(k);
  await ctx.cluster.partition([a, b]);
  return { label: `halves ${fmt(a)}|${fmt(b)}`, notes: [], end: heal(ctx) };
};

/** The leader alone on one side. */
export const isolateLeader: Nemesis = async (ctx) => {
  const l = await leaderOrRandom(ctx);
  const rest = liveIds(ctx).filter((x) => x !== l);
  await ctx.cluster.partition([[l], rest]);
  return { label: `isolate leader ${l}`, notes: [], end: heal(ctx) };
};

/**
 * Majorities ring: nodes in a random ring, each linked only to its nearest
 * neighbours, so that every node sees a majority, and every one a different
 * majority (5 nodes: each sees itself and its two neighbours).
 */
export const majoritiesRing: Nemesis = async (ctx) => {
  const ring = ctx.rng.shuffle(liveIds(ctx));
  const n = ring.length;
  const reach = Math.max(1, Math.floor(Math.floor(n / 2) / 2));
  const pairs: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.min(j - i, n - (j - i));
      if (d > reach) pairs.push([ring[i] as string, ring[j] as string]);
    }
  }
  await ctx.cluster.setCut(pairs);
  return { label: `ring ${ring.join('-')}`, notes: [], end: heal(ctx) };
};

/** Two halves that cannot talk, and one node that talks to both. */
export const bridge: Nemesis = async (ctx) => {
  const ids = ctx.rng.shuffle(liveIds(ctx));
  const k = Math.floor((ids.length - 1) / 2);
  const a = ids.slice(0, k);
  const b = ids[k] as string;
  const c = ids.slice(k + 1);
  await ctx.cluster.partition([a, c]);
  return { label: `bridge ${fmt(a)}-${b}-${fmt(c)}`, notes: [], end: heal(ctx) };
};

/** kill -9 a minority (the leader among them half the time), restart them at the end. */
export const kill: Nemesis = async (ctx) => {
  const ids = liveIds(ctx);
  const max = Math.floor((ids.length - 1) / 2);
  const howMany = ctx.rng.range(1, Math.max(1, max));
  const victims = new Set<string>();
  if (ctx.rng.chance(0.5)) victims.add(await leaderOrRandom(ctx));
  for (const id of ctx.rng.shuffle(ids)) if (victims.size < howMany) victims.add(id);
  for (const id of victims) await ctx.cluster.kill(id);
  return {
    label: `kill -9 ${fmt([...victims])}`,
    notes: [],
    async end() {
      for (const id of victims) await ctx.cluster.restart(id);
    },
  };
};

/** SIGSTOP-like pause (cgroup freezer) of one node, the leader half the time. */
export const pause: Nemesis = async (ctx) => {
  const ids = liveIds(ctx);
  const victim = ctx.rng.chance(0.5) ? await leaderOrRandom(ctx) : ctx.rng.pick(ids);
  await ctx.cluster.pause(victim);
  return {
    label: `pause ${victim}`,
    notes: [],
    async end() {
      await ctx.cluster.resume(victim);
    },
  };
};

/**
 * Every node killed at once in the middle of the load, then all restarted:
 * whatever a node had written but not fsynced is at risk, and the cluster
 * must come back without handing out anything twice. (A process kill leaves
 * the kernel's page cache intact, so this cannot lose un-fsynced writes the
 * way a power cut would; it is the closest Docker gets without a faulty FS.)
 */
export const crashAll: Nemesis = async (ctx) => {
  const ids = liveIds(ctx);
  await Promise.all(ids.map((id) => ctx.cluster.kill(id)));
  return {
    label: `kill -9 all ${fmt(ids)}`,
    notes: [],
    async end() {
      await Promise.all(ids.map((id) => ctx.cluster.restart(id)));
    },
  };
};

/**
 * Membership change under a partition: random halves, then remove one member
 * (any, the leader included) and add a brand-new node, through
 * SequenceClient.removeMember / addMember; heal at the end, then reconcile
 * with the leader's member list (an admin call that timed out may still have
 * taken effect) and stop the containers of removed members.
 */
export const membership: Nemesis = async (ctx) => {
  const c = ctx.cluster;
  const ids = ctx.rng.shuffle(liveIds(ctx));
  const k = Math.floor(ids.length / 2);
  const a = ids.slice(0, k);
  const b = ids.slice(k);
  await c.partition([a, b]);
  const notes: string[] = [];
  await sleep(1000);
  const admin = new SequenceClient({
    endpoints: c.endpoints,
    ...c.clientOptions('admin'),
    deadlineMs: 4000,
    attemptTimeoutMs: 800,
  });
  const victim = ctx.rng.pick(ids);
  const t0 = Date.now();
  try {
    await admin.removeMember(victim);
    notes.push(`remove ${victim}: ok in ${Date.now() - t0} ms`);
  } catch (e) {
    notes.push(`remove ${victim}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const spareId = ctx.nextSpareId();
  const spare = await c.startSpare(spareId);
  const t1 = Date.now();
  try {
    await admin.addMember({ id: spareId, address: `${spareId}:7000`, advertise: spare.advertise });
    notes.push(`add ${spareId}: ok in ${Date.now() - t1} ms`);
  } catch (e) {
    notes.push(`add ${spareId}: ${e instanceof Error ? e.message : String(e)}`);
  }
  admin.close();
  for (const n of notes) ctx.log(`  ${n}`);
  return {
    label: `members under ${fmt(a)}|${fmt(b)}: -${victim} +${spareId}`,
    notes,
    async end() {
      await c.heal();
      await reconcileMembers(ctx, notes);
    },
  };
};

/** Marks members the leader no longer lists as removed (and stops them). */
export async function reconcileMembers(ctx: FaultCtx, notes: string[]): Promise<void> {
  const c = ctx.cluster;
  const deadline = Date.now() + 10_000;
  const admin = new SequenceClient({
    endpoints: c.endpoints,
    ...c.clientOptions('admin'),
    deadlineMs: 3000,
    attemptTimeoutMs: 800,
  });
  try {
    for (;;) {
      try {
        const st = await admin.clusterStatus();
        if (st.role === 'leader') {
          const listed = new Set(st.members.map((m) => m.id));
          for (const n of c.nodes) {
            const was = n.removed;
            n.removed = !listed.has(n.id);
            if (n.removed && !was) {
              notes.push(`${n.id} no longer a member: stopped`);
              if (n.up) await c.kill(n.id);
            }
          }
          notes.push(
            `members now ${st.members.map((m) => `${m.id}:${m.role}`).join(',')} (term ${st.term})`,
          );
          return;
        }
      } catch {
        // try again
      }
      if (Date.now() > deadline) {
        notes.push('reconcile: no leader answered within 10 s');
        return;
      }
      await sleep(200);
    }
  } finally {
    admin.close();
  }
}

/**
 * Hand-overs under trouble, the way operators and retrying CLIs cause them:
 * with one follower paused, transfer leadership, then remove the leader and
 * add it back with an empty data directory. Each request is sent twice, the
 * second around the moment the first one's 3 s attempt times out (an
 * operator retrying), sometimes to another node. Every value must stay
 * unique and in real-time order; hand-overs that complete skip nothing.
 */
export const handover: Nemesis = async (ctx) => {
  const c = ctx.cluster;
  const leader = await leaderOrRandom(ctx);
  const followers = liveIds(ctx).filter((id) => id !== leader);
  const paused = ctx.rng.pick(followers);
  await c.pause(paused);
  const notes: string[] = [];
  const admin = (): SequenceClient =>
    new SequenceClient({
      endpoints: c.endpoints,
      ...c.clientOptions('admin'),
      deadlineMs: 8000,
      attemptTimeoutMs: 3000,
    });
  /** `op` now, and again about when the first attempt times out; both awaited. */
  const twice = async (
    what: string,
    op: (a: SequenceClient) => Promise<unknown>,
  ): Promise<void> => {
    const run = async (n: number): Promise<void> => {
      const a = admin();
      const t0 = Date.now();
      try {
        await op(a);
        notes.push(`${what} #${n}: ok in ${Date.now() - t0} ms`);
      } catch (e) {
        notes.push(`${what} #${n}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        a.close();
      }
    };
    const first = run(1);
    await sleep(2800 + ctx.rng.int(500));
    await Promise.all([first, run(2)]);
  };
  const to = ctx.rng.chance(0.5) ? ctx.rng.pick(followers) : undefined;
  await twice(`transfer to ${to ?? 'any'}`, (a) => a.transferLeadership(to));
  const current = (await c.leader()) ?? leader;
  await twice(`remove leader ${current}`, (a) => a.removeMember(current));
  await c.resume(paused);
  await reconcileMembers(ctx, notes);
  if (c.node(current).removed) {
    const fresh = await c.replace(current);
    await twice(`add ${current} back (empty)`, (a) =>
      a.addMember({ id: current, address: `${current}:7000`, advertise: fresh.advertise }),
    );
  }
  for (const n of notes) ctx.log(`  ${n}`);
  return {
    label: `hand-overs with ${paused} paused: transfer, remove and re-add ${current}`,
    notes,
    async end() {
      await c.heal();
      await reconcileMembers(ctx, notes);
    },
  };
};

export const NEMESES: Record<string, Nemesis> = {
  'partition-halves': partitionHalves,
  'isolate-leader': isolateLeader,
  'majorities-ring': majoritiesRing,
  bridge,
  kill,
  pause,
  'crash-all': crashAll,
  membership,
  handover,
  'lose-majority': loseMajority,
  restore: restoreFromBackup,
};

export interface ScenarioDef {
  /** Nemeses drawn from (one per fault phase). */
  nemeses: string[];
  nodes: number;
  /** Fault and healthy phase lengths (ms). */
  faultMs: number;
  healthyMs: number;
  about: string;
}

export const SCENARIOS: Record<string, ScenarioDef> = {
  'partition-halves': {
    nemeses: ['partition-halves'],
    nodes: 5,
    faultMs: 6000,
    healthyMs: 4000,
    about: 'random halves (2|3) that cannot talk',
  },
  'isolate-leader': {
    nemeses: ['isolate-leader'],
    nodes: 5,
    faultMs: 5000,
    healthyMs: 4000,
    about: 'the current leader cut from every other node',
  },
  'majorities-ring': {
    nemeses: ['majorities-ring'],
    nodes: 5,
    faultMs: 6000,
    healthyMs: 4000,
    about: 'a ring in which every node sees a different majority',
  },
  bridge: {
    nemeses: ['bridge'],
    nodes: 5,
    faultMs: 6000,
    healthyMs: 4000,
    about: 'two halves joined only through one node',
  },
  kill: {
    nemeses: ['kill'],
    nodes: 3,
    faultMs: 4000,
    healthyMs: 4000,
    about: 'kill -9 of a minority (often the leader), restart',
  },
  pause: {
    nemeses: ['pause'],
    nodes: 3,
    faultMs: 4000,
    healthyMs: 4000,
    about: 'docker pause (cgroup freezer, like SIGSTOP) of one node, often the leader',
  },
  'crash-all': {
    nemeses: ['crash-all'],
    nodes: 3,
    faultMs: 1500,
    healthyMs: 5000,
    about: 'every node killed at once under load, then restarted',
  },
  membership: {
    nemeses: ['membership'],
    nodes: 5,
    faultMs: 6000,
    healthyMs: 5000,
    about: 'remove a member and add a new one while the cluster is split in halves',
  },
  handover: {
    nemeses: ['handover'],
    nodes: 5,
    faultMs: 1000,
    healthyMs: 4000,
    about:
      'with a follower paused: transfer leadership, remove the leader, add it back empty; each request sent twice, the second as the first times out',
  },
  'lose-majority': {
    nemeses: ['lose-majority'],
    nodes: 3,
    faultMs: 1500,
    healthyMs: 6000,
    about:
      'kill -9 two of three and delete their data; the survivor forces a new cluster (--advance-for 1m), two fresh members join',
  },
  restore: {
    nemeses: ['restore'],
    nodes: 3,
    faultMs: 1500,
    healthyMs: 6000,
    about:
      'snapshot save, serve 3 s more, destroy every node, restore all three with --advance-for covering the outage',
  },
  random: {
    nemeses: [
      'partition-halves',
      'isolate-leader',
      'majorities-ring',
      'bridge',
      'kill',
      'pause',
      'crash-all',
    ],
    nodes: 5,
    faultMs: 5000,
    healthyMs: 3000,
    about: 'a random schedule of every nemesis above',
  },
};

/** Records phases on the history's monotonic clock. */
export class Timeline {
  readonly phases: Phase[] = [];
  private current: Phase | null = null;

  begin(name: string, label: string, fault: boolean): Phase {
    this.endCurrent();
    const t = now();
    this.current = { name, label, fault, from: t, to: t, notes: [] };
    this.phases.push(this.current);
    return this.current;
  }

  endCurrent(): void {
    if (this.current !== null) this.current.to = now();
    this.current = null;
  }
}
