// raftseq.v1.Cluster: status, membership, leadership transfer, sequences.

import * as grpc from '@grpc/grpc-js';
import type { ConfChange } from '../raft/index.js';
import { encodeMemberContext } from '../state/commands.js';
import type { NodeVersions } from '../node/versions.js';
import type { ApiNode, MemberView } from './node-api.js';
import { mapAllocatorError } from './sequencer.js';
import { notLeaderError, statusError } from './status.js';
import {
  hostPortProblem,
  memberIdProblem,
  parseSequenceValue,
  sequenceNameProblem,
} from '../common/validate.js';

type Unary<Req, Res> = (
  call: grpc.ServerUnaryCall<Req, Res>,
  callback: grpc.sendUnaryData<Res>,
) => void;

/** Wrap an async handler: thrown status objects become the call's error. */
function unary<Req, Res>(fn: (req: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (r) => callback(null, r),
      (e: unknown) => {
        if (e !== null && typeof e === 'object' && 'code' in e)
          callback(e as Partial<grpc.StatusObject>);
        else callback(statusError(grpc.status.INTERNAL, (e as Error)?.message ?? String(e)));
      },
    );
  };
}

/** A member as Status and the membership calls answer it (wire names). */
function memberWire(m: MemberView): Record<string, string> {
  return {
    id: m.id,
    address: m.address,
    role: m.role,
    match_index: String(m.matchIndex),
    last_contact_ms: String(m.lastContactMs),
    advertise: m.advertise,
  };
}

/** A node's build and formats as Status answers them (wire names). */
function versionsWire(v: NodeVersions): Record<string, string | number> {
  return {
    version: v.version,
    commit: v.commit,
    storage_format: v.storageFormat,
    record_format: v.recordFormat,
    wire_format: v.wireFormat,
    min_wire_format: v.minWireFormat,
    cluster_wire_format: v.clusterWireFormat,
  };
}

function requireLeader(node: ApiNode): void {
  if (node.status().role !== 'leader') throw notLeaderError(node.leaderAddress());
}

