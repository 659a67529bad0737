// Health that tells the truth: the decision as a pure function of a node's
// state (every rule, each case named), then real nodes: gRPC health "" and
// "raftseq.v1.Sequencer", /livez, /readyz, and what they say when a member
// is cut off from its leader and when the leader goes away.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LeaderWatch,
  judgeHealth,
  type HealthBounds,
  type HealthFacts,
} from '../../src/node/health.js';
import { DEFAULTS, type NodeOptions } from '../../src/node/options.js';
import type { Message } from '../../src/raft/index.js';
import { startNode, type RunningNode } from '../../src/server/start.js';
import { SEQUENCER_SERVICE } from '../../src/server/health.js';
import { healthStatus, setFault } from '../support/node-rpc.js';
import { reservePorts } from '../support/ports.js';
import { waitFor, waitUntil } from '../support/wait.js';

const bounds: HealthBounds = { maxLagEntries: 100, maxLeaderSilenceMs: 1000 };
const follower: HealthFacts = {
  id: 'n2',
  role: 'follower',
  term: 4,
  leader: 'n1',
  voters: ['n1', 'n2', 'n3'],
  learners: [],
  applied: 500,
  leaderCommit: 520,
  leaderSilenceMs: 40,
  leaseValid: false,
};
const leader: HealthFacts = {
  ...follower,
  id: 'n1',
  role: 'leader',
  leaderSilenceMs: 0,
  leaseValid: true,
};

describe('the health decision', () => {
  it('a caught-up follower that hears from its leader is ready, and does not serve Next', () => {
    const v = judgeHealth(follower, bounds);
    expect(v.ready).toEqual({ ok: true, reason: 'follower of n1 in term 4, 20 entries behind' });
    expect(v.sequencer).toEqual({ ok: false, reason: 'not the leader (n1 is)' });
  });

  it('the leader with a valid lease serves Next; without one it is ready but does not', () => {
    expect(judgeHealth(leader, bounds).sequencer.ok).toBe(true);
    const noLease = judgeHealth({ ...leader, leaseValid: false }, bounds);
    expect(noLease.ready.ok).toBe(true);
    expect(noLease.sequencer).toMatchObject({ ok: false, reason: /without a valid lease/ });
  });

  it('a node waiting to be added, or removed, is not ready', () => {
    const joining = { ...follower, voters: [], leader: null };
    expect(judgeHealth(joining, bounds).ready.reason).toMatch(/not a member of a cluster yet/);
    const removed = { ...follower, voters: ['n1', 'n3'] };
    expect(judgeHealth(removed, bounds).ready.reason).toMatch(/removed/);
    // A learner that caught up is ready (it can redirect clients).
    const learner = { ...follower, voters: ['n1', 'n3'], learners: ['n2'] };
    expect(judgeHealth(learner, bounds).ready).toMatchObject({
      ok: true,
      reason: /^learner of n1/,
    });
  });

  it('no leader known, or cut off from it beyond an election timeout: not ready', () => {
    expect(
      judgeHealth({ ...follower, leader: null, role: 'pre-candidate' }, bounds).ready.reason,
    ).toBe('no leader known in term 4 (role pre-candidate)');
    expect(judgeHealth({ ...follower, leaderSilenceMs: 1001 }, bounds).ready).toMatchObject({
      ok: false,
      reason: /not heard from for 1001 ms/,
    });
    expect(judgeHealth({ ...follower, leaderSilenceMs: null }, bounds).ready.ok).toBe(false);
    expect(judgeHealth({ ...follower, leaderSilenceMs: 1000 }, bounds).ready.ok).toBe(true);
  });

  it('catching up beyond the bound (after a join, or a long partition): not ready', () => {
    const behind = { ...follower, applied: 10, leaderCommit: 111 };
    expect(judgeHealth(behind, bounds).ready).toMatchObject({
      ok: false,
      reason: 'catching up: applied 10, leader n1 committed 111 (101 behind, more than 100)',
    });
    expect(judgeHealth({ ...behind, leaderCommit: 110 }, bounds).ready.ok).toBe(true);
  });
});

describe('LeaderWatch', () => {
  const msg = (from: string, term: number, commit: number, type = 'heartbeat'): Message =>
    ({ type, from, to: 'n2', term, commit, sentTick: 1 }) as Message;

  it('remembers when the current leader spoke and the commit index it announced', () => {
    let now = 100;
    const w = new LeaderWatch(() => now);
    expect(w.silenceMs('n1', 3)).toBeNull();
    w.peerMessage(msg('n1', 3, 40, 'append'));
    now = 130;
    w.peerMessage(msg('n1', 3, 35)); // a heartbeat's commit is capped: never lowers it
    now = 180;
    expect(w.silenceMs('n1', 3)).toBe(50);
    expect(w.commitOf('n1', 3)).toBe(40);
    // Another leader (or term) is another story; an older term changes nothing.
    expect(w.silenceMs('n3', 4)).toBeNull();
    w.peerMessage(msg('n3', 4, 7));
    w.peerMessage(msg('n1', 3, 99));
    expect(w.commitOf('n3', 4)).toBe(7);
    expect(w.commitOf('n1', 3)).toBe(0);
    // Votes and answers are not the leader speaking.
    now = 500;
    w.peerMessage({ type: 'vote-resp', from: 'n3', to: 'n2', term: 4, granted: true } as Message);
    expect(w.silenceMs('n3', 4)).toBe(320);
  });
});

