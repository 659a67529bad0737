// The authorization decision: a table of who may call what.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../src/security/identity.js';
import {
  authorize,
  authorizeSender,
  classifyRpc,
  type TokenVerdict,
} from '../../src/security/policy.js';
import { RPC } from './kit.js';

describe('classifyRpc', () => {
  it.each([
    ['/grpc.health.v1.Health/Check', 'open'],
    ['/grpc.health.v1.Health/Watch', 'open'],
    ['/raftseq.v1.Raft/Send', 'peer'],
    ['/raftseq.v1.Raft/InstallSnapshot', 'peer'],
    ['/raftseq.v1.Cluster/RegisterMember', 'peer'],
    ['/raftseq.v1.Cluster/AddMember', 'admin-mutation'],
    ['/raftseq.v1.Cluster/RemoveMember', 'admin-mutation'],
    ['/raftseq.v1.Cluster/TransferLeadership', 'admin-mutation'],
    ['/raftseq.v1.Cluster/AdvanceSequence', 'admin-mutation'],
    ['/raftseq.v1.Cluster/SomethingAddedLater', 'admin-mutation'],
    ['/raftseq.v1.Cluster/Status', 'admin-read'],
    ['/raftseq.v1.Cluster/ListSequences', 'admin-read'],
    ['/raftseq.v1.Cluster/GetSequence', 'admin-read'],
    ['/raftseq.v1.Sequencer/Next', 'client'],
    ['/raftseq.v1.Sequencer/NextStream', 'client'],
    ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', 'client'],
    ['/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', 'client'],
    ['/raftseq.v1.FaultInjection/SetFault', 'admin-mutation'],
    ['/unknown.Service/Method', 'admin-mutation'],
    ['not a path', 'admin-mutation'],
  ])('%s is %s', (path, cls) => {
    expect(classifyRpc(path)).toBe(cls);
  });
});

const member: Identity = { kind: 'member', id: 'n1' };
const admin: Identity = { kind: 'admin', name: 'ops' };
const other: Identity = { kind: 'other', reason: 'no raftseq:// URI in its SAN' };
const OK = 'allow';
const UNAUTH = status.UNAUTHENTICATED;
const DENIED = status.PERMISSION_DENIED;

type Row = [
  path: string,
  tls: boolean,
  clientCertAuth: boolean,
  identity: Identity | null,
  token: TokenVerdict,
  expected: typeof OK | status,
  caller?: string,
];

const { SEND, REGISTER, ADD, STATUS, NEXT, HEALTH } = RPC;

const table: Row[] = [
  // Health is always open.
  [HEALTH, true, true, null, 'absent', OK, 'anonymous'],
  [HEALTH, true, true, other, 'invalid', OK],
  // Plaintext: nothing is checked (the node warns at start).
  [ADD, false, false, null, 'absent', OK, 'anonymous'],
  [SEND, false, false, null, 'absent', OK],
  // Peer RPCs: a member certificate, nothing else.
  [SEND, true, false, member, 'absent', OK, 'raftseq://member/n1'],
  [REGISTER, true, false, member, 'absent', OK],
  [SEND, true, false, null, 'absent', UNAUTH],
  [SEND, true, false, null, 'valid', UNAUTH],
  [SEND, true, false, admin, 'absent', DENIED],
  [SEND, true, false, admin, 'valid', DENIED],
  [REGISTER, true, false, other, 'absent', DENIED],
  // Admin mutations: an admin certificate or a listed token.
  [ADD, true, false, admin, 'absent', OK, 'raftseq://admin/ops'],
  [ADD, true, false, null, 'valid', OK, 'token'],
  [ADD, true, false, member, 'valid', OK, 'token'],
  [ADD, true, false, null, 'absent', UNAUTH],
  [ADD, true, false, member, 'absent', DENIED],
  [ADD, true, false, other, 'absent', DENIED],
  [ADD, true, false, null, 'invalid', UNAUTH],
  [ADD, true, false, member, 'invalid', UNAUTH],
  [ADD, true, false, null, 'not-accepted', UNAUTH],
  [ADD, true, true, admin, 'invalid', OK],
  ['/raftseq.v1.Cluster/AdvanceSequence', true, false, member, 'absent', DENIED],
  ['/raftseq.v1.Cluster/TransferLeadership', true, false, null, 'absent', UNAUTH],
  ['/raftseq.v1.Cluster/RemoveMember', true, true, admin, 'absent', OK],
  // Read-only admin and client RPCs: TLS suffices ...
  [STATUS, true, false, null, 'absent', OK, 'anonymous'],
  [NEXT, true, false, null, 'absent', OK],
  [NEXT, true, false, other, 'invalid', OK],
  // ... unless --client-cert-auth: a member or admin certificate (or an admin token).
  [STATUS, true, true, member, 'absent', OK],
  [STATUS, true, true, admin, 'absent', OK],
  [NEXT, true, true, member, 'absent', OK],
  [NEXT, true, true, null, 'valid', OK, 'token'],
  [NEXT, true, true, null, 'absent', UNAUTH],
  [NEXT, true, true, other, 'absent', DENIED],
  [STATUS, true, true, null, 'invalid', UNAUTH],
  [STATUS, true, true, other, 'invalid', DENIED],
  ['/raftseq.v1.Sequencer/NextStream', true, true, null, 'absent', UNAUTH],
];

