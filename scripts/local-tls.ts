// Certificates for a local or test cluster in one directory, made with the
// project's own certificate API (src/security/certs.ts, what `raftseq certs`
// runs): a CA, one member certificate per node, the admin certificate "ops"
// and an admin token file. `npm start -- --tls` and jepsen-lite's --tls use
// it.
//
// Whatever is already there is reused, so a second run keeps its CA and the
// clients' --ca stays valid; only what is missing (or a leaf certificate
// about to expire) is issued. Delete the directory to start over.
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles } from '../src/security/cert-profile.js';
import { initCaInDir, issueInDir, type LeafRequest } from '../src/security/certs.js';

/** The admin certificate's name: raftseq://admin/ops. */
export const ADMIN_NAME = 'ops';
const TOKEN_FILE = 'admin-token';
/** A leaf certificate that expires sooner than this is issued again. */
const RENEW_BEFORE_MS = 24 * 3600_000;

export interface CertPaths {
  cert: string;
  key: string;
}

export interface LocalTls {
  dir: string;
  /** The CA certificate: every node's and client's --ca. */
  ca: string;
  /** The admin certificate and key (raftseq://admin/ops). */
  admin: CertPaths;
  /** One admin bearer token: the nodes' --admin-token-file and a client's --token-file. */
  tokenFile: string;
  member(id: string): CertPaths;
}

export interface MemberRequest {
  id: string;
  /** Names and addresses the member is dialled at (its certificate's DNS and IP SANs). */
  hosts: readonly string[];
}

/** Paths of the directory's files, whether they exist or not. */
export function localTlsPaths(dir: string): LocalTls {
  return {
    dir,
    ca: certFiles.ca(dir).cert,
    admin: certFiles.admin(dir, ADMIN_NAME),
    tokenFile: join(dir, TOKEN_FILE),
    member: (id) => certFiles.member(dir, id),
  };
}

/** Whether the certificate at `path` exists and is good for at least a day more. */
function current(path: string): boolean {
  if (!existsSync(path)) return false;
  const notAfter = new Date(new X509Certificate(readFileSync(path)).validTo).getTime();
  return notAfter - Date.now() > RENEW_BEFORE_MS;
}

/** Issues the certificate `req` unless a current one is there; true if it issued one. */
async function ensureLeaf(dir: string, path: string, req: LeafRequest): Promise<boolean> {
  if (current(path)) return false;
  await issueInDir(dir, req, { force: existsSync(path) });
  return true;
}

/** Issues member `id`'s certificate if it is missing (or expiring); true if it issued one. */
export async function ensureMemberCert(dir: string, member: MemberRequest): Promise<boolean> {
  return ensureLeaf(dir, localTlsPaths(dir).member(member.id).cert, {
    kind: 'member',
    id: member.id,
    hosts: member.hosts,
  });
}

/**
 * Makes what is missing in `dir`: the CA, the members' certificates, the
 * admin certificate and the token file. Returns the paths and a list of what
 * it made (empty when everything was reused).
 */
export async function ensureLocalTls(
  dir: string,
  members: readonly MemberRequest[],
): Promise<{ tls: LocalTls; made: string[] }> {
  const tls = localTlsPaths(dir);
  const made: string[] = [];
  if (!existsSync(tls.ca)) {
    await initCaInDir(dir);
    made.push('a CA');
  }
  for (const m of members) {
    if (await ensureMemberCert(dir, m)) made.push(`member ${m.id}`);
  }
  if (await ensureLeaf(dir, tls.admin.cert, { kind: 'admin', name: ADMIN_NAME })) {
    made.push(`admin ${ADMIN_NAME}`);
  }
  if (!existsSync(tls.tokenFile)) {
    // 'wx': never overwrite a token someone may already be using.
    writeFileSync(tls.tokenFile, `${randomBytes(32).toString('hex')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    made.push('an admin token');
  }
  return { tls, made };
}
