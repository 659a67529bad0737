// Status errors as the handlers return them, and the trailing metadata key
// that redirects a client to the leader (pinned by the contract).

import * as grpc from '@grpc/grpc-js';
import { LEADER_METADATA_KEY } from '../common/protocol.js';

export { LEADER_METADATA_KEY };

/**
 * A gRPC status as an Error, so handlers can throw it and keep a stack.
 * grpc-js reads `code`, `details` and `metadata` off whatever a handler
 * passes to its callback, so this is also what the callbacks receive.
 */
export class StatusError extends Error implements Partial<grpc.StatusObject> {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly metadata: grpc.Metadata,
  ) {
    super(details);
    this.name = 'StatusError';
  }
}

/** A status error for a callback, optionally naming the leader to redirect to. */
export function statusError(
  code: grpc.status,
  details: string,
  leaderAddress: string | null = null,
): StatusError {
  const metadata = new grpc.Metadata();
  if (leaderAddress !== null) metadata.set(LEADER_METADATA_KEY, leaderAddress);
  return new StatusError(code, details, metadata);
}

/** UNAVAILABLE with a redirect to the leader, or "no leader known yet". */
export function notLeaderError(leaderAddress: string | null): StatusError {
  return statusError(
    grpc.status.UNAVAILABLE,
    leaderAddress === null
      ? 'no leader known yet; retry shortly'
      : `not the leader; the leader is ${leaderAddress}`,
    leaderAddress,
  );
}
