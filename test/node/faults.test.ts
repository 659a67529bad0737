// Three real `raftseq serve` processes on loopback under continuous client
// load, through a schedule of faults: kill -9 of the leader and restart,
// SIGSTOP of the leader past an election timeout, SIGSTOP of a follower,
// SIGTERM of the leader (must leave no gap), and a cut peer link. Every
// operation goes into a history; the checker must find no value twice and no
// real-time order violation.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/index.js';
import { checkHistory, formatReport } from '../support/checker.js';
import { History } from '../support/history.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { Prng } from '../support/prng.js';

const ELECTION_MS = 600;
const SEQUENCES = ['orders', 'invoices', 'tickets'];

interface Load {
  stop(): Promise<void>;
}

/** Bounded load: stops when told to, or after `maxMs` in any case. */
function startLoad(cluster: ProcCluster, history: History, workers: number, maxMs: number): Load {
  let stopped = false;
  const clients = [0, 1, 2].map(
    (i) =>
      new SequenceClient({
        // Each client starts from a different endpoint, as real clients would.
        endpoints: [...cluster.endpoints.slice(i), ...cluster.endpoints.slice(0, i)],
        deadlineMs: 4000,
        attemptTimeoutMs: 800,
      }),
  );
  const until = Date.now() + maxMs;
  const rng = new Prng(12345);
  const loops = Array.from({ length: workers }, async (_, p) => {
    const client = clients[p % clients.length] as SequenceClient;
    while (!stopped && Date.now() < until) {
      const sequence = rng.pick(SEQUENCES);
      // Mostly single values, sometimes a big batch: many values per op.
      const count = rng.chance(0.25) ? rng.range(1, 400) : 1;
      const r = await history.record(p, sequence, count, (s, c) => client.next(s, c));
      if (r === null) await sleep(20);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
    },
  };
}

describe('multi-process cluster under faults', () => {
  let cluster: ProcCluster;
  const history = new History();

  beforeAll(async () => {
    cluster = await ProcCluster.start({
      size: 3,
      electionTimeoutMs: ELECTION_MS,
      heartbeatIntervalMs: 60,
    });
    await cluster.leader(20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('never issues a value twice and keeps real-time order through kill, pause, stop and cut links', async () => {
    const load = startLoad(cluster, history, 12, 90_000);
    const phases: string[] = [];
    const phase = async (name: string, fn: () => Promise<void>): Promise<void> => {
      const t0 = Date.now();
      await fn();
      phases.push(`${name}: ${Date.now() - t0} ms`);
    };
    try {
      await phase('warm-up', () => sleep(1500));

      await phase('kill -9 leader, restart', async () => {
        const leader = await cluster.leader();
        await cluster.kill(leader);
        await sleep(ELECTION_MS * 2);
        await cluster.restart(leader);
        await sleep(1500);
      });

      await phase('SIGSTOP leader past an election timeout, SIGCONT', async () => {
        const leader = await cluster.leader();
        cluster.pause(leader);
        await sleep(ELECTION_MS * 3);
        cluster.resume(leader);
        await sleep(1500);
      });

      await phase('SIGSTOP a follower, SIGCONT', async () => {
        const leader = await cluster.leader();
        const follower = cluster.nodes.find((n) => n.id !== leader)!.id;
        cluster.pause(follower);
        await sleep(ELECTION_MS * 2);
        cluster.resume(follower);
        await sleep(1000);
      });

      await phase('cut the link leader <-> follower', async () => {
        const leader = await cluster.leader();
        const follower = cluster.nodes.find((n) => n.id !== leader)!.id;
        await cluster.setFault(leader, follower, { drop: true, dropIncoming: true });
        await sleep(ELECTION_MS * 3);
        await cluster.setFault(leader, follower, {});
        await sleep(1000);
      });

      await phase('SIGTERM leader, restart', async () => {
        const leader = await cluster.leader();
        const code = await cluster.terminate(leader);
        expect(code).toBe(0);
        await cluster.restart(leader);
        await sleep(1500);
      });
    } finally {
      await load.stop();
    }

    const result = checkHistory(history.ops);
    console.log(`phases:\n  ${phases.join('\n  ')}\n${formatReport(result)}`);
    expect(result.problems).toEqual([]);
    expect(result.duplicatePairs).toBe(0);
    expect(result.orderViolationCount).toBe(0);
    expect(result.counts.ok).toBeGreaterThan(500);
    const values = result.sequences.reduce((n, s) => n + s.values, 0n);
    console.log(`values checked: ${values}`);
    expect(values).toBeGreaterThan(CI_MIN_VALUES);
  }, 150_000);

  it('a graceful stop of the leader skips no value', async () => {
    const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 10_000 });
    try {
      // Make the leader's block for the probe sequence big, so a gap would show.
      for (let i = 0; i < 5; i++) await client.next('handover-probe', 1000);
      const before = await client.next('handover-probe');
      const leader = await cluster.leader();
      expect(await cluster.terminate(leader)).toBe(0);
      // The next leader continues at the exact next value. (Any later leader
      // change without a hand-over may skip values: that is a crash's gap.)
      const after = await client.next('handover-probe');
      expect(after.first).toBe(before.first + 1n);
      await cluster.restart(leader);
    } finally {
      client.close();
    }
  }, 60_000);
});

/** The issue asks CI to check at least 100,000 values across the fault tests. */
const CI_MIN_VALUES = 100_000n;
