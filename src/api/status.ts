// Status errors as the handlers return them, and the trailing metadata key
// that redirects a client to the leader (pinned by the contract).

import * as grpc from '@grpc/grpc-js';
import { LEADER_METADATA_KEY } from '../common/protocol.js';

export { LEADER_METADATA_KEY };

/** A status error for a callback, optionally naming the leader to redirect to. */
export function statusError(
  code: grpc.status,
  details: string,
  leaderAddress: string | null = null,
): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (leaderAddress !== null) metadata.set(LEADER_METADATA_KEY, leaderAddress);
  return { code, details, metadata };
}

/** UNAVAILABLE with a redirect to the leader, or "no leader known yet". */
export function notLeaderError(leaderAddress: string | null): Partial<grpc.StatusObject> {
  return statusError(
    grpc.status.UNAVAILABLE,
    leaderAddress === null
      ? 'no leader known yet; retry shortly'
      : `not the leader; the leader is ${leaderAddress}`,
    leaderAddress,
  );
}
