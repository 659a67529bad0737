// raftseq.v1.Sequencer: Next, exactly as docs/contract.md pins it, and NextStream
// (many Next requests in flight over one bidirectional stream).

import { setMaxListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { AllocatorError } from '../state/allocator.js';
import type { ApiNode } from './node-api.js';
import { LEADER_METADATA_KEY, notLeaderError, statusError, type StatusError } from './status.js';
import { StreamDeadlines } from './stream-deadlines.js';
import { countFromWire, countProblem, sequenceNameProblem } from '../common/validate.js';

interface NextRequest {
  sequence: string;
  count: number;
}

interface NextResponse {
  first: string;
  count: number;
}

interface NextStreamRequest {
  id: string;
  sequence: string;
  count: number;
  timeout_ms: number;
}

interface NextStreamResponse {
  id: string;
  code: number;
  message: string;
  first: string;
  count: number;
  leader: string;
}

/** Requests in flight on one NextStream; more are refused with RESOURCE_EXHAUSTED. */
export const MAX_STREAM_IN_FLIGHT = 4096;

export function sequencerHandlers(node: ApiNode): grpc.UntypedServiceImplementation {
  return {
    Next: (
      call: grpc.ServerUnaryCall<NextRequest, NextResponse>,
      callback: grpc.sendUnaryData<NextResponse>,
    ) => {
      void serveNext(node, call.request, call.getDeadline(), call).then(
        (r) => callback(null, r),
        (e: Partial<grpc.StatusObject>) => callback(e),
      );
    },
    NextStream: (call: grpc.ServerDuplexStream<NextStreamRequest, NextStreamResponse>) => {
      serveNextStream(node, call);
    },
  };
}

/**
 * NextStream: each request is served independently (as Next would serve it)
 * and answered as soon as it is done, out of order. The stream ends when the
 * client has half-closed it and every request in flight is answered.
 */
function serveNextStream(
  node: ApiNode,
  call: grpc.ServerDuplexStream<NextStreamRequest, NextStreamResponse>,
): void {
  if (node.status().role !== 'leader') {
    // Redirect on the stream's status, exactly like Next's.
    call.emit('error', notLeaderError(node.leaderAddress()));
    return;
  }
  const stream = new AbortController();
  setMaxListeners(0, stream.signal);
  const deadlines = new StreamDeadlines(node.clock);
  let pending = 0;
  let halfClosed = false;
  let done = false;
  const finish = (): void => {
    if (halfClosed && pending === 0 && !done) {
      done = true;
      deadlines.close();
      call.end();
    }
  };
  call.on('data', (req: NextStreamRequest) => {
    if (pending >= MAX_STREAM_IN_FLIGHT) {
      answer(
        call,
        streamError(
          req.id,
          statusError(
            grpc.status.RESOURCE_EXHAUSTED,
            `more than ${MAX_STREAM_IN_FLIGHT} requests in flight on one stream; wait for answers or open another stream`,
          ),
        ),
      );
      return;
    }
    pending++;
    const { signal, deadlineAt } =
      req.timeout_ms > 0
        ? deadlines.signalFor(req.timeout_ms)
        : { signal: stream.signal, deadlineAt: Infinity };
    void serveNextWith(node, req, deadlineAt, signal)
      .then(
        (r) =>
          answer(call, {
            id: req.id,
            code: 0,
            message: '',
            first: r.first,
            count: r.count,
            leader: '',
          }),
        (e: Partial<grpc.StatusObject>) => answer(call, streamError(req.id, e)),
      )
      .finally(() => {
        pending--;
        finish();
      });
  });
  call.on('end', () => {
    halfClosed = true;
    finish();
  });
  const abort = (): void => {
    const reason = new Error('cancelled');
    stream.abort(reason);
    deadlines.close(reason);
  };
  call.on('cancelled', abort);
  call.on('error', abort);
}

function answer(
  call: grpc.ServerDuplexStream<NextStreamRequest, NextStreamResponse>,
  r: NextStreamResponse,
): void {
  if (call.cancelled || call.destroyed || call.writableEnded) return;
  call.write(r);
}

function streamError(id: string, e: Partial<grpc.StatusObject>): NextStreamResponse {
  const leader = e.metadata?.get(LEADER_METADATA_KEY)[0];
  return {
    id,
    code: e.code ?? grpc.status.INTERNAL,
    message: e.details ?? 'internal error',
    first: '0',
    count: 0,
    leader: leader === undefined ? '' : String(leader),
  };
}

/** The deadline as a wall-clock instant in ms, or Infinity when the client set none. */
function deadlineAt(deadline: grpc.Deadline): number {
  if (deadline === Infinity) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

export async function serveNext(
  node: ApiNode,
  req: NextRequest,
  deadline: grpc.Deadline,
  call: { cancelled: boolean; on(ev: 'cancelled', cb: () => void): unknown },
): Promise<NextResponse> {
  const at = deadlineAt(deadline);
  const cancel = new AbortController();
  // grpc-js emits 'cancelled' when the HTTP/2 stream closes, after every
  // call, answered or not: aborting then (an Error with its stack, an abort
  // event) cost the leader about a fifth of its CPU per unary call.
  let answered = false;
  call.on('cancelled', () => {
    if (!answered) cancel.abort(new Error('cancelled'));
  });
  const cancelTimer =
    at === Infinity
      ? null
      : node.clock.setTimer(Math.max(0, at - node.clock.wallNow()), () =>
          cancel.abort(new Error('deadline')),
        );
  try {
    return await serveNextWith(node, req, at, cancel.signal);
  } finally {
    answered = true;
    cancelTimer?.();
  }
}

/**
 * Serves one Next: validation, leader check, the allocator. `deadlineAt` is
 * epoch milliseconds (Infinity: none), only to tell DEADLINE_EXCEEDED from
 * CANCELLED; `signal` aborts a request still waiting (the caller aborts it
 * at the deadline or when the client cancels). Rejects with a status object.
 */
async function serveNextWith(
  node: ApiNode,
  req: NextRequest,
  deadlineAt: number,
  signal: AbortSignal,
): Promise<NextResponse> {
  // Validate first: a rejected request consumes nothing.
  const count = countFromWire(req.count);
  const problem =
    sequenceNameProblem(req.sequence) ??
    countProblem(count, node.maxCount, "the server's --max-count");
  if (problem !== null) {
    node.nextRejected('invalid_argument');
    throw statusError(grpc.status.INVALID_ARGUMENT, problem);
  }

  if (node.status().role !== 'leader') {
    node.nextRejected('not_leader');
    throw notLeaderError(node.leaderAddress());
  }

  try {
    const r = await node.next(req.sequence, count, { signal });
    return { first: r.first.toString(), count: r.count };
  } catch (err) {
    throw mapAllocatorError(node, err, node.clock.wallNow() >= deadlineAt);
  }
}

export function mapAllocatorError(
  node: ApiNode,
  err: unknown,
  deadlinePassed: boolean,
): StatusError {
  if (err instanceof AllocatorError) {
    switch (err.code) {
      case 'OUT_OF_RANGE':
        return statusError(grpc.status.OUT_OF_RANGE, err.message);
      case 'RESOURCE_EXHAUSTED':
        return statusError(grpc.status.RESOURCE_EXHAUSTED, err.message);
      case 'INVALID_ARGUMENT':
        return statusError(grpc.status.INVALID_ARGUMENT, err.message);
      case 'CANCELLED':
        return deadlinePassed
          ? statusError(
              grpc.status.DEADLINE_EXCEEDED,
              'deadline passed before the reservation committed',
            )
          : statusError(grpc.status.CANCELLED, err.message);
      case 'UNAVAILABLE': {
        const leader = node.status().role === 'leader' ? null : node.leaderAddress();
        return statusError(grpc.status.UNAVAILABLE, err.message, leader);
      }
    }
  }
  node.log.error({ err: (err as Error)?.message }, 'unexpected error in Next');
  return statusError(
    grpc.status.INTERNAL,
    `internal error: ${(err as Error)?.message ?? String(err)}`,
  );
}
