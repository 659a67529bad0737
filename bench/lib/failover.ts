// Failover under load: kill -9 of the leader (n times) and a graceful stop
// (SIGTERM) of the leader. Unavailability = the longest gap between two
// consecutive successful answers around the fault, as the client sees it;
// skipped = values of the sequence never handed out (its highest value minus
// the values served; each round uses a fresh sequence that starts at 1);
// waste = skipped in seconds of the sequence's own traffic (its rate in the
// second before the fault).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/client/index.js';
import type { RaftseqCluster } from './raftseq-cluster.js';
import { leaderOf, waitServing } from './raftseq-cluster.js';
import { quantile } from './stats.js';

export interface Round {
  kind: 'kill -9' | 'SIGTERM';
  leader: string;
  unavailableMs: number;
  skipped: number;
  served: number;
  errors: number;
  /** Values per second of the sequence in the second before the fault. */
  ratePerSec: number;
  /** skipped / ratePerSec. */
  wasteSeconds: number;
}

export interface FailoverResult {
  concurrency: number;
  kills: Round[];
  killUnavailableMs: { p50: number; p99: number; max: number };
  killSkipped: { p50: number; max: number; mean: number };
  killWasteSeconds: { p50: number; max: number };
  graceful: Round[];
}

const CONCURRENCY = 16;

async function round(
  cluster: RaftseqCluster,
  kind: Round['kind'],
  sequence: string,
  log: (m: string) => void,
): Promise<Round> {
  const client = new SequenceClient({ endpoints: cluster.endpoints, deadlineMs: 15_000 });
  const completions: number[] = [];
  let served = 0;
  let maxValue = 0n;
  let errors = 0;
  let stop = false;
  const hardEnd = performance.now() + 30_000;
  const worker = async (): Promise<void> => {
    while (!stop && performance.now() < hardEnd) {
      try {
        const r = await client.next(sequence);
        completions.push(performance.now());
        served += r.count;
        const last = r.first + BigInt(r.count) - 1n;
        if (last > maxValue) maxValue = last;
      } catch {
        errors++;
        await sleep(5);
      }
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await sleep(1000);
  const leader = await leaderOf(cluster);
  const faultAt = performance.now();
  const before = completions.length;
  let lastSecond = 0;
  for (let i = completions.length - 1; i >= 0 && completions[i]! > faultAt - 1000; i--)
    lastSecond++;
  // The signal goes out now; the process exit is awaited before the restart.
  const stopped = kind === 'kill -9' ? cluster.kill(leader.id) : cluster.terminate(leader.id);
  // Wait for service to resume, then a little longer.
  while (performance.now() < hardEnd) {
    const last = completions[completions.length - 1] ?? 0;
    if (completions.length > before + 100 && last > faultAt) break;
    await sleep(20);
  }
  await sleep(500);
  stop = true;
  await Promise.all(workers);
  client.close();
  // Longest gap between consecutive successes from just before the fault on.
  let gap = 0;
  let prev: number | null = null;
  for (const t of completions) {
    if (t < faultAt) {
      prev = t;
      continue;
    }
    if (prev !== null) gap = Math.max(gap, t - prev);
    prev = t;
  }
  const skipped = Number(maxValue) - served;
  const r: Round = {
    kind,
    leader: leader.id,
    unavailableMs: Math.round(gap),
    skipped,
    served,
    errors,
    ratePerSec: lastSecond,
    wasteSeconds: lastSecond > 0 ? skipped / lastSecond : NaN,
  };
  log(
    `${kind} ${leader.id}: unavailable ${r.unavailableMs} ms, skipped ${r.skipped} ` +
      `(${r.wasteSeconds.toFixed(2)} s of its ${lastSecond} values/s)`,
  );
  // Bring the node back and let it catch up before the next round.
  await stopped;
  await Promise.all(cluster.nodes.filter((m) => !m.proc).map((m) => cluster.restart(m.id)));
  await waitServing(cluster, 30_000);
  await sleep(1500);
  return r;
}

export async function measureFailover(
  cluster: RaftseqCluster,
  kills: number,
  log: (m: string) => void,
): Promise<FailoverResult> {
  const killRounds: Round[] = [];
  for (let i = 0; i < kills; i++)
    killRounds.push(await round(cluster, 'kill -9', `fo.kill.${i}`, log));
  const graceful: Round[] = [];
  for (let i = 0; i < 2; i++) graceful.push(await round(cluster, 'SIGTERM', `fo.term.${i}`, log));
  const un = killRounds.map((r) => r.unavailableMs);
  const sk = killRounds.map((r) => r.skipped);
  const waste = killRounds.map((r) => r.wasteSeconds);
  return {
    concurrency: CONCURRENCY,
    kills: killRounds,
    killUnavailableMs: { p50: quantile(un, 0.5), p99: quantile(un, 0.99), max: Math.max(...un) },
    killWasteSeconds: { p50: quantile(waste, 0.5), max: Math.max(...waste) },
    killSkipped: {
      p50: quantile(sk, 0.5),
      max: Math.max(...sk),
      mean: Math.round(sk.reduce((a, b) => a + b, 0) / Math.max(1, sk.length)),
    },
    graceful,
  };
}
