// Issuing certificates: what they contain, that they verify, that gRPC
// accepts them for mutual TLS, and how the files are laid out.
import * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CA_DAYS, certFiles, hostProblem, parseHosts } from '../../src/security/cert-profile.js';
import {
  createCa,
  initCaInDir,
  issueCertificate,
  issueInDir,
  loadCa,
} from '../../src/security/certs.js';
import { callOnce, cleanupDirs, startEchoServer, tempDir, type TestServer } from './kit.js';

const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  cleanupDirs();
});

describe('createCa', () => {
  it('makes a self-signed ECDSA P-256 CA that may only sign leaves', async () => {
    const pair = await createCa({ now: new Date('2030-01-01T00:00:00Z') });
    const ca = new X509Certificate(pair.cert);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toMatch(/^CN=raftseq CA [0-9a-f]{8}\nO=raftseq$/);
    const key = createPrivateKey(pair.key);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(pair.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // Files end in a newline, so that `cat a.pem b.pem` makes a valid bundle.
    expect(pair.cert).toMatch(/-----END CERTIFICATE-----\n$/);
    expect(pair.key).toMatch(/-----END PRIVATE KEY-----\n$/);
    expect(new Date(ca.validTo).getTime()).toBe(
      new Date('2030-01-01T00:00:00Z').getTime() + CA_DAYS * 24 * 3600_000,
    );
    // Backdated a little for peers whose clocks run behind.
    expect(new Date(ca.validFrom).getTime()).toBeLessThan(
      new Date('2030-01-01T00:00:00Z').getTime(),
    );
  });

  it('gives every CA its own name, so old and new can share a --ca bundle', async () => {
    const [a, b] = await Promise.all([createCa(), createCa()]);
    expect(new X509Certificate(a.cert).subject).not.toBe(new X509Certificate(b.cert).subject);
  });
});

describe('issueCertificate', () => {
  it('issues a member certificate: SAN URI and hosts, server and client auth, verified by the CA', async () => {
    const caPair = await createCa();
    const ca = new X509Certificate(caPair.cert);
    const pair = await issueCertificate(await loadCa(caPair), {
      kind: 'member',
      id: 'n1',
      hosts: ['127.0.0.1', 'node1.example', '::1'],
    });
    const cert = new X509Certificate(pair.cert);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe(
      'URI:raftseq://member/n1, IP Address:127.0.0.1, DNS:node1.example, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.keyUsage).toEqual([EKU_SERVER, EKU_CLIENT]);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(cert.checkHost('node1.example')).toBe('node1.example');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('issues an admin certificate for client auth only', async () => {
    const caPair = await createCa();
    const pair = await issueCertificate(await loadCa(caPair), { kind: 'admin', name: 'ops' });
    const cert = new X509Certificate(pair.cert);
    expect(cert.checkIssued(new X509Certificate(caPair.cert))).toBe(true);
    expect(cert.subjectAltName).toBe('URI:raftseq://admin/ops');
    expect(cert.keyUsage).toEqual([EKU_CLIENT]);
  });

  it('never outlives its CA', async () => {
    const caPair = await createCa({ days: 30 });
    const leaf = await issueCertificate(
      await loadCa(caPair),
      { kind: 'admin', name: 'ops' },
      { days: 365 },
    );
    expect(new X509Certificate(leaf.cert).validTo).toBe(new X509Certificate(caPair.cert).validTo);
  });

  it.each([
    [{ kind: 'member', id: 'bad id', hosts: ['127.0.0.1'] }, /member id "bad id"/],
    [{ kind: 'member', id: 'n1', hosts: [] }, /at least one host/],
    [{ kind: 'member', id: 'n1', hosts: ['bad_host!'] }, /neither an IP address nor a DNS name/],
    [{ kind: 'admin', name: '' }, /admin name is empty/],
  ] as const)('refuses %j', async (req, error) => {
    const ca = await loadCa(await createCa());
    await expect(issueCertificate(ca, req)).rejects.toThrow(error);
  });
});

describe('loadCa', () => {
  it('refuses a key that is not the CA’s, a leaf posing as a CA, and non-PEM input', async () => {
    const [a, b] = await Promise.all([createCa(), createCa()]);
    await expect(loadCa({ cert: a.cert, key: b.key })).rejects.toThrow(
      'the CA key does not belong to the CA certificate',
    );
    const leaf = await issueCertificate(await loadCa(a), { kind: 'admin', name: 'ops' });
    await expect(loadCa(leaf)).rejects.toThrow(/is not a CA/);
    await expect(loadCa({ cert: 'nope', key: a.key })).rejects.toThrow(/not a PEM certificate/);
  });
});

describe('hosts', () => {
  it.each(['127.0.0.1', '::1', 'node1.example', 'localhost', '*.nodes.example', 'a-b.c'])(
    '%s is a host',
    (h) => expect(hostProblem(h)).toBeNull(),
  );
  it.each(['', 'a..b', '-a.example', 'a_b.example', 'a.*.example', 'x'.repeat(64)])(
    '%j is not',
    (h) => expect(hostProblem(h)).not.toBeNull(),
  );
  it('parses a list, trimming and dropping duplicates', () => {
    expect(parseHosts('127.0.0.1, node1.example,127.0.0.1')).toEqual([
      '127.0.0.1',
      'node1.example',
    ]);
    expect(() => parseHosts('127.0.0.1,,x')).toThrow('--host: empty host name');
  });
});

describe('mutual TLS with the issued certificates (grpc-js, loopback)', () => {
  it('a server that requires client certificates accepts a member and refuses a client without one', async () => {
    const caPair = await createCa();
    const ca = await loadCa(caPair);
    const server = await issueCertificate(ca, { kind: 'member', id: 'n1', hosts: ['127.0.0.1'] });
    const client = await issueCertificate(ca, { kind: 'member', id: 'n2', hosts: ['127.0.0.1'] });
    const s = await startEchoServer(
      grpc.ServerCredentials.createSsl(
        Buffer.from(caPair.cert),
        [{ cert_chain: Buffer.from(server.cert), private_key: Buffer.from(server.key) }],
        true,
      ),
    );
    servers.push(s);
    const withCert = grpc.credentials.createSsl(
      Buffer.from(caPair.cert),
      Buffer.from(client.key),
      Buffer.from(client.cert),
    );
    expect(await callOnce(s.address, withCert)).toEqual({ ok: 'raftseq://member/n2' });
    const without = await callOnce(s.address, grpc.credentials.createSsl(Buffer.from(caPair.cert)));
    expect(without).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect('details' in without && without.details).toMatch(/certificate required/);
  });
});

describe('files', () => {
  it('init writes ca.pem and ca-key.pem (0600) and refuses to overwrite them unless forced', async () => {
    const dir = join(tempDir(), 'tls'); // created on demand
    const first = await initCaInDir(dir);
    expect(first).toMatchObject(certFiles.ca(dir));
    expect(statSync(first.key).mode & 0o777).toBe(0o600);
    expect(statSync(first.cert).mode & 0o777).toBe(0o644);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const before = readFileSync(first.cert, 'utf8');

    await expect(initCaInDir(dir)).rejects.toThrow(
      `${first.cert} already exists; pass --force to replace it`,
    );
    expect(readFileSync(first.cert, 'utf8')).toBe(before);

    await initCaInDir(dir, { force: true });
    expect(readFileSync(first.cert, 'utf8')).not.toBe(before);
    expect(statSync(first.key).mode & 0o777).toBe(0o600);
  });

  it('member and admin certificates are signed by the CA in the directory', async () => {
    const dir = tempDir();
    await initCaInDir(dir);
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    const n1 = await issueInDir(dir, { kind: 'member', id: 'n1', hosts: ['127.0.0.1'] });
    const ops = await issueInDir(dir, { kind: 'admin', name: 'ops' });
    expect(n1).toMatchObject({
      cert: join(dir, 'member-n1.pem'),
      key: join(dir, 'member-n1-key.pem'),
    });
    expect(ops).toMatchObject({
      cert: join(dir, 'admin-ops.pem'),
      key: join(dir, 'admin-ops-key.pem'),
    });
    for (const f of [n1, ops]) {
      expect(new X509Certificate(readFileSync(f.cert)).checkIssued(ca)).toBe(true);
      expect(statSync(f.key).mode & 0o777).toBe(0o600);
    }
    await expect(
      issueInDir(dir, { kind: 'member', id: 'n1', hosts: ['127.0.0.1'] }),
    ).rejects.toThrow(/member-n1.pem already exists; pass --force/);
  });

  it('says how to make a CA when there is none, and refuses a broken one', async () => {
    const dir = tempDir();
    await expect(issueInDir(dir, { kind: 'admin', name: 'ops' })).rejects.toThrow(
      `no CA in ${dir} (${join(dir, 'ca.pem')} is missing); run: raftseq certs init --dir ${dir}`,
    );
    const other = await createCa();
    await initCaInDir(dir);
    writeFileSync(join(dir, 'ca-key.pem'), other.key);
    await expect(issueInDir(dir, { kind: 'admin', name: 'ops' })).rejects.toThrow(
      `${dir}: the CA key does not belong to the CA certificate`,
    );
  });
});
