// The jepsen-lite workload: concurrent clients on this host, several per node
// address, each its own SequenceClient (its own channels) whose endpoint list
// starts at "its" node, calling Next on a few sequences, mostly one value and
// sometimes a batch. Every operation goes into the History (invoke, then ok /
// fail / info). Bounded: stops when told to, or at `untilMs` in any case.

import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient, type ClientTls } from '../../src/index.js';
import type { History } from '../support/history.js';
import { Prng } from '../support/prng.js';

export interface WorkloadOptions {
  endpoints: readonly string[];
  clientsPerNode: number;
  sequences: readonly string[];
  history: History;
  /** Date.now() after which every loop stops by itself. */
  untilMs: number;
  seed: number;
  /** Overall deadline of one Next (retries included). */
  deadlineMs: number;
  /** Deadline of one attempt. */
  attemptTimeoutMs: number;
  /** Probability of a batch (1..maxBatch values) instead of a single value. */
  batchProbability: number;
  maxBatch: number;
  /** TLS towards the nodes (jepsen-lite --tls); default plaintext. */
  tls?: ClientTls;
}

export interface Workload {
  stop(): Promise<void>;
}

export function startWorkload(o: WorkloadOptions): Workload {
  let stopped = false;
  const eps = [...o.endpoints];
  const clients: SequenceClient[] = [];
  const loops: Promise<void>[] = [];
  let p = 0;
  for (let k = 0; k < o.clientsPerNode; k++) {
    for (let i = 0; i < eps.length; i++) {
      const process = p++;
      const client = new SequenceClient({
        endpoints: [...eps.slice(i), ...eps.slice(0, i)],
        deadlineMs: o.deadlineMs,
        attemptTimeoutMs: o.attemptTimeoutMs,
        backoff: { initialMs: 20, maxMs: 200 },
        ...(o.tls !== undefined ? { tls: o.tls } : {}),
      });
      clients.push(client);
      const rng = new Prng(o.seed * 1000 + process);
      loops.push(
        (async () => {
          while (!stopped && Date.now() < o.untilMs) {
            const sequence = rng.pick(o.sequences);
            const count = rng.chance(o.batchProbability) ? rng.range(1, o.maxBatch) : 1;
            const r = await o.history.record(process, sequence, count, (s, c) => client.next(s, c));
            if (r === null) await sleep(rng.range(10, 49));
          }
        })(),
      );
    }
  }
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      for (const c of clients) c.close();
    },
  };
}
