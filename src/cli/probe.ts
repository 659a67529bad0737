// Asks each member for its own view (Cluster/Status at its advertised
// address, no redirects), for the per-member columns of `cluster status`:
// term, commit and applied index, lease, values served and skipped.
import type { ClusterStatus, SequenceClient } from '../client/index.js';
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
  /** The cluster it belongs to (null: none known yet, or older than the field). */
  clusterId: string | null;
}

export type MemberProbe = { ok: true; self: MemberSelf } | { ok: false; error: string };

function selfOf(s: ClusterStatus): MemberSelf {
  return {
    role: s.role,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    leaseRemainingMs: s.leaseRemainingMs,
    valuesServed: s.valuesServed,
    valuesSkipped: s.valuesSkipped,
    version: s.build?.version ?? null,
    commit: s.build?.commit ?? null,
    clusterId: s.clusterId,
  };
}

/** An error in a few words: "connect ECONNREFUSED 10.0.0.4:7001", "no answer in time". */
function shortDetails(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  const details = e.details || e.message || String(err);
  const conn = /connect (E[A-Z]+ \S+)/.exec(details);
  if (conn !== null) return `connect ${(conn[1] as string).replace(/[.,;:)]+$/, '')}`;
  if (e.code === 4) return 'no answer in time';
  return describeError(details.replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/g, ''));
}

/**
 * Every member's own status, by id. The node that answered `s` is not asked
 * again. Members are reached at their advertised address (clients' address).
 */
export async function probeMembers(
  client: SequenceClient,
  s: ClusterStatus,
  timeoutMs: number,
): Promise<Map<string, MemberProbe>> {
  const out = new Map<string, MemberProbe>();
  await Promise.all(
    s.members.map(async (m) => {
      if (m.id === s.nodeId) {
        out.set(m.id, { ok: true, self: selfOf(s) });
        return;
      }
      const address = m.advertise || m.address;
      try {
        out.set(m.id, { ok: true, self: selfOf(await client.memberStatus(address, timeoutMs)) });
      } catch (e) {
        out.set(m.id, { ok: false, error: `${address}: ${shortDetails(e)}` });
      }
    }),
  );
  return out;
}
