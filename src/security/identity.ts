// Who is calling: the raftseq identity named by a verified client certificate.
//
// A member's certificate carries the SAN URI raftseq://member/<id>, an admin's
// raftseq://admin/<name> (src/security/certs.ts issues both). The identity is
// read only from certificates that the TLS layer verified against --ca:
// grpc-js's call.getAuthContext() hands out sslPeerCertificate only when the
// socket is `authorized` (@grpc/grpc-js 1.14, server-interceptors.js
// BaseServerInterceptingCall.getAuthContext), so an unverified certificate
// reads as no certificate at all.
//
// Parsing is strict on purpose: a certificate that claims two raftseq
// identities, or a malformed one, is 'other' (it authenticates, but grants
// nothing), never the first of them.
import type { PeerCertificate } from 'node:tls';
import { MEMBER_ID, memberIdProblem } from '../common/validate.js';

export const MEMBER_URI_PREFIX = 'raftseq://member/';
export const ADMIN_URI_PREFIX = 'raftseq://admin/';

export type Identity =
  | { kind: 'member'; id: string }
  | { kind: 'admin'; name: string }
  /** A verified certificate without exactly one well-formed raftseq identity. */
  | { kind: 'other'; reason: string };

/** The SAN URI of a member's certificate. */
export function memberUri(id: string): string {
  return MEMBER_URI_PREFIX + id;
}

/** The SAN URI of an admin's certificate. */
export function adminUri(name: string): string {
  return ADMIN_URI_PREFIX + name;
}

/** Why `name` is not a valid admin name, or null. Same alphabet as member ids. */
export function adminNameProblem(name: string): string | null {
  if (name === '') return 'admin name is empty';
  if (!MEMBER_ID.test(name)) {
    return `admin name ${JSON.stringify(name)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`;
  }
  return null;
}

/**
 * The entries of Node's `subjectaltname` string ("URI:a, DNS:b, IP Address:c"),
 * or null when the string does not have that shape. Node writes a value that
 * holds a comma, a quote or a non-ASCII character as a JSON string
 * (CVE-2021-44532), so "URI:\"x, URI:y\"" is one entry, not two.
 */
export function parseSubjectAltName(san: string): { type: string; value: string }[] | null {
  const entry = /([^:,"]+):("(?:[^"\\]|\\.)*"|[^,"]*)(?:, |$)/y;
  const out: { type: string; value: string }[] = [];
  let at = 0;
  while (at < san.length) {
    entry.lastIndex = at;
    const m = entry.exec(san);
    if (m === null || m[0] === '') return null;
    let value = m[2] ?? '';
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        return null;
      }
    }
    out.push({ type: m[1] ?? '', value });
    at = entry.lastIndex;
  }
  return out;
}

/** The identity a certificate's `subjectaltname` string names (see Identity). */
export function identityFromSubjectAltName(san: string | undefined): Identity {
  if (san === undefined || san === '')
    return { kind: 'other', reason: 'no subject alternative name' };
  const entries = parseSubjectAltName(san);
  if (entries === null) return { kind: 'other', reason: 'unreadable subject alternative name' };
  // Any URI in our scheme is a claim; other URIs (e.g. SPIFFE ids) are ignored.
  const claims = entries
    .filter((e) => e.type === 'URI' && /^raftseq:/i.test(e.value))
    .map((e) => e.value);
  if (claims.length === 0) return { kind: 'other', reason: 'no raftseq:// URI in its SAN' };
  if (claims.length > 1) {
    return { kind: 'other', reason: `${claims.length} raftseq:// URIs in its SAN (one allowed)` };
  }
  const uri = claims[0] ?? '';
  if (uri.startsWith(MEMBER_URI_PREFIX)) {
    const id = uri.slice(MEMBER_URI_PREFIX.length);
    const problem = memberIdProblem(id);
    return problem === null ? { kind: 'member', id } : { kind: 'other', reason: problem };
  }
  if (uri.startsWith(ADMIN_URI_PREFIX)) {
    const name = uri.slice(ADMIN_URI_PREFIX.length);
    const problem = adminNameProblem(name);
    return problem === null ? { kind: 'admin', name } : { kind: 'other', reason: problem };
  }
  return { kind: 'other', reason: `${JSON.stringify(uri)} is neither a member nor an admin URI` };
}

/** The identity of a verified peer certificate; null without one. */
export function identityFromPeerCertificate(
  cert: PeerCertificate | undefined | null,
): Identity | null {
  // tls.getPeerCertificate() returns {} when the peer sent none.
  if (cert === undefined || cert === null || cert.raw === undefined) return null;
  return identityFromSubjectAltName(cert.subjectaltname);
}

/** What grpc-js's server calls (and interceptor calls) expose; AuthContext is not exported. */
export interface AuthContextSource {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
}

/**
 * The caller's identity in a gRPC handler or server interceptor: null when the
 * call came without a verified client certificate (or over plaintext).
 */
export function callIdentity(call: AuthContextSource): Identity | null {
  return identityFromPeerCertificate(call.getAuthContext()?.sslPeerCertificate);
}

/** How an identity is written in logs and error messages. */
export function describeIdentity(identity: Identity | null): string {
  if (identity === null) return 'no client certificate';
  switch (identity.kind) {
    case 'member':
      return memberUri(identity.id);
    case 'admin':
      return adminUri(identity.name);
    case 'other':
      return `a certificate without a raftseq identity (${identity.reason})`;
  }
}
