// One line for TLS mismatches, from what grpc-js really reports on loopback.
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyConnectError,
  explainConnectError,
  speaksTls,
} from '../../src/security/mismatch.js';
import { TlsFiles, serverCredentials } from '../../src/security/tls.js';
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
} from './kit.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  cleanupDirs();
});

async function start(credentials: grpc.ServerCredentials): Promise<TestServer> {
  const s = await startEchoServer(credentials);
  servers.push(s);
  return s;
}

async function tlsServer(pki: Pki, hosts?: string[]): Promise<TestServer> {
  const files = new TlsFiles(writeTlsFiles(tempDir(), await pki.member('n1', hosts), pki.ca.cert));
  return start(serverCredentials(files));
}

const trusting = (pki: Pki): grpc.ChannelCredentials => trustOnly(pki.ca.cert);

const details = (r: CallResult): string => ('details' in r ? r.details : '');

/** An address where nothing listens. */
async function deadAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

describe('classifyConnectError', () => {
  it.each([
    [
      'No connection established. Last error: Error: 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/ssl/record/ssl3_record.c:350:',
      true,
      'not-tls',
    ],
    [
      'No connection established. Last error: Error: self-signed certificate in certificate chain.',
      true,
      'untrusted',
    ],
    ['Last error: Error: unable to verify the first certificate', true, 'untrusted'],
    ['Last error: Error: certificate has expired', true, 'expired'],
    [
      "Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames",
      true,
      'wrong-name',
    ],
    ['Last error: ssl3_read_bytes:tlsv13 alert certificate required', true, 'client-cert-required'],
    ['Last error: ssl3_read_bytes:sslv3 alert bad certificate', true, 'client-cert-rejected'],
  ])('%s (tls=%s) is %s', (text, tls, problem) => {
    expect(classifyConnectError(text, tls)).toMatchObject({ problem });
  });

  it('asks for a probe when the failure is vague, and has nothing to say about a refusal', () => {
    expect(
      classifyConnectError(
        'No connection established. Last error: Failed to connect (2026-01-01)',
        false,
      ),
    ).toBe('probe');
    expect(classifyConnectError('Connection dropped', true)).toBe('probe');
    expect(classifyConnectError('read ECONNRESET', false)).toBe('probe');
    expect(classifyConnectError('Last error: connect ECONNREFUSED 127.0.0.1:1', false)).toBeNull();
    expect(classifyConnectError('wrong version number', false)).toBeNull();
  });
});

describe('against real servers', () => {
  it('a TLS endpoint reached in plaintext', async () => {
    const server = await tlsServer(await makePki());
    const r = await callOnce(server.address, grpc.credentials.createInsecure());
    expect(r).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await explainConnectError(server.address, false, details(r))).toBe(
      `endpoint ${server.address} speaks TLS; pass --ca (the CA that signed its certificate)`,
    );
  });

  it('a plaintext endpoint reached with TLS', async () => {
    const pki = await makePki();
    const server = await start(grpc.ServerCredentials.createInsecure());
    const r = await callOnce(server.address, trusting(pki));
    expect(await explainConnectError(server.address, true, details(r))).toBe(
      `endpoint ${server.address} does not speak TLS; drop --ca, or start the node with --cert, --key and --ca`,
    );
  });

  it('a CA that does not trust the server', async () => {
    const server = await tlsServer(await makePki());
    const r = await callOnce(server.address, trusting(await makePki()));
    expect(await explainConnectError(server.address, true, details(r))).toBe(
      `endpoint ${server.address} presented a certificate that --ca does not trust (self-signed certificate in certificate chain)`,
    );
  });

  it('a certificate that does not name the host dialled', async () => {
    const pki = await makePki();
    const server = await tlsServer(pki, ['node1.example']);
    const r = await callOnce(server.address, trusting(pki));
    expect(await explainConnectError(server.address, true, details(r))).toBe(
      `endpoint ${server.address} presented a certificate that does not name 127.0.0.1; reissue it with --host 127.0.0.1 (raftseq certs member)`,
    );
  });

  it('nothing to say about an endpoint where nothing listens', async () => {
    const dead = await deadAddress();
    const r = await callOnce(dead, grpc.credentials.createInsecure());
    expect(await explainConnectError(dead, false, details(r))).toBeNull();
    expect(await explainConnectError(dead, false, 'Failed to connect')).toBeNull();
  });

  it('speaksTls probes with a handshake', async () => {
    const tls = await tlsServer(await makePki());
    const plain = await start(grpc.ServerCredentials.createInsecure());
    expect(await speaksTls(tls.address)).toBe(true);
    expect(await speaksTls(plain.address)).toBe(false);
    expect(await speaksTls(await deadAddress())).toBeNull();
  });
});
