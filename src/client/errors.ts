import { status as GrpcStatus } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';

/** gRPC status codes, re-exported so callers can compare `err.code` without grpc-js. */
export { GrpcStatus };

/** The name of a gRPC status code, e.g. 14 → "UNAVAILABLE". */
export function statusName(code: number): string {
  const name: string | undefined = GrpcStatus[code];
  return typeof name === 'string' ? name : `STATUS_${code}`;
}

export interface RaftseqErrorOptions {
  /** The endpoint (host:port) that gave the final answer, if any did. */
  endpoint?: string | null;
  /** How many RPC attempts were made (0: rejected before sending). */
  attempts?: number;
  /** The gRPC status details of the last server answer, if any. */
  details?: string;
  cause?: unknown;
}

/**
 * Every failure of the client library. `code` is the gRPC status code
 * (`GrpcStatus.INVALID_ARGUMENT`, `GrpcStatus.UNAVAILABLE`, ...) and `message`
 * is one line naming the problem.
 *
 * - INVALID_ARGUMENT / OUT_OF_RANGE: the request itself is wrong (or the
 *   sequence is exhausted); never retried, and it consumed nothing.
 * - UNAVAILABLE / DEADLINE_EXCEEDED: no leader answered within the deadline.
 *   The request may have reserved values that were then never returned
 *   (wasted, never handed out twice).
 */
export class RaftseqError extends Error {
  override name = 'RaftseqError';
  /** gRPC status code. */
  readonly code: number;
  /** gRPC status name, e.g. "UNAVAILABLE". */
  readonly codeName: string;
  readonly endpoint: string | null;
  readonly attempts: number;
  readonly details: string;

  constructor(code: number, message: string, options: RaftseqErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.codeName = statusName(code);
    this.endpoint = options.endpoint ?? null;
    this.attempts = options.attempts ?? 0;
    this.details = options.details ?? message;
  }
}

/** `e` as a gRPC ServiceError (an Error with a numeric code), or null. */
export function asServiceError(e: unknown): grpc.ServiceError | null {
  if (e instanceof Error && typeof (e as Partial<grpc.ServiceError>).code === 'number') {
    return e as grpc.ServiceError;
  }
  return null;
}

/** gRPC details on one line, without grpc-js's timestamps on connection errors. */
export function cleanDetails(err: grpc.ServiceError): string {
  const details = (err.details || err.message || statusName(err.code)).replace(/\s*\n\s*/g, '; ');
  const conn = /connect (E[A-Z]+ \S+)/.exec(details);
  if (conn !== null) return `connect ${(conn[1] as string).replace(/[.,;:]+$/, '')}`;
  return details.replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/g, '');
}
