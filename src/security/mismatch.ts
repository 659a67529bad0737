// One line for the TLS mistakes people make when dialling a node: a TLS
// endpoint reached in plaintext, a plaintext one reached with --ca, a CA that
// does not trust the server, a certificate that does not name the host.
//
// grpc-js reports these inside UNAVAILABLE "No connection established. Last
// error: ..." details. A TLS client sees OpenSSL's words ("wrong version
// number", "self-signed certificate in certificate chain", "Hostname/IP does
// not match certificate's altnames"), which say enough. A plaintext client
// reaching a TLS port only sees the connection fail ("Failed to connect",
// "Connection dropped", ECONNRESET, "Protocol error"), which could be many
// things, so then the endpoint is probed with a TLS handshake that trusts
// anything: if it completes, the endpoint speaks TLS.
import { isIP } from 'node:net';
import { connect } from 'node:tls';

export type ConnectProblem =
  | 'speaks-tls'
  | 'not-tls'
  | 'untrusted'
  | 'expired'
  | 'wrong-name'
  | 'client-cert-required'
  | 'client-cert-rejected';

const TLS_CLIENT_PATTERNS: [ConnectProblem, RegExp][] = [
  ['not-tls', /wrong version number|packet length too long|unknown protocol|http request/i],
  [
    'untrusted',
    /self[- ]signed certificate( in certificate chain)?|unable to get (local )?issuer certificate|unable to verify the first certificate|certificate signature failure/i,
  ],
  ['expired', /certificate has expired|certificate is not yet valid/i],
  [
    'wrong-name',
    /Hostname\/IP does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/i,
  ],
  ['client-cert-required', /certificate required/i],
  [
    'client-cert-rejected',
    /alert (bad certificate|unknown ca|certificate unknown|unsupported certificate)/i,
  ],
];

/** Failures that say nothing about TLS by themselves but are what a protocol mismatch looks like. */
const VAGUE =
  /Failed to connect|Connection dropped|ECONNRESET|Protocol error|socket hang up|disconnected before secure TLS connection|Connection closed/i;

/**
 * What grpc-js's error text says about TLS: a problem, 'probe' when only a
 * handshake probe can tell, or null when it is not about TLS (e.g. refused).
 */
export function classifyConnectError(
  details: string,
  clientTls: boolean,
): { problem: ConnectProblem; detail: string } | 'probe' | null {
  if (clientTls) {
    for (const [problem, re] of TLS_CLIENT_PATTERNS) {
      const m = re.exec(details);
      if (m !== null) return { problem, detail: m[0] };
    }
  }
  return VAGUE.test(details) ? 'probe' : null;
}

/** host and port of "host:port" / "[v6]:port". */
function splitEndpoint(endpoint: string): { host: string; port: number } | null {
  const m = /^\[?([^[\]]+?)\]?:(\d+)$/.exec(endpoint);
  return m === null ? null : { host: m[1] ?? '', port: Number(m[2]) };
}

/**
 * Whether the endpoint completes a TLS handshake (certificates not checked):
 * true or false, or null when it cannot be told (refused, unreachable, slow).
 */
export function speaksTls(endpoint: string, timeoutMs = 2_000): Promise<boolean | null> {
  const target = splitEndpoint(endpoint);
  if (target === null) return Promise.resolve(null);
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      // SNI carries names only (RFC 6066); Node warns when given an IP.
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
    });
    const done = (answer: boolean | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const unreachable = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'ETIMEDOUT'];
      done(unreachable.includes(e.code ?? '') ? null : false);
    });
  });
}

/** The one line for a problem at `endpoint`. */
export function describeConnectProblem(
  endpoint: string,
  problem: ConnectProblem,
  detail = '',
): string {
  const host = splitEndpoint(endpoint)?.host ?? endpoint;
  const why = detail === '' ? '' : ` (${detail})`;
  switch (problem) {
    case 'speaks-tls':
      return `endpoint ${endpoint} speaks TLS; pass --ca (the CA that signed its certificate)`;
    case 'not-tls':
      return `endpoint ${endpoint} does not speak TLS; drop --ca, or start the node with --cert, --key and --ca`;
    case 'untrusted':
      return `endpoint ${endpoint} presented a certificate that --ca does not trust${why}`;
    case 'expired':
      return `endpoint ${endpoint} presented a certificate that is expired or not yet valid${why}`;
    case 'wrong-name':
      return `endpoint ${endpoint} presented a certificate that does not name ${host}; reissue it with --host ${host} (raftseq certs member)`;
    case 'client-cert-required':
      return `endpoint ${endpoint} requires a client certificate; pass --cert and --key`;
    case 'client-cert-rejected':
      return `endpoint ${endpoint} refused the client certificate (--cert)${why}`;
  }
}

/**
 * One line explaining a failed connection to `endpoint` when it is a TLS
 * mismatch or a certificate problem, else null (report the error as it is).
 * `details` is the grpc-js status details (or error message) of the failure.
 */
export async function explainConnectError(
  endpoint: string,
  clientTls: boolean,
  details: string,
  probe: (endpoint: string) => Promise<boolean | null> = speaksTls,
): Promise<string | null> {
  const found = classifyConnectError(details, clientTls);
  if (found === null) return null;
  if (found !== 'probe') return describeConnectProblem(endpoint, found.problem, found.detail);
  const tls = await probe(endpoint);
  if (tls === true && !clientTls) return describeConnectProblem(endpoint, 'speaks-tls');
  if (tls === false && clientTls) return describeConnectProblem(endpoint, 'not-tls');
  return null;
}
