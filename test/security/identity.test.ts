// Identities from certificates: what the SAN says, strictly.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  callIdentity,
  describeIdentity,
  identityFromPeerCertificate,
  identityFromSubjectAltName,
  parseSubjectAltName,
} from '../../src/security/identity.js';
import { makePki } from './kit.js';

describe('parseSubjectAltName', () => {
  it('reads the entries Node writes', () => {
    expect(
      parseSubjectAltName('URI:raftseq://member/n1, DNS:node1.example, IP Address:127.0.0.1'),
    ).toEqual([
      { type: 'URI', value: 'raftseq://member/n1' },
      { type: 'DNS', value: 'node1.example' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
  });

  it('reads a quoted value as one entry, however many commas it holds', () => {
    expect(parseSubjectAltName('URI:"raftseq://member/n1\\u002c URI:raftseq://member/n2"')).toEqual(
      [{ type: 'URI', value: 'raftseq://member/n1, URI:raftseq://member/n2' }],
    );
  });

  it('refuses what Node never writes', () => {
    expect(parseSubjectAltName('URI:a,URI:b')).toBeNull();
    expect(parseSubjectAltName('URI:"unterminated')).toBeNull();
    expect(parseSubjectAltName('no colon')).toBeNull();
  });
});

describe('identityFromSubjectAltName', () => {
  it.each([
    ['URI:raftseq://member/n1', { kind: 'member', id: 'n1' }],
    ['DNS:a.example, URI:raftseq://member/n-2.x_y', { kind: 'member', id: 'n-2.x_y' }],
    ['URI:raftseq://admin/ops, DNS:ops.example', { kind: 'admin', name: 'ops' }],
    // Other URI schemes (e.g. a SPIFFE id next to ours) are ignored.
    ['URI:spiffe://example.org/x, URI:raftseq://member/n1', { kind: 'member', id: 'n1' }],
  ])('%s', (san, identity) => {
    expect(identityFromSubjectAltName(san)).toEqual(identity);
  });

  it.each([
    ['', /no subject alternative name/],
    ['DNS:a.example', /no raftseq/],
    ['URI:raftseq://member/n1, URI:raftseq://member/n2', /2 raftseq/],
    ['URI:raftseq://member/n1, URI:raftseq://admin/ops', /2 raftseq/],
    ['URI:raftseq://member/n1, URI:RAFTSEQ://member/n2', /2 raftseq/],
    ['URI:raftseq://member/', /member id is empty/],
    ['URI:raftseq://member/n1/extra', /member id "n1\/extra"/],
    ['URI:raftseq://member/-n1', /member id/],
    ['URI:raftseq://admin/a b', /unreadable|admin name/],
    ['URI:"raftseq://member/n1\\u002c x"', /member id/],
    ['URI:raftseq://members/n1', /neither a member nor an admin/],
    ['URI:raftseq:member/n1', /neither a member nor an admin/],
  ])('%j is other', (san, reason) => {
    const id = identityFromSubjectAltName(san);
    expect(id.kind).toBe('other');
    expect(id.kind === 'other' && id.reason).toMatch(reason);
  });
});

describe('identityFromPeerCertificate and callIdentity', () => {
  it('null without a certificate: undefined, or the {} getPeerCertificate() returns', () => {
    expect(identityFromPeerCertificate(undefined)).toBeNull();
    expect(identityFromPeerCertificate({} as PeerCertificate)).toBeNull();
    expect(callIdentity({ getAuthContext: () => ({}) })).toBeNull();
    expect(callIdentity({ getAuthContext: () => null })).toBeNull();
  });

  it('reads issued certificates', async () => {
    const pki = await makePki();
    const peer = (pem: string): PeerCertificate => {
      const x = new X509Certificate(pem);
      return { raw: x.raw, subjectaltname: x.subjectAltName } as PeerCertificate;
    };
    const member = peer((await pki.member('n7', ['127.0.0.1', 'n7.example'])).cert);
    const admin = peer((await pki.admin('ops')).cert);
    expect(callIdentity({ getAuthContext: () => ({ sslPeerCertificate: member }) })).toEqual({
      kind: 'member',
      id: 'n7',
    });
    expect(identityFromPeerCertificate(admin)).toEqual({ kind: 'admin', name: 'ops' });
    expect(identityFromPeerCertificate(peer(pki.ca.cert))?.kind).toBe('other');
  });
});

describe('describeIdentity', () => {
  it('writes the URI, or says what is missing', () => {
    expect(describeIdentity({ kind: 'member', id: 'n1' })).toBe('raftseq://member/n1');
    expect(describeIdentity({ kind: 'admin', name: 'ops' })).toBe('raftseq://admin/ops');
    expect(describeIdentity(null)).toBe('no client certificate');
    expect(describeIdentity({ kind: 'other', reason: 'x' })).toMatch(
      /without a raftseq identity \(x\)/,
    );
  });
});
