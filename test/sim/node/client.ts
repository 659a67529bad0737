// Simulated clients: they reach the real gRPC handlers of the real nodes
// through a simulated client network, and retry with SequenceClient's own
// policy (src/client/retry.ts): follow the leader named in a redirect at
// once, otherwise try the next endpoint; after a round of failures back off;
// give each attempt a 3 s deadline within an overall deadline. An attempt
// that times out cancels the call on the server, as gRPC does; its answer,
// if the server still sends one, is lost.

import * as grpc from '@grpc/grpc-js';
import {
  ATTEMPT_TIMEOUT_MS,
  DEADLINE_MS,
  MAX_REDIRECTS,
  isRetryable,
  nextBackoffMs,
} from '../../../src/client/retry.js';
import type { Prng } from '../../support/prng.js';
import type { Outcome } from './calls.js';
import { MS } from './scheduler.js';

/** What the world offers a client: endpoints, the clock, and one attempt. */
export interface ClientWorld {
  readonly rng: Prng;
  /** Global simulated time, µs. */
  now(): number;
  after(us: number, fn: () => void): void;
  endpoints(): string[];
  /**
   * One attempt: sends the request to `endpoint`, calls `done` once with the
   * outcome, or never (lost); `attemptMs` is the client's deadline, which the
   * server sees as a timeout. Returns a function that cancels the call.
   */
  attempt(
    endpoint: string,
    service: 'Sequencer' | 'Cluster',
    method: string,
    request: Record<string, unknown>,
    attemptMs: number,
    done: (o: Outcome) => void,
  ): () => void;
}

export interface CallResult {
  outcome: Outcome;
  attempts: number;
  endpoint: string;
}

/** Calls `service.method` with retries; resolves with the final outcome (OK or not). */
export function callWithRetries(
  w: ClientWorld,
  service: 'Sequencer' | 'Cluster',
  method: string,
  request: Record<string, unknown>,
  opts: { deadlineMs?: number; start?: string | null } = {},
): Promise<CallResult> {
  const deadline = w.now() + (opts.deadlineMs ?? DEADLINE_MS) * MS;
  const endpoints = w.endpoints();
  let target = opts.start ?? (endpoints[w.rng.int(endpoints.length)] as string);
  let attempts = 0;
  let round = 0;
  let redirects = 0;
  const tried = new Set<string>();
  let last: Outcome = {
    code: grpc.status.DEADLINE_EXCEEDED,
    details: 'no attempt',
    value: null,
    leader: null,
  };
  return new Promise((resolve) => {
    const attempt = (): void => {
      const left = (deadline - w.now()) / MS;
      if (left <= 0) {
        resolve({ outcome: last, attempts, endpoint: target });
        return;
      }
      attempts++;
      const attemptMs = Math.min(left, ATTEMPT_TIMEOUT_MS);
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        cancelCall();
        onOutcome(o);
      };
      const cancelCall = w.attempt(target, service, method, request, attemptMs, finish);
      w.after(attemptMs * MS, () =>
        finish({
          code: grpc.status.DEADLINE_EXCEEDED,
          details: 'attempt deadline',
          value: null,
          leader: null,
        }),
      );
    };
    const onOutcome = (o: Outcome): void => {
      if (o.code === grpc.status.OK || !isRetryable(o.code)) {
        resolve({ outcome: o, attempts, endpoint: target });
        return;
      }
      last = o;
      tried.add(target);
      if (o.leader !== null && o.leader !== target && redirects < MAX_REDIRECTS) {
        redirects++;
        target = o.leader;
        attempt();
        return;
      }
      redirects = 0;
      const untried = w.endpoints().filter((e) => !tried.has(e));
      if (untried.length > 0) {
        target = untried[w.rng.int(untried.length)] as string;
        attempt();
        return;
      }
      tried.clear();
      const pause = nextBackoffMs(round++, () => w.rng.float());
      const all = w.endpoints();
      target = all[w.rng.int(all.length)] as string;
      w.after(Math.max(1, pause) * MS, attempt);
    };
    attempt();
  });
}
