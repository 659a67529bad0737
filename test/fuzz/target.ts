// The cluster the fuzzer attacks: three `raftseq serve` processes with TLS on
// their one port, certificates from the project's own CA code, an admin
// certificate, and one more member certificate (the fuzzing peer's) for an id
// that is not in the cluster. Plus what "nothing changed" means: the
// observable state before and after, and the nodes' logs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SequenceClient, type ClientTls } from '../../src/client/index.js';
import { certFiles } from '../../src/security/cert-profile.js';
import { initCaInDir, issueInDir } from '../../src/security/certs.js';
import { ProcCluster } from '../support/proc-cluster.js';
import type { FuzzContext } from './cases.js';
import type { TlsMaterial } from './exec.js';

export const PEER_ID = 'n9';
export const KNOWN_SEQUENCE = 'fuzz.known';
const ADMIN = 'ops';

export interface FuzzTarget {
  cluster: ProcCluster;
  tls: TlsMaterial;
  admin: SequenceClient;
  stop(): Promise<void>;
}

export async function startTarget(dir: string): Promise<FuzzTarget> {
  const certs = join(dir, 'certs');
  await initCaInDir(certs);
  for (const id of ['n1', 'n2', 'n3', PEER_ID]) {
    await issueInDir(certs, { kind: 'member', id, hosts: ['127.0.0.1'] });
  }
  await issueInDir(certs, { kind: 'admin', name: ADMIN });
  const pem = (p: string): Buffer => readFileSync(p);
  const ca = pem(certFiles.ca(certs).cert);
  const pair = (f: { cert: string; key: string }) => ({ cert: pem(f.cert), key: pem(f.key) });
  const tls: TlsMaterial = {
    ca,
    pairs: {
      admin: pair(certFiles.admin(certs, ADMIN)),
      member: pair(certFiles.member(certs, PEER_ID)),
    },
  };
  const cluster = await ProcCluster.start({
    size: 3,
    dir: join(dir, 'nodes'),
    // Generous timeouts: the machine is shared and the fuzzer loads it; an
    // election caused by a starved process would look like a changed state.
    electionTimeoutMs: 3000,
    heartbeatIntervalMs: 150,
    faultInjection: false,
    serveArgs: ['--ca', certFiles.ca(certs).cert],
    serveArgsFor: (id) => [
      '--cert',
      certFiles.member(certs, id).cert,
      '--key',
      certFiles.member(certs, id).key,
    ],
    credentials: grpc.credentials.createSsl(ca, tls.pairs.admin.key, tls.pairs.admin.cert),
  });
  // A loaded machine may take a few election timeouts to elect the first leader.
  await cluster.leader(60_000).catch(async (e: unknown) => {
    await cluster.stop();
    throw e;
  });
  const adminTls: ClientTls = { ca, ...tls.pairs.admin };
  const admin = new SequenceClient({
    endpoints: cluster.endpoints,
    deadlineMs: 10_000,
    tls: adminTls,
  });
  return {
    cluster,
    tls,
    admin,
    stop: async () => {
      admin.close();
      await cluster.stop();
    },
  };
}

/** What must not change: leader, term, members, every sequence. */
export interface Observed {
  leader: string | null;
  term: string;
  members: { id: string; address: string; role: string }[];
  sequences: { name: string; next: string; reserved: string; skipped: string }[];
}

export async function observe(t: FuzzTarget): Promise<Observed> {
  await t.cluster.leader(20_000);
  const st = await t.admin.clusterStatus();
  const seqs = await t.admin.listAllSequences();
  return {
    leader: st.leader,
    term: String(st.term),
    members: st.members
      .map((m) => ({ id: m.id, address: m.address, role: m.role }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    sequences: seqs.map((s) => ({
      name: s.name,
      next: String(s.next),
      reserved: String(s.reserved),
      skipped: String(s.skipped),
    })),
  };
}

export async function fuzzContext(t: FuzzTarget): Promise<FuzzContext> {
  const st = await t.admin.clusterStatus();
  return {
    ids: t.cluster.nodes.map((n) => n.id),
    peerId: PEER_ID,
    knownSequence: KNOWN_SEQUENCE,
    term: Number(st.term),
    lastIndex: Number(st.lastIndex),
    commit: Number(st.commitIndex),
    maxCount: 100_000,
  };
}

/** Nodes whose process is gone. */
export function deadNodes(t: FuzzTarget): string[] {
  return t.cluster.nodes.filter((n) => n.proc === null).map((n) => n.id);
}

/** Error and fatal lines (pino levels 50, 60) in the nodes' logs, and how many peer messages were refused. */
export function scanLogs(t: FuzzTarget): { errors: string[]; refusedPeerMessages: number } {
  const errors: string[] = [];
  let refusedPeerMessages = 0;
  for (const n of t.cluster.nodes) {
    for (const line of readFileSync(n.logFile, 'utf8').split('\n')) {
      if (/"level":(50|60)/.test(line)) errors.push(`${n.id}: ${line.slice(0, 300)}`);
      if (line.includes('refused a peer message')) refusedPeerMessages++;
    }
  }
  return { errors, refusedPeerMessages };
}
