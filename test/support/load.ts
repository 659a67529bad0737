// A bounded background load for multi-process tests: `workers` logical
// clients, each calling Next in turn on the given sequences (count 1 to
// maxCount) and recording every operation in a History for the checker.
// It stops when told, or by itself after maxOpsPerWorker operations each,
// so a test that fails before stopping it never leaves a loop running.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SequenceClient } from '../../src/client/index.js';
import type { History } from './history.js';

export interface LoadOptions {
  client: SequenceClient;
  history: History;
  sequences: readonly string[];
  workers: number;
  maxOpsPerWorker: number;
  /** Each call asks for 1 .. maxCount values, in turn. */
  maxCount: number;
}

export interface Load {
  /** Asks every worker to stop and waits until they have. */
  stop(): Promise<void>;
}

export function startLoad(o: LoadOptions): Load {
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: o.workers }, async (_, w) => {
      for (let i = 0; i < o.maxOpsPerWorker && !stopped; i++) {
        const sequence = o.sequences[(w + i) % o.sequences.length]!;
        await o.history.record(w, sequence, 1 + (i % o.maxCount), (s, c) => o.client.next(s, c));
        if (i % 20 === 0) await sleep(1); // leave room for the nodes on 2 cores
      }
    }),
  );
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}