describe('authorize', () => {
  it.each(table)('%s tls=%s client-cert-auth=%s %j token=%s → %s', (...row) => {
    const [path, tls, clientCertAuth, identity, token, expected, caller] = row;
    const d = authorize({ path, tls, clientCertAuth, identity, token });
    if (expected === OK) {
      expect(d).toMatchObject({ allow: true });
      if (caller !== undefined) expect(d.allow && d.caller).toBe(caller);
    } else {
      expect(d).toMatchObject({ allow: false, code: expected });
    }
  });

  it('says what is needed and what was presented, on one line and without secrets', () => {
    const noCert = authorize({
      path: ADD,
      tls: true,
      clientCertAuth: false,
      identity: null,
      token: 'absent',
    });
    expect(noCert.allow === false && noCert.message).toBe(
      'raftseq.v1.Cluster/AddMember needs an admin certificate (SAN raftseq://admin/<name>) or an admin token (authorization: Bearer <token>); the caller presented no client certificate',
    );
    const wrong = authorize({
      path: SEND,
      tls: true,
      clientCertAuth: false,
      identity: admin,
      token: 'absent',
    });
    expect(wrong.allow === false && wrong.message).toBe(
      'raftseq.v1.Raft/Send needs a member certificate (SAN raftseq://member/<id>) verified by --ca; the caller presented raftseq://admin/ops',
    );
    const badToken = authorize({
      path: ADD,
      tls: true,
      clientCertAuth: false,
      identity: null,
      token: 'invalid',
    });
    expect(badToken.allow === false && badToken.message).toMatch(
      /bearer token is not one of --admin-token-file$/,
    );
    const noFile = authorize({
      path: ADD,
      tls: true,
      clientCertAuth: false,
      identity: null,
      token: 'not-accepted',
    });
    expect(noFile.allow === false && noFile.message).toMatch(
      /accepts no bearer tokens \(no --admin-token-file\)$/,
    );
    const strict = authorize({
      path: NEXT,
      tls: true,
      clientCertAuth: true,
      identity: other,
      token: 'absent',
    });
    expect(strict.allow === false && strict.message).toMatch(
      /^raftseq.v1.Sequencer\/Next needs a member or admin certificate \(--client-cert-auth is set\); the caller presented a certificate without a raftseq identity/,
    );
  });
});

describe('authorizeSender', () => {
  it('lets a member send only as itself over TLS', () => {
    expect(authorizeSender(true, member, 'n1')).toEqual({ allow: true });
    expect(authorizeSender(true, member, 'n3')).toMatchObject({
      allow: false,
      code: DENIED,
      message:
        'a message from "n3" needs the certificate of member "n3"; the caller presented raftseq://member/n1',
    });
    expect(authorizeSender(true, admin, 'ops')).toMatchObject({ allow: false, code: DENIED });
    expect(authorizeSender(true, null, 'n1')).toMatchObject({ allow: false, code: UNAUTH });
  });

  it('checks nothing over plaintext', () => {
    expect(authorizeSender(false, null, 'n3')).toEqual({ allow: true });
  });
});
