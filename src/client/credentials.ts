// How a client proves who it is and checks who it talks to: TLS with the
// cluster's CA (and, for mutual TLS, the client's own certificate), and an
// admin bearer token, which grpc-js sends only over TLS.

import * as grpc from '@grpc/grpc-js';
import { GrpcStatus, RaftseqError } from './errors.js';

export interface ClientTls {
  /** The CA that signed the servers' certificates (PEM). */
  ca: string | Buffer;
  /** This client's certificate (PEM; SAN raftseq://admin/<name> for admin calls). */
  cert?: string | Buffer;
  /** The private key of `cert` (PEM). */
  key?: string | Buffer;
}

const buf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * Call credentials that send `authorization: Bearer <token>`. grpc-js only
 * composes them with secure channel credentials, so a token never leaves
 * over plaintext.
 */
export function bearerCallCredentials(token: string): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    callback(null, md);
  });
}

/** Channel credentials for `tls` and `token` (plaintext when neither is given). */
export function clientCredentials(
  tls: ClientTls | undefined,
  token: string | undefined,
): grpc.ChannelCredentials {
  if (tls === undefined) {
    if (token !== undefined) {
      throw new RaftseqError(
        GrpcStatus.INVALID_ARGUMENT,
        'a token is only sent over TLS: give tls: { ca } too',
      );
    }
    return grpc.credentials.createInsecure();
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, 'tls.cert and tls.key go together');
  }
  const ssl = grpc.credentials.createSsl(
    buf(tls.ca),
    tls.key === undefined ? null : buf(tls.key),
    tls.cert === undefined ? null : buf(tls.cert),
  );
  return token === undefined
    ? ssl
    : grpc.credentials.combineChannelCredentials(ssl, bearerCallCredentials(token));
}