export function clusterHandlers(node: ApiNode): grpc.UntypedServiceImplementation {
  return {
    Status: unary(async () => {
      const st = node.status();
      const totals = node.totals();
      const served = totals.served;
      let skipped = 0n;
      for (const v of Object.values(totals.skipped)) skipped += v;
      return {
        node_id: st.id,
        leader: st.leader ?? '',
        leader_address: node.leaderAddress() ?? '',
        term: String(st.term),
        members: node.members().map(memberWire),
        commit_index: String(st.commit),
        applied_index: String(node.appliedIndex()),
        role: st.conf.learners.includes(st.id) ? 'learner' : st.role,
        lease_remaining_ms: String(Math.round(node.leaseRemainingMs())),
        values_served: served.toString(),
        values_skipped: skipped.toString(),
        first_index: String(st.firstIndex),
        sequences: String(node.sequenceCount()),
        last_index: String(st.lastIndex),
        ...versionsWire(node.versions()),
        cluster_id: node.clusterId(),
      };
    }),

    AddMember: unary(async (req: { id: string; address: string; advertise: string }) => {
      const idProblem = memberIdProblem(req.id);
      if (idProblem !== null) throw statusError(grpc.status.INVALID_ARGUMENT, idProblem);
      const addressProblem = hostPortProblem(req.address);
      if (addressProblem !== null) {
        throw statusError(grpc.status.INVALID_ARGUMENT, `address: ${addressProblem}`);
      }
      requireLeader(node);
      const st = node.status();
      if (st.conf.voters.includes(req.id) || st.conf.learners.includes(req.id)) {
        throw statusError(grpc.status.ALREADY_EXISTS, `member ${req.id} is already in the cluster`);
      }
      await proposeChange(node, {
        type: 'add-learner',
        id: req.id,
        context: encodeMemberContext({ address: req.address }),
      });
      return { members: node.members().map(memberWire) };
    }),

    RemoveMember: unary(async (req: { id: string; force: boolean }) => {
      requireLeader(node);
      const st = node.status();
      const isVoter = st.conf.voters.includes(req.id);
      if (!isVoter && !st.conf.learners.includes(req.id)) {
        throw statusError(grpc.status.NOT_FOUND, `member ${req.id} is not in the cluster`);
      }
      if (isVoter && st.conf.voters.length - 1 < 3 && !req.force) {
        throw statusError(
          grpc.status.FAILED_PRECONDITION,
          `removing ${req.id} would leave ${st.conf.voters.length - 1} voter(s), which cannot survive a failure; add a member first or pass --force`,
        );
      }
      if (isVoter && st.conf.voters.length === 1) {
        throw statusError(
          grpc.status.FAILED_PRECONDITION,
          `cannot remove the last voter ${req.id}`,
        );
      }
      if (req.id === st.id) {
        // Hand leadership over with no gap; the new leader performs the removal.
        const next = await node.handOver(null, 3000);
        throw statusError(
          grpc.status.UNAVAILABLE,
          next === null
            ? 'leadership hand-over did not complete; retry'
            : `handed leadership to ${next}; retry there`,
          next === null ? null : node.advertisedAddress(next),
        );
      }
      await proposeChange(node, { type: 'remove', id: req.id, context: new Uint8Array(0) });
      return { members: node.members().map(memberWire) };
    }),

    TransferLeadership: unary(async (req: { to: string }) => {
      requireLeader(node);
      const st = node.status();
      if (req.to !== '' && !st.conf.voters.includes(req.to)) {
        throw statusError(grpc.status.INVALID_ARGUMENT, `${req.to} is not a voter`);
      }
      if (req.to === st.id) return { leader: st.id, term: String(st.term) };
      const next = await node.handOver(req.to === '' ? null : req.to, 3000);
      if (next === null) {
        throw statusError(grpc.status.UNAVAILABLE, 'leadership transfer did not complete in time');
      }
      return { leader: next, term: String(node.status().term) };
    }),

    ListSequences: unary(async (req: { after: string; limit: number }) => {
      const limit = req.limit === 0 ? 1000 : Math.min(req.limit, 100_000);
      return { sequences: node.sequenceInfos(req.after, limit) };
    }),

    GetSequence: unary(async (req: { name: string }) => {
      const problem = sequenceNameProblem(req.name);
      if (problem !== null) throw statusError(grpc.status.INVALID_ARGUMENT, problem);
      const info = node.sequenceInfo(req.name);
      if (info === null)
        throw statusError(grpc.status.NOT_FOUND, `sequence ${req.name} does not exist`);
      return info;
    }),

    RegisterMember: unary(async (req: { id: string; incarnation: string; advertise: string }) => {
      requireLeader(node);
      const r = await node.registerMember(req.id, req.incarnation, req.advertise);
      if (r === 'replaced') {
        throw statusError(
          grpc.status.FAILED_PRECONDITION,
          `member ${req.id} has another data directory on record: it was lost or replaced; remove and re-add the member`,
        );
      }
      if (r === 'not-member') throw statusError(grpc.status.NOT_FOUND, `${req.id} is not a member`);
      return {};
    }),

    AdvanceSequence: unary(async (req: { name: string; to: string }) => {
      const problem = sequenceNameProblem(req.name);
      if (problem !== null) throw statusError(grpc.status.INVALID_ARGUMENT, problem);
      const parsed = parseSequenceValue(req.to);
      if (!parsed.ok) throw statusError(grpc.status.OUT_OF_RANGE, parsed.problem);
      const to = parsed.value;
      requireLeader(node);
      const next = node.sequenceNext(req.name);
      if (to < next) {
        throw statusError(
          grpc.status.FAILED_PRECONDITION,
          `sequence ${req.name} is already at ${next}; advance never moves a sequence backward`,
        );
      }
      try {
        await node.advance(req.name, to);
      } catch (err) {
        throw mapAllocatorError(node, err, false);
      }
      const info = node.sequenceInfo(req.name);
      if (info === null) throw statusError(grpc.status.INTERNAL, 'sequence vanished after advance');
      return info;
    }),
  };
}

async function proposeChange(node: ApiNode, cc: ConfChange): Promise<void> {
  const r = node.proposeConfChange(cc);
  if (!r.ok) {
    if (r.reason === 'conf-change-pending') {
      throw statusError(
        grpc.status.ABORTED,
        'another membership change is in progress; retry shortly',
      );
    }
    if (r.reason === 'invalid') {
      throw statusError(
        grpc.status.FAILED_PRECONDITION,
        `membership change ${cc.type} ${cc.id} does not apply`,
      );
    }
    throw statusError(
      grpc.status.UNAVAILABLE,
      `cannot change membership now: ${r.reason}`,
      node.leaderAddress(),
    );
  }
  try {
    await node.waitApplied(r.index, r.term);
  } catch (err) {
    throw statusError(grpc.status.UNAVAILABLE, `membership change lost: ${(err as Error).message}`);
  }
}
