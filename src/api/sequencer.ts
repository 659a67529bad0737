// raftseq.v1.Sequencer: Next, exactly as CONTRACT.md pins it.

import * as grpc from '@grpc/grpc-js';
import type { NodeHost } from '../node/host.js';
import { AllocatorError } from '../state/allocator.js';
import { statusError } from './server.js';
import { countProblem, sequenceNameProblem } from './validate.js';

interface NextRequest {
  sequence: string;
  count: number;
}

interface NextResponse {
  first: string;
  count: number;
}

export function sequencerHandlers(host: NodeHost): grpc.UntypedServiceImplementation {
  return {
    Next: (
      call: grpc.ServerUnaryCall<NextRequest, NextResponse>,
      callback: grpc.sendUnaryData<NextResponse>,
    ) => {
      void serveNext(host, call.request, call.getDeadline(), call).then(
        (r) => callback(null, r),
        (e: Partial<grpc.StatusObject>) => callback(e),
      );
    },
  };
}

/** The deadline's remaining milliseconds, or Infinity when the client set none. */
function remainingMs(deadline: grpc.Deadline): number {
  if (deadline === Infinity) return Infinity;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return at - Date.now();
}

export async function serveNext(
  host: NodeHost,
  req: NextRequest,
  deadline: grpc.Deadline,
  call: { cancelled: boolean; on(ev: 'cancelled', cb: () => void): unknown },
): Promise<NextResponse> {
  // Validate first: a rejected request consumes nothing.
  const nameProblem = sequenceNameProblem(req.sequence);
  if (nameProblem !== null) throw statusError(grpc.status.INVALID_ARGUMENT, nameProblem);
  const countIssue = countProblem(req.count, host.options.maxCount);
  if (countIssue !== null) throw statusError(grpc.status.INVALID_ARGUMENT, countIssue);
  const count = req.count === 0 ? 1 : req.count;

  if (host.status().role !== 'leader') {
    const leader = host.leaderAddress();
    throw statusError(
      grpc.status.UNAVAILABLE,
      leader === null
        ? 'no leader known yet; retry shortly'
        : `not the leader; the leader is ${leader}`,
      leader,
    );
  }

  const ms = remainingMs(deadline);
  const controller = new AbortController();
  const timer =
    ms === Infinity
      ? null
      : setTimeout(() => controller.abort(new Error('deadline')), Math.max(0, ms));
  call.on('cancelled', () => controller.abort(new Error('cancelled')));
  try {
    const r = await host.allocator.next(req.sequence, count, { signal: controller.signal });
    return { first: r.first.toString(), count: r.count };
  } catch (err) {
    throw mapAllocatorError(host, err, controller.signal.aborted && ms !== Infinity);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function mapAllocatorError(
  host: NodeHost,
  err: unknown,
  deadlinePassed: boolean,
): Partial<grpc.StatusObject> {
  if (err instanceof AllocatorError) {
    switch (err.code) {
      case 'OUT_OF_RANGE':
        return statusError(grpc.status.OUT_OF_RANGE, err.message);
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
        const leader = host.status().role === 'leader' ? null : host.leaderAddress();
        return statusError(grpc.status.UNAVAILABLE, err.message, leader);
      }
    }
  }
  host.log.error({ err: (err as Error)?.message }, 'unexpected error in Next');
  return statusError(
    grpc.status.INTERNAL,
    `internal error: ${(err as Error)?.message ?? String(err)}`,
  );
}
