// A real 3-node cluster with TLS on its one port (separate `raftseq serve`
// processes, certificates from `raftseq certs`): members speak mutual TLS and
// cannot speak for each other, admin mutations need an admin certificate or
// a token, plaintext gets a one-line answer, and every admin call is audited.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcStatus, SequenceClient, type ClientTls } from '../../src/client/index.js';
import { certFiles } from '../../src/security/cert-profile.js';
import { initCaInDir, issueInDir } from '../../src/security/certs.js';
import { FORMAT_VERSION, raftServices } from '../../src/transport/proto.js';
import { runCli } from '../support/cli-run.js';
import { ProcCluster } from '../support/proc-cluster.js';
import { waitFor, waitUntil } from '../support/wait.js';
import { tempDir } from './kit.js';

const TOKEN = 'ops-token-0123456789abcdef';
const IDS = ['n1', 'n2', 'n3'];

describe('a TLS cluster', () => {
  const dir = tempDir();
  const certs = join(dir, 'certs');
  let cluster: ProcCluster;
  const pem = (path: string): Buffer => readFileSync(path);
  const ca = (): Buffer => pem(certFiles.ca(certs).cert);
  const member = (id: string): ClientTls => ({
    ca: ca(),
    cert: pem(certFiles.member(certs, id).cert),
    key: pem(certFiles.member(certs, id).key),
  });
  const admin = (): ClientTls => ({
    ca: ca(),
    cert: pem(certFiles.admin(certs, 'ops').cert),
    key: pem(certFiles.admin(certs, 'ops').key),
  });
  const client = (o: { tls?: ClientTls; token?: string }): SequenceClient =>
    new SequenceClient({ endpoints: cluster.nodes.map((n) => n.addr), deadlineMs: 8000, ...o });

  beforeAll(async () => {
    await initCaInDir(certs);
    for (const id of IDS) await issueInDir(certs, { kind: 'member', id, hosts: ['127.0.0.1'] });
    await issueInDir(certs, { kind: 'admin', name: 'ops' });
    writeFileSync(join(certs, 'tokens'), `# ops\n${TOKEN}\n`, { mode: 0o600 });
    const a = admin();
    cluster = await ProcCluster.start({
      size: 3,
      dir: join(dir, 'nodes'),
      serveArgs: [
        '--ca',
        certFiles.ca(certs).cert,
        '--admin-token-file',
        join(certs, 'tokens'),
        '--metrics-listen',
        '127.0.0.1:0',
      ],
      serveArgsFor: (id) => [
        '--cert',
        certFiles.member(certs, id).cert,
        '--key',
        certFiles.member(certs, id).key,
      ],
      credentials: grpc.credentials.createSsl(a.ca as Buffer, a.key as Buffer, a.cert as Buffer),
    });
    await cluster.leader(20_000);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("probes stay plaintext; a follower's status page shows the leader's view, asked over TLS", async () => {
    const leader = await cluster.leader(20_000);
    const follower = cluster.nodes.find((n) => n.id !== leader)!;
    const http = `http://127.0.0.1:${follower.metricsPort}`;
    await waitUntil(async () => (await fetch(`${http}/readyz`)).status === 200, 'follower ready');
    type View = {
      answeredBy: { id: string };
      servedBy: string;
      note: string | null;
      clusterId: string | null;
      members: { id: string; version: string | null; error: string | null }[];
    };
    // The follower asks the leader with a short deadline and says so when it
    // gets no answer (a loaded machine can miss one): ask until the leader's
    // view comes back. Were TLS between them broken, it never would.
    const view = await waitFor(async () => {
      const v = (await (await fetch(`${http}/status.json`)).json()) as View;
      return v.answeredBy.id === leader && v.note === null && v.clusterId !== null ? v : undefined;
    }, "the leader's view, through the follower");
    expect(view).toMatchObject({ answeredBy: { id: leader }, servedBy: follower.id, note: null });
    // The leader asked every member for its own status over TLS, as a member.
    expect(view.members.map((m) => [m.id, m.error])).toEqual(IDS.map((id) => [id, null]));
    for (const m of view.members) expect(m.version).not.toBeNull();
    // The cluster got its id over TLS links too, and the page shows it.
    expect(view.clusterId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('serves Next over TLS to a client that trusts the CA', async () => {
    const c = client({ tls: { ca: ca() } });
    try {
      expect((await c.next('orders', 3)).count).toBe(3);
    } finally {
      c.close();
    }
  });

  it('a plaintext CLI gets one line saying the node speaks TLS; with --ca it works', async () => {
    const addr = cluster.nodes[0]!.addr;
    const plain = await runCli(['next', 'orders', '--endpoints', addr]);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split('\n')).toEqual([
      `raftseq: endpoint ${addr} speaks TLS; pass --ca (the CA that signed its certificate)`,
    ]);
    const tls = await runCli([
      'next',
      'orders',
      '--endpoints',
      addr,
      '--ca',
      certFiles.ca(certs).cert,
    ]);
    expect(tls).toMatchObject({ code: 0, stderr: '' });
    expect(tls.stdout.trim()).toMatch(/^\d+$/);
  });

  it('admin mutations: no identity is UNAUTHENTICATED, a member PERMISSION_DENIED; admin certificate and token pass', async () => {
    const advance = async (o: { tls?: ClientTls; token?: string }): Promise<number> => {
      const c = client(o);
      try {
        await c.advanceSequence('audited', 100n);
        return GrpcStatus.OK;
      } catch (e) {
        return (e as { code: number }).code;
      } finally {
        c.close();
      }
    };
    expect(await advance({ tls: { ca: ca() } })).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(await advance({ tls: member('n2') })).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(await advance({ tls: { ca: ca() }, token: 'not-the-token-0123456789' })).toBe(
      GrpcStatus.UNAUTHENTICATED,
    );
    expect(await advance({ tls: admin() })).toBe(GrpcStatus.OK);
    const c = client({ tls: { ca: ca() }, token: TOKEN });
    try {
      await c.advanceSequence('audited', 200n);
    } finally {
      c.close();
    }
    // One audit line per admin call, with who, from where, what and how it
    // ended (the nodes write their logs asynchronously: wait for the last one).
    const audits = (): Record<string, unknown>[] =>
      cluster.nodes
        .flatMap((n) => readFileSync(n.logFile, 'utf8').split('\n'))
        .filter((l) => l.includes('"audit"'))
        .map((l) => (JSON.parse(l) as { audit: Record<string, unknown> }).audit);
    await waitUntil(
      () => audits().some((a) => a['caller'] === 'token' && a['outcome'] === 'OK'),
      'the audit line of the token call',
      5000,
    );
    expect(audits()).toContainEqual(
      expect.objectContaining({
        rpc: 'AdvanceSequence',
        caller: 'raftseq://admin/ops',
        outcome: 'OK',
        args: expect.objectContaining({ name: 'audited' }),
      }),
    );
    expect(audits()).toContainEqual(
      expect.objectContaining({ rpc: 'AdvanceSequence', caller: 'token', outcome: 'OK' }),
    );
    expect(audits()).toContainEqual(
      expect.objectContaining({
        rpc: 'AdvanceSequence',
        caller: 'anonymous',
        outcome: 'UNAUTHENTICATED',
      }),
    );
    // No token ever reaches a log.
    for (const n of cluster.nodes) expect(readFileSync(n.logFile, 'utf8')).not.toContain(TOKEN);
  });

  /** Opens a Raft/Send stream to n1 announcing `from`, sends `batchFrom`'s batch; the stream's status. */
  function sendAs(
    tls: ClientTls,
    from: string,
    batchFrom: string,
  ): Promise<grpc.ServiceError | null> {
    const target = cluster.nodes.find((n) => n.id === 'n1')!.addr;
    const creds = grpc.credentials.createSsl(
      tls.ca as Buffer,
      (tls.key as Buffer | undefined) ?? null,
      (tls.cert as Buffer | undefined) ?? null,
    );
    const c = new grpc.Client(target, creds);
    const send = raftServices().Raft.Send!;
    const md = new grpc.Metadata();
    md.set('raftseq-from', from);
    md.set('raftseq-to', 'n1');
    return new Promise((resolve) => {
      const call = c.makeClientStreamRequest(
        send.path,
        send.requestSerialize,
        send.responseDeserialize,
        md,
        { deadline: Date.now() + 5000 },
        (err) => {
          c.close();
          resolve(err);
        },
      );
      call.write({ formatVersion: FORMAT_VERSION, from: batchFrom, messages: [] });
      call.end();
    });
  }

  it("member n2's certificate cannot send Raft messages as n3", async () => {
    expect((await sendAs(member('n2'), 'n3', 'n3'))?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await sendAs(member('n2'), 'n2', 'n3'))?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await sendAs({ ca: ca() }, 'n2', 'n2'))?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await sendAs(member('n2'), 'n2', 'n2')).toBeNull();
  });
});
