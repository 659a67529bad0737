// raftseq.v1.Cluster's handlers, in process, against a scripted node: every
// refusal is the contract's code with a message that says what to do, and a
// refused call changes nothing (no proposal, no advance).
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { clusterHandlers } from '../../src/api/cluster.js';
import type { ApiNode } from '../../src/api/node-api.js';
import type { ConfChange } from '../../src/raft/index.js';

type Proposal = { ok: true; index: number; term: number } | { ok: false; reason: string };

function scriptedNode(over: Partial<Record<string, unknown>> = {}) {
  const proposed: ConfChange[] = [];
  const advanced: [string, bigint][] = [];
  const node = {
    status: () => ({
      role: 'leader',
      id: 'n1',
      term: 5,
      conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
    }),
    leaderAddress: () => null,
    advertisedAddress: (id: string) => `${id}.example:7001`,
    members: () => [],
    proposeConfChange: (cc: ConfChange): Proposal => {
      proposed.push(cc);
      return { ok: true, index: 10, term: 5 };
    },
    waitApplied: async () => {},
    handOver: async () => null,
    sequenceNext: () => 100n,
    sequenceInfo: (name: string) =>
      name === 'orders'
        ? { name, next: '100', reserved: '200', served: '99', skipped: '0', block: '16' }
        : null,
    sequenceInfos: () => [],
    advance: async (name: string, to: bigint) => void advanced.push([name, to]),
    log: { error: () => {} },
    ...over,
  } as unknown as ApiNode;
  return { node, proposed, advanced };
}

function call(
  node: ApiNode,
  method: string,
  request: object,
): Promise<{ err: grpc.StatusObject | null; res: unknown }> {
  const handler = clusterHandlers(node)[method] as (
    c: { request: object },
    cb: (err: grpc.StatusObject | null, res?: unknown) => void,
  ) => void;
  return new Promise((resolve) => handler({ request }, (err, res) => resolve({ err, res })));
}

describe('Cluster handlers refuse bad requests and change nothing', () => {
  const cases: [string, object, grpc.status, RegExp][] = [
    ['AddMember', { id: 'bad id!', address: 'h:1', advertise: '' }, 3, /id/],
    ['AddMember', { id: 'n5', address: 'nohostport', advertise: '' }, 3, /address/],
    ['AddMember', { id: 'n2', address: 'h:1', advertise: '' }, 6, /already in the cluster/],
    ['AddMember', { id: 'n4', address: 'h:1', advertise: '' }, 6, /already in the cluster/],
    ['RemoveMember', { id: 'n9', force: false }, 5, /not in the cluster/],
    ['RemoveMember', { id: 'n3', force: false }, 9, /add a member first or pass --force/],
    ['TransferLeadership', { to: 'n4' }, 3, /not a voter/],
    ['GetSequence', { name: 'bad name!' }, 3, /./],
    ['GetSequence', { name: 'nope' }, 5, /does not exist/],
    ['AdvanceSequence', { name: 'orders', to: '9223372036854775808' }, 11, /./],
    ['AdvanceSequence', { name: 'orders', to: '50' }, 9, /never moves a sequence backward/],
    ['AdvanceSequence', { name: '', to: '500' }, 3, /./],
  ];
  for (const [method, request, code, message] of cases) {
    it(`${method} ${JSON.stringify(request)} -> ${grpc.status[code]}`, async () => {
      const { node, proposed, advanced } = scriptedNode();
      const { err } = await call(node, method, request);
      expect(err?.code).toBe(code);
      expect(err?.details).toMatch(message);
      expect(proposed).toEqual([]);
      expect(advanced).toEqual([]);
    });
  }

  it('a follower redirects every leader-only call to the leader', async () => {
    const { node, proposed } = scriptedNode({
      status: () => ({ role: 'follower', id: 'n2', term: 5, conf: { voters: [], learners: [] } }),
      leaderAddress: () => 'n1.example:7001',
    });
    for (const [method, request] of [
      ['AddMember', { id: 'n5', address: 'h:1', advertise: '' }],
      ['RemoveMember', { id: 'n3', force: true }],
      ['TransferLeadership', { to: '' }],
      ['AdvanceSequence', { name: 'orders', to: '500' }],
    ] as const) {
      const { err } = await call(node, method, request);
      expect(err?.code, method).toBe(grpc.status.UNAVAILABLE);
      expect(err?.metadata?.get('raftseq-leader'), method).toEqual(['n1.example:7001']);
    }
    expect(proposed).toEqual([]);
  });

  it('a membership change refused by the core says why, with the contract code', async () => {
    for (const [reason, code] of [
      ['conf-change-pending', grpc.status.ABORTED],
      ['invalid', grpc.status.FAILED_PRECONDITION],
      ['not-leader', grpc.status.UNAVAILABLE],
    ] as const) {
      const { node } = scriptedNode({ proposeConfChange: () => ({ ok: false, reason }) });
      const { err } = await call(node, 'AddMember', { id: 'n5', address: 'h:1', advertise: '' });
      expect(err?.code, reason).toBe(code);
    }
  });

  it('a change lost before it applied is UNAVAILABLE (retry), not success', async () => {
    const { node } = scriptedNode({
      waitApplied: async () => {
        throw new Error('term changed');
      },
    });
    const { err } = await call(node, 'AddMember', { id: 'n5', address: 'h:1', advertise: '' });
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toMatch(/membership change lost: term changed/);
  });

  it('removing itself hands leadership over and redirects there', async () => {
    const { node, proposed } = scriptedNode({ handOver: async () => 'n2' });
    const { err } = await call(node, 'RemoveMember', { id: 'n1', force: true });
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.metadata?.get('raftseq-leader')).toEqual(['n2.example:7001']);
    expect(proposed).toEqual([]);
  });

  it('a transfer that does not complete in time is UNAVAILABLE', async () => {
    const { node } = scriptedNode();
    const { err } = await call(node, 'TransferLeadership', { to: 'n2' });
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('valid calls go through: add, transfer to itself, get, advance', async () => {
    const { node, proposed, advanced } = scriptedNode();
    expect((await call(node, 'AddMember', { id: 'n5', address: 'h:1', advertise: '' })).err).toBe(
      null,
    );
    expect(proposed.map((c) => [c.type, c.id])).toEqual([['add-learner', 'n5']]);
    expect((await call(node, 'TransferLeadership', { to: 'n1' })).res).toEqual({
      leader: 'n1',
      term: '5',
    });
    expect((await call(node, 'GetSequence', { name: 'orders' })).err).toBe(null);
    expect((await call(node, 'AdvanceSequence', { name: 'orders', to: '500' })).err).toBe(null);
    expect(advanced).toEqual([['orders', 500n]]);
  });
});
