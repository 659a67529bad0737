// The authorization interceptor on a real TLS server: each kind of caller
// against each kind of RPC, with both refusal codes, and the token path.
import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationInterceptor,
  type AuthorizationEvent,
} from '../../src/security/interceptor.js';
import { AdminTokenFile, bearerCallCredentials } from '../../src/security/tokens.js';
import { TlsFiles, channelCredentials, serverCredentials } from '../../src/security/tls.js';
import {
  callOnce,
  cleanupDirs,
  makePki,
  startEchoServer,
  tempDir,
  trustOnly,
  writeTlsFiles,
  type CallResult,
  type Pki,
  type TestServer,
  RPC,
} from './kit.js';

const { SEND, REGISTER, ADD, STATUS, NEXT, HEALTH } = RPC;
const PATHS = [SEND, REGISTER, ADD, STATUS, NEXT, HEALTH];
const TOKEN = 'ops-token-0123456789abcdef';

let pki: Pki;
let member: grpc.ChannelCredentials;
let admin: grpc.ChannelCredentials;
let anonymous: grpc.ChannelCredentials;
beforeAll(async () => {
  pki = await makePki();
  const creds = async (pair: Promise<{ cert: string; key: string }>) =>
    channelCredentials(new TlsFiles(writeTlsFiles(tempDir(), await pair, pki.ca.cert)));
  member = await creds(pki.member('n2'));
  admin = await creds(pki.admin('ops'));
  anonymous = trustOnly(pki.ca.cert);
});

const servers: TestServer[] = [];
const tokenFiles: AdminTokenFile[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const t of tokenFiles.splice(0)) t.close();
});
afterAll(() => cleanupDirs());

async function server(opts: {
  tls: boolean;
  clientCertAuth?: boolean;
  tokens?: boolean;
  events?: AuthorizationEvent[];
}): Promise<TestServer> {
  let tokens: AdminTokenFile | null = null;
  if (opts.tokens) {
    const path = join(tempDir(), 'tokens');
    writeFileSync(path, `# ops\n${TOKEN}\n`);
    tokens = new AdminTokenFile(path);
    tokenFiles.push(tokens);
  }
  const credentials = opts.tls
    ? serverCredentials(new TlsFiles(writeTlsFiles(tempDir(), await pki.member('n1'), pki.ca.cert)))
    : grpc.ServerCredentials.createInsecure();
  const interceptor = authorizationInterceptor({
    tls: opts.tls,
    clientCertAuth: opts.clientCertAuth ?? false,
    tokens,
    onDecision: (e) => opts.events?.push(e),
  });
  const s = await startEchoServer(credentials, { paths: PATHS, interceptors: [interceptor] });
  servers.push(s);
  return s;
}

const code = (r: CallResult): grpc.status | 'ok' => ('ok' in r ? 'ok' : r.code);
const withToken = (creds: grpc.ChannelCredentials, token: string): grpc.ChannelCredentials =>
  grpc.credentials.combineChannelCredentials(creds, bearerCallCredentials(token));

const { UNAUTHENTICATED, PERMISSION_DENIED } = grpc.status;

describe('a TLS server', () => {
  it('peer RPCs: members only', async () => {
    const s = await server({ tls: true });
    expect(await callOnce(s.address, member, SEND)).toEqual({ ok: 'raftseq://member/n2' });
    // RegisterMember also needs the request to name the caller's own id; an
    // empty request names nobody.
    expect(code(await callOnce(s.address, member, REGISTER))).toBe(PERMISSION_DENIED);
    expect(code(await callOnce(s.address, admin, SEND))).toBe(PERMISSION_DENIED);
    expect(code(await callOnce(s.address, anonymous, SEND))).toBe(UNAUTHENTICATED);
  });

  it('admin mutations: an admin certificate; a member gets PERMISSION_DENIED, nobody UNAUTHENTICATED', async () => {
    const events: AuthorizationEvent[] = [];
    const s = await server({ tls: true, events });
    expect(await callOnce(s.address, admin, ADD)).toEqual({ ok: 'raftseq://admin/ops' });
    const denied = await callOnce(s.address, member, ADD);
    expect(denied).toEqual({
      code: PERMISSION_DENIED,
      details:
        'raftseq.v1.Cluster/AddMember needs an admin certificate (SAN raftseq://admin/<name>) or an admin token (authorization: Bearer <token>); the caller presented raftseq://member/n2',
    });
    expect(code(await callOnce(s.address, anonymous, ADD))).toBe(UNAUTHENTICATED);
    // Every decision is reported, with the caller's address.
    expect(events.map((e) => [e.path, e.decision.allow])).toEqual([
      [ADD, true],
      [ADD, false],
      [ADD, false],
    ]);
    expect(events[0]?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(events[0]?.decision).toMatchObject({ caller: 'raftseq://admin/ops' });
  });

  it('reads, Next and health need only TLS', async () => {
    const s = await server({ tls: true });
    for (const path of [STATUS, NEXT, HEALTH]) {
      expect(await callOnce(s.address, anonymous, path)).toEqual({ ok: 'no client certificate' });
    }
  });

  it('--client-cert-auth: a member or admin certificate for reads and Next; health stays open', async () => {
    const s = await server({ tls: true, clientCertAuth: true });
    expect(code(await callOnce(s.address, anonymous, NEXT))).toBe(UNAUTHENTICATED);
    expect(code(await callOnce(s.address, anonymous, STATUS))).toBe(UNAUTHENTICATED);
    expect(code(await callOnce(s.address, member, NEXT))).toBe('ok');
    expect(code(await callOnce(s.address, admin, STATUS))).toBe('ok');
    expect(code(await callOnce(s.address, anonymous, HEALTH))).toBe('ok');
  });

  it('the token path: a listed token may mutate, and never reaches the handler', async () => {
    const s = await server({ tls: true, tokens: true });
    expect(await callOnce(s.address, withToken(anonymous, TOKEN), ADD)).toEqual({
      ok: 'no client certificate',
    });
    const wrong = await callOnce(s.address, withToken(anonymous, `${TOKEN}x`), ADD);
    expect(wrong).toEqual({
      code: UNAUTHENTICATED,
      details:
        'raftseq.v1.Cluster/AddMember needs an admin certificate (SAN raftseq://admin/<name>) or an admin token (authorization: Bearer <token>); the call was refused: its bearer token is not one of --admin-token-file',
    });
    // A token is for people: it does not make a peer.
    expect(code(await callOnce(s.address, withToken(anonymous, TOKEN), SEND))).toBe(
      UNAUTHENTICATED,
    );
  });

  it('a server without --admin-token-file takes no token', async () => {
    const s = await server({ tls: true });
    const r = await callOnce(s.address, withToken(anonymous, TOKEN), ADD);
    expect(r).toMatchObject({
      code: UNAUTHENTICATED,
      details: expect.stringMatching(/accepts no bearer tokens/),
    });
  });
});

describe('a plaintext server', () => {
  it('checks nothing (as before TLS existed)', async () => {
    const s = await server({ tls: false });
    const plain = grpc.credentials.createInsecure();
    for (const path of [SEND, ADD, NEXT]) {
      expect(await callOnce(s.address, plain, path)).toEqual({ ok: 'no client certificate' });
    }
  });
});