describe('health of real nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-health-'));
  const nodes: RunningNode[] = [];

  const http = async (n: RunningNode, path: string) => {
    const r = await fetch(`http://127.0.0.1:${n.ops.httpPort}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const addr = (n: RunningNode) => `127.0.0.1:${n.port}`;
  const leaderOf = () =>
    nodes.find((n) => n.host.status().role === 'leader' && n.host.leaseValid());

  beforeAll(async () => {
    const reserved = await reservePorts(3);
    const cluster = new Map(reserved.ports.map((p, i) => [`n${i + 1}`, `127.0.0.1:${p}`]));
    for (let i = 0; i < 3; i++) {
      const options: NodeOptions = {
        ...DEFAULTS,
        id: `n${i + 1}`,
        listen: `127.0.0.1:${reserved.ports[i]}`,
        advertise: `127.0.0.1:${reserved.ports[i]}`,
        dataDir: join(dir, `n${i + 1}`),
        initialCluster: cluster,
        logLevel: 'silent',
        metricsListen: '127.0.0.1:0',
        enableFaultInjection: true,
      };
      await reserved.release(reserved.port(i));
      nodes.push(await startNode(options));
    }
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('every member is ready; only the leader serves raftseq.v1.Sequencer', async () => {
    await waitUntil(() => leaderOf() !== undefined, 'a leader with a lease');
    await waitUntil(async () => {
      const all = await Promise.all(nodes.map((n) => healthStatus(addr(n), '')));
      return all.every((s) => s === 'SERVING');
    }, 'health "" SERVING everywhere');
    const lead = await waitFor(leaderOf, 'a leader with a lease');
    await waitUntil(
      async () => (await healthStatus(addr(lead), SEQUENCER_SERVICE)) === 'SERVING',
      'the leader serves Next',
    );
    for (const n of nodes) {
      if (n === lead) continue;
      expect(await healthStatus(addr(n), SEQUENCER_SERVICE)).toBe('NOT_SERVING');
      const ready = await http(n, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        ready: true,
        leaderWithLease: false,
        reason: new RegExp(`^follower of ${lead.id}`),
      });
    }
    const live = await http(lead, '/livez');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ live: true });
    expect((await http(lead, '/readyz')).body).toMatchObject({
      ready: true,
      leaderWithLease: true,
    });
  });

  it('a follower cut off from the others stops being ready (and stays live), then comes back', async () => {
    const lead = await waitFor(leaderOf, 'a leader with a lease');
    const cut = nodes.find((n) => n !== lead)!;
    const others = nodes.filter((n) => n !== cut);
    const rule = { drop: true, dropIncoming: true };
    for (const o of others) await setFault(addr(cut), o.id, rule);
    try {
      await waitUntil(
        async () => (await http(cut, '/readyz')).status === 503,
        'the cut-off follower not ready',
      );
      const r = await http(cut, '/readyz');
      expect(r.body.ready).toBe(false);
      expect(String(r.body.reason)).toMatch(/not heard from|no leader known/);
      // gRPC health follows within one evaluation period (EVAL_MS).
      await waitUntil(
        async () => (await healthStatus(addr(cut), '')) === 'NOT_SERVING',
        'gRPC health "" NOT_SERVING on the cut-off follower',
      );
      expect((await http(cut, '/livez')).status).toBe(200);
    } finally {
      for (const o of others) await setFault(addr(cut), o.id, {});
    }
    await waitUntil(
      async () => (await http(cut, '/readyz')).status === 200,
      'ready again after healing',
    );
  });

  it('when the leader stops, Sequencer health moves to the new leader', async () => {
    const old = await waitFor(leaderOf, 'a leader with a lease');
    await old.shutdown();
    nodes.splice(nodes.indexOf(old), 1);
    await waitUntil(() => leaderOf() !== undefined, 'a new leader');
    const lead = await waitFor(leaderOf, 'a leader with a lease');
    await waitUntil(
      async () => (await healthStatus(addr(lead), SEQUENCER_SERVICE)) === 'SERVING',
      'the new leader serves Next',
    );
    for (const n of nodes)
      if (n !== lead) expect(await healthStatus(addr(n), SEQUENCER_SERVICE)).toBe('NOT_SERVING');
  });
});
