// TLS credentials on real loopback servers: who is seen, peers checked by
// member id, and rotation of the certificate and of the CA without restart.
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TlsFiles,
  TlsUsageError,
  channelCredentials,
  clientTlsFiles,
  serverCredentials,
  serverTlsFiles,
  type TlsFileEvent,
} from '../../src/security/tls.js';
import {
  callOnce,
  cleanupDirs,
  eventually,
  firstSuccess,
  makePki,
  openChat,
  replaceFile,
  replaceTlsFiles,
  startEchoServer,
  tempDir,
  trustOnly,
  writeTlsFiles,
  type Chat,
  type TestServer,
} from './kit.js';

const FAST = 100; // ms between reads of the files in these tests

const servers: TestServer[] = [];
const chats: Chat[] = [];
afterEach(async () => {
  for (const c of chats.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  cleanupDirs();
});

async function tlsServer(files: TlsFiles): Promise<TestServer> {
  const s = await startEchoServer(serverCredentials(files));
  servers.push(s);
  return s;
}

/** The serial number of the certificate the server presents to a new connection. */
function presentedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    socket.once('secureConnect', () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

describe('option checks', () => {
  it('serve: --cert, --key and --ca all or none, naming what is missing', () => {
    expect(serverTlsFiles({})).toBeNull();
    expect(serverTlsFiles({ cert: 'c', key: 'k', ca: 'a' })).toEqual({
      cert: 'c',
      key: 'k',
      ca: 'a',
    });
    expect(() => serverTlsFiles({ cert: 'c' })).toThrow(
      new TlsUsageError('TLS needs --cert, --key and --ca together; --key and --ca are missing'),
    );
    expect(() => serverTlsFiles({ cert: 'c', key: 'k' })).toThrow(
      'TLS needs --cert, --key and --ca together; --ca is missing',
    );
    expect(() => serverTlsFiles({ ca: 'a', key: '' })).toThrow('--cert and --key are missing');
    expect(() => serverTlsFiles({ adminTokenFile: 't', clientCertAuth: true })).toThrow(
      '--admin-token-file and --client-cert-auth need TLS: give --cert, --key and --ca too',
    );
    expect(() => serverTlsFiles({ clientCertAuth: true })).toThrow(/^--client-cert-auth need TLS/);
  });

  it('clients: --ca turns TLS on; --cert and --key go together and need --ca; so does a token', () => {
    expect(clientTlsFiles({})).toBeNull();
    expect(clientTlsFiles({ ca: 'a' })).toEqual({ ca: 'a' });
    expect(clientTlsFiles({ ca: 'a', cert: 'c', key: 'k', tokenFile: 't' })).toEqual({
      ca: 'a',
      cert: 'c',
      key: 'k',
    });
    expect(() => clientTlsFiles({ ca: 'a', cert: 'c' })).toThrow('--cert needs --key');
    expect(() => clientTlsFiles({ ca: 'a', key: 'k' })).toThrow('--key needs --cert');
    expect(() => clientTlsFiles({ cert: 'c', key: 'k' })).toThrow(/need --ca/);
    expect(() => clientTlsFiles({ tokenFile: 't' })).toThrow(
      '--token-file needs --ca: a token is only sent over TLS',
    );
  });
});

describe('TlsFiles', () => {
  it('reads the files at once; a bad one throws one line naming the flag', async () => {
    const pki = await makePki();
    const dir = tempDir();
    const files = writeTlsFiles(dir, await pki.member('n1'), pki.ca.cert);
    expect(new TlsFiles(files).currentIdentity()).not.toBeNull();
    expect(() => new TlsFiles({ ...files, cert: join(dir, 'nope.pem') })).toThrow(
      `--cert ${join(dir, 'nope.pem')}: no such file`,
    );
    // Node's own wording, without the path it repeats.
    expect(() => new TlsFiles({ ca: dir })).toThrow(
      new Error(`--ca ${dir}: illegal operation on a directory`),
    );
    const other = await pki.member('n2');
    writeFileSync(files.key, other.key);
    expect(() => new TlsFiles(files)).toThrow(
      `--cert ${files.cert}, --key ${files.key}: the key does not belong to the certificate`,
    );
    writeFileSync(files.ca, 'not a certificate');
    expect(() => new TlsFiles({ ca: files.ca })).toThrow(
      `--ca ${files.ca}: holds no PEM certificate`,
    );
  });
});

describe('a TLS server and its clients', () => {
  it('sees a member, an admin, and no identity for a client without a certificate or with an unverified one', async () => {
    const pki = await makePki();
    const foreign = await makePki();
    const server = await tlsServer(
      new TlsFiles(writeTlsFiles(tempDir(), await pki.member('n1'), pki.ca.cert)),
    );
    const client = (pair: { cert: string; key: string }): grpc.ChannelCredentials =>
      channelCredentials(new TlsFiles(writeTlsFiles(tempDir(), pair, pki.ca.cert)));
    expect(await callOnce(server.address, client(await pki.member('n2')))).toEqual({
      ok: 'raftseq://member/n2',
    });
    expect(await callOnce(server.address, client(await pki.admin('ops')))).toEqual({
      ok: 'raftseq://admin/ops',
    });
    expect(await callOnce(server.address, trustOnly(pki.ca.cert))).toEqual({
      ok: 'no client certificate',
    });
    // Signed by another CA: the handshake completes (the policy decides), but it names nobody.
    expect(await callOnce(server.address, client(await foreign.member('n1')))).toEqual({
      ok: 'no client certificate',
    });
    // And a plaintext client gets nowhere.
    expect(await callOnce(server.address, grpc.credentials.createInsecure())).toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
  });

  it('a --ca bundle of two CAs (mid-rotation) lets members of both in', async () => {
    const oldPki = await makePki();
    const newPki = await makePki();
    // Glued as `cat` glues a file without its final newline.
    const bundle = oldPki.ca.cert.trimEnd() + newPki.ca.cert;
    const server = await tlsServer(
      new TlsFiles(writeTlsFiles(tempDir(), await oldPki.member('n1'), bundle)),
    );
    for (const [pki, id] of [
      [oldPki, 'n2'],
      [newPki, 'n3'],
    ] as const) {
      const creds = channelCredentials(
        new TlsFiles(writeTlsFiles(tempDir(), await pki.member(id), bundle)),
      );
      expect(await callOnce(server.address, creds)).toEqual({ ok: `raftseq://member/${id}` });
    }
  });

  it('a peer is checked by member id, not by host name', async () => {
    const pki = await makePki();
    // n1's certificate names only a host that is not the one dialled.
    const server = await tlsServer(
      new TlsFiles(
        writeTlsFiles(tempDir(), await pki.member('n1', ['node1.example']), pki.ca.cert),
      ),
    );
    const n2 = new TlsFiles(writeTlsFiles(tempDir(), await pki.member('n2'), pki.ca.cert));
    expect(await callOnce(server.address, channelCredentials(n2, { expectMember: 'n1' }))).toEqual({
      ok: 'raftseq://member/n2',
    });
    const wrong = await callOnce(server.address, channelCredentials(n2, { expectMember: 'n3' }));
    expect(wrong).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect('details' in wrong && wrong.details).toMatch(
      /presented raftseq:\/\/member\/n1, not the certificate of member raftseq:\/\/member\/n3/,
    );
    // Without expectMember, the usual host name check applies.
    const byHost = await callOnce(server.address, channelCredentials(n2));
    expect('details' in byHost && byHost.details).toMatch(/does not match certificate's altnames/);
  });
});

describe('rotation without restart', () => {
  it('a replaced certificate serves new connections while an open stream keeps working', async () => {
    const pki = await makePki();
    const dir = tempDir();
    const a = await pki.member('n1');
    const files = writeTlsFiles(dir, a, pki.ca.cert);
    const events: TlsFileEvent[] = [];
    const server = await tlsServer(
      new TlsFiles(files, { refreshMs: FAST, onEvent: (e) => events.push(e) }),
    );
    const client = channelCredentials(
      new TlsFiles(writeTlsFiles(tempDir(), await pki.member('n2'), pki.ca.cert)),
    );
    const chat = openChat(server.address, client);
    chats.push(chat);
    expect(await chat.say('before')).toBe('echo before');
    expect(await presentedSerial(server.port)).toBe(serialOf(a.cert));

    const b = await pki.member('n1');
    replaceFile(files.key, b.key);
    replaceFile(files.cert, b.cert);
    await eventually('the new certificate', async () =>
      (await presentedSerial(server.port)) === serialOf(b.cert) ? true : undefined,
    );
    expect(await chat.say('after')).toBe('echo after');
    expect(await callOnce(server.address, client)).toEqual({ ok: 'raftseq://member/n2' });
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'reloaded', what: 'certificate' }),
    );
  });

  it('a replaced CA: a client that trusts only the new CA gets in, and so does one whose --ca file was replaced', async () => {
    const oldPki = await makePki();
    const newPki = await makePki();
    const files = writeTlsFiles(tempDir(), await oldPki.member('n1'), oldPki.ca.cert);
    const server = await tlsServer(new TlsFiles(files, { refreshMs: FAST }));

    // A member of the old CA with an open stream.
    const old = channelCredentials(
      new TlsFiles(writeTlsFiles(tempDir(), await oldPki.member('n2'), oldPki.ca.cert)),
    );
    const chat = openChat(server.address, old);
    chats.push(chat);
    expect(await chat.say('before')).toBe('echo before');

    // A member of the new CA, trusting only it: refused for now.
    const fresh = channelCredentials(
      new TlsFiles(writeTlsFiles(tempDir(), await newPki.member('n3'), newPki.ca.cert)),
    );
    expect(await callOnce(server.address, fresh)).toMatchObject({ code: grpc.status.UNAVAILABLE });

    // A client whose own files will be replaced, with its credentials kept;
    // its open stream keeps them in use, so that they are polled.
    const movingFiles = writeTlsFiles(tempDir(), await oldPki.member('n4'), oldPki.ca.cert);
    const moving = channelCredentials(new TlsFiles(movingFiles, { refreshMs: FAST }));
    const movingChat = openChat(server.address, moving);
    chats.push(movingChat);
    expect(await movingChat.say('before')).toBe('echo before');

    replaceTlsFiles(files, await newPki.member('n1'), newPki.ca.cert);
    // The server presents a certificate of the new CA and verifies client
    // certificates against it: n3 is seen as n3.
    expect(await firstSuccess('the new CA at the server', server.address, fresh)).toBe(
      'raftseq://member/n3',
    );
    expect(await chat.say('after')).toBe('echo after');

    replaceTlsFiles(movingFiles, await newPki.member('n4'), newPki.ca.cert);
    expect(await firstSuccess('the new CA at the client', server.address, moving)).toBe(
      'raftseq://member/n4',
    );
    expect(await movingChat.say('after')).toBe('echo after');
  });

  it('keeps the last good files when the new ones do not fit together, and says so once', async () => {
    const pki = await makePki();
    const a = await pki.member('n1');
    const files = writeTlsFiles(tempDir(), a, pki.ca.cert);
    const events: TlsFileEvent[] = [];
    const server = await tlsServer(
      new TlsFiles(files, { refreshMs: FAST, onEvent: (e) => events.push(e) }),
    );
    const client = trustOnly(pki.ca.cert);

    const b = await pki.member('n1');
    replaceFile(files.key, b.key); // the certificate has not followed yet
    await eventually('the mismatch reported', async () => (events.length > 0 ? true : undefined));
    expect(events[0]).toEqual({
      kind: 'error',
      message: `--cert ${files.cert}, --key ${files.key}: the key does not belong to the certificate; keeping the previous certificate`,
    });
    expect(await callOnce(server.address, client)).toEqual({ ok: 'no client certificate' });
    expect(await presentedSerial(server.port)).toBe(serialOf(a.cert));

    replaceFile(files.ca, 'garbage');
    await eventually('the bad CA reported', async () => (events.length > 1 ? true : undefined));
    expect(events[1]).toMatchObject({
      kind: 'error',
      message: expect.stringMatching(/keeping the previous CA$/),
    });
    expect(await callOnce(server.address, client)).toEqual({ ok: 'no client certificate' });
    // Both problems stand; let the watcher poll them several more times.
    await new Promise((r) => setTimeout(r, FAST * 5));
    expect(events).toHaveLength(2); // once per problem, not once per poll

    replaceFile(files.cert, b.cert);
    await eventually('the fixed pair', async () =>
      (await presentedSerial(server.port)) === serialOf(b.cert) ? true : undefined,
    );
  });
});

describe('silenceIpServernameWarning', () => {
  // Node warns once per process, so each case runs in a process of its own.
  const dial = (mode: string): Promise<{ stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'dial-ip.ts'), mode],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          err
            ? reject(err instanceof Error ? err : new Error(String(err)))
            : resolve({ stdout, stderr }),
      );
    });

  it('drops DEP0123 from a TLS dial by IP, and nothing else', async () => {
    const [loud, quiet] = await Promise.all([dial('loud'), dial('quiet')]);
    for (const r of [loud, quiet]) {
      expect(r.stdout).toBe('{"ok":"no client certificate"}\n');
      expect(r.stderr).toContain('[RAFTSEQ_TEST] Warning: still here');
    }
    expect(loud.stderr).toContain('DEP0123');
    expect(quiet.stderr).not.toContain('DEP0123');
  });
});
