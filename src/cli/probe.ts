// Asks each member for its own view (Cluster/Status at its advertised
// address, no redirects), for the per-member columns of `cluster status`:
// term, commit and applied index, lease, values served and skipped.
import * as grpc from '@grpc/grpc-js';
import type { ClusterStatus } from '../client/index.js';
import { toBigInt } from '../client/decode.js';
import { raftseqServices } from '../client/proto.js';
import { describeError } from './util.js';

/** One member's own answer. */
export interface MemberSelf {
  role: string;
  term: bigint;
  commitIndex: bigint;
  appliedIndex: bigint;
  leaseRemainingMs: number;
  valuesServed: bigint;
  valuesSkipped: bigint;
  /** Its release and commit; null from a member older than the fields. */
  version: string | null;
  commit: string | null;
}

export type MemberProbe = { ok: true; self: MemberSelf } | { ok: false; error: string };

function selfOf(r: Record<string, unknown>): MemberSelf {
  return {
    role: typeof r.role === 'string' ? r.role : '',
    term: toBigInt(r.term, 'term'),
    commitIndex: toBigInt(r.commit_index, 'commit_index'),
    appliedIndex: toBigInt(r.applied_index, 'applied_index'),
    leaseRemainingMs: Number(toBigInt(r.lease_remaining_ms, 'lease_remaining_ms')),
    valuesServed: toBigInt(r.values_served, 'values_served'),
    valuesSkipped: toBigInt(r.values_skipped, 'values_skipped'),
    version: typeof r.version === 'string' && r.version !== '' ? r.version : null,
    commit: typeof r.commit === 'string' && r.commit !== '' ? r.commit : null,
  };
}

/** The status of the node at `address` itself, within `timeoutMs`. */
export function probeMember(address: string, timeoutMs: number): Promise<MemberProbe> {
  const Cluster = raftseqServices().Cluster;
  const client = new Cluster(address, grpc.credentials.createInsecure());
  const status = client.Status as unknown as (
    req: object,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void,
  ) => void;
  return new Promise<MemberProbe>((resolve) => {
    status.call(client, {}, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) {
        resolve({ ok: false, error: `${address}: ${shortDetails(err)}` });
        return;
      }
      try {
        resolve({ ok: true, self: selfOf(res ?? {}) });
      } catch (e) {
        resolve({ ok: false, error: `${address}: ${describeError(e)}` });
      }
    });
  });
}

/** A gRPC error in a few words: "connect ECONNREFUSED 10.0.0.4:7001", "deadline exceeded". */
function shortDetails(err: grpc.ServiceError): string {
  const details = err.details || err.message;
  const conn = /connect (E[A-Z]+ \S+)/.exec(details);
  if (conn !== null) return `connect ${(conn[1] as string).replace(/[.,;:)]+$/, '')}`;
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'no answer in time';
  return describeError(details.replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/g, ''));
}

/**
 * Every member's own status, by id. The node that answered `s` is not asked
 * again. Members are reached at their advertised address (clients' address).
 */
export async function probeMembers(
  s: ClusterStatus,
  timeoutMs: number,
): Promise<Map<string, MemberProbe>> {
  const out = new Map<string, MemberProbe>();
  await Promise.all(
    s.members.map(async (m) => {
      if (m.id === s.nodeId) {
        out.set(m.id, {
          ok: true,
          self: {
            role: s.role,
            term: s.term,
            commitIndex: s.commitIndex,
            appliedIndex: s.appliedIndex,
            leaseRemainingMs: s.leaseRemainingMs,
            valuesServed: s.valuesServed,
            valuesSkipped: s.valuesSkipped,
            version: s.build?.version ?? null,
            commit: s.build?.commit ?? null,
          },
        });
        return;
      }
      out.set(m.id, await probeMember(m.advertise || m.address, timeoutMs));
    }),
  );
  return out;
}
