// TLS for the one port: --cert/--key/--ca turned into grpc-js server and
// channel credentials that follow the files as they are replaced.
//
// Rotation rides on grpc-js 1.14's certificate providers: a server built on
// experimental.createCertificateProviderServerCredentials calls
// setSecureContext() on every update (new connections get it, established
// ones keep theirs), and channel credentials built on
// createCertificateProviderChannelCredentials build each new connection's
// context from the latest update. The polling itself is grpc-js's
// FileWatcherCertificateProvider. TlsFiles stands between the two because the
// watcher alone publishes whatever it reads: a key replaced before its
// certificate (two renames are not atomic together), or a file briefly
// missing, makes it publish a mismatched pair or nothing, and the server then
// drops every new connection until the next poll. TlsFiles checks each update
// (the certificate matches the key, the CA parses) and keeps the last good
// one, reporting the problem once.
//
// The server asks for a client certificate but does not require one at the
// handshake: health checking stays open and plain clients may call what
// policy.ts lets them. A certificate that --ca does not verify makes no
// identity (see identity.ts).
import { experimental, type ChannelCredentials, type ServerCredentials } from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { fileProblem } from './file-problem.js';
import { describeIdentity, identityFromPeerCertificate, memberUri } from './identity.js';

/** How often the files are polled by default: replaced files take effect within 10 s. */
export const TLS_REFRESH_MS = 5_000;

export interface ServerTlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface ClientTlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

/** A combination of security options that cannot work; the CLI exits 2 on it. */
export class TlsUsageError extends Error {
  override name = 'TlsUsageError';
}

const list = (names: string[]): string =>
  names.length === 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;

/**
 * serve's --cert/--key/--ca (all three or none) and the options that need
 * them; null for plaintext. Throws TlsUsageError naming what is missing.
 */
export function serverTlsFiles(o: {
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  adminTokenFile?: string | undefined;
  clientCertAuth?: boolean | undefined;
}): ServerTlsFiles | null {
  const given = { '--cert': o.cert, '--key': o.key, '--ca': o.ca };
  const missing = Object.entries(given)
    .filter(([, v]) => v === undefined || v === '')
    .map(([k]) => k);
  if (missing.length === 3) {
    const needy = [
      o.adminTokenFile !== undefined ? '--admin-token-file' : null,
      o.clientCertAuth === true ? '--client-cert-auth' : null,
    ].filter((x): x is string => x !== null);
    if (needy.length > 0) {
      throw new TlsUsageError(`${list(needy)} need TLS: give --cert, --key and --ca too`);
    }
    return null;
  }
  if (missing.length > 0) {
    throw new TlsUsageError(
      `TLS needs --cert, --key and --ca together; ${list(missing)} ${missing.length === 1 ? 'is' : 'are'} missing`,
    );
  }
  return { cert: o.cert ?? '', key: o.key ?? '', ca: o.ca ?? '' };
}

/**
 * A client's --ca/--cert/--key/--token-file: --ca turns TLS on, --cert and
 * --key go together and need --ca, a token is only sent over TLS. Null for
 * plaintext; throws TlsUsageError.
 */
export function clientTlsFiles(o: {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  tokenFile?: string | undefined;
}): ClientTlsFiles | null {
  const has = (v: string | undefined): v is string => v !== undefined && v !== '';
  if (has(o.cert) !== has(o.key)) {
    throw new TlsUsageError(has(o.cert) ? '--cert needs --key' : '--key needs --cert');
  }
  if (!has(o.ca)) {
    if (has(o.cert))
      throw new TlsUsageError('--cert and --key need --ca (the CA that signed the server)');
    if (has(o.tokenFile))
      throw new TlsUsageError('--token-file needs --ca: a token is only sent over TLS');
    return null;
  }
  return has(o.cert) && has(o.key) ? { ca: o.ca, cert: o.cert, key: o.key } : { ca: o.ca };
}

// ------------------------------------------------------------ the files

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates of a CA bundle. */
function pemBlocks(ca: Buffer): string[] {
  return ca.toString('utf8').match(PEM_CERT) ?? [];
}

/**
 * A CA bundle as OpenSSL wants it: one certificate after another, each on its
 * own lines. Bundles made by hand (`cat a.pem b.pem`) may glue one
 * certificate's last line to the next one's first when a file lacks its final
 * newline, and OpenSSL then rejects the whole bundle.
 */
export function normalizeCa(ca: Buffer): Buffer {
  return Buffer.from(pemBlocks(ca).join('\n') + '\n');
}

/** Why a CA bundle cannot be used, or null. Every certificate in it must parse. */
export function caProblem(ca: Buffer): string | null {
  const blocks = pemBlocks(ca);
  if (blocks.length === 0) return 'holds no PEM certificate';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return `certificate ${i + 1} of ${blocks.length} does not parse`;
    }
  }
  return null;
}

/** Why a certificate and key cannot serve together, or null. */
export function identityProblem(cert: Buffer, key: Buffer): string | null {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch {
    return 'the certificate is not a PEM certificate';
  }
  try {
    if (!x.checkPrivateKey(createPrivateKey(key)))
      return 'the key does not belong to the certificate';
  } catch {
    return 'the key is not a PEM private key';
  }
  return null;
}

export type TlsFileEvent =
  | { kind: 'reloaded'; what: 'certificate' | 'ca'; detail: string }
  | { kind: 'error'; message: string };

export interface TlsWatchOptions {
  /** How often the files are read again (default TLS_REFRESH_MS). */
  refreshMs?: number;
  /** Reloads and rejected updates, for the log. */
  onEvent?: (event: TlsFileEvent) => void;
}

type Identity = experimental.IdentityCertificateUpdate;

function readOrThrow(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`${flag} ${path}: ${fileProblem(e)}`);
  }
}

function certSummary(cert: Buffer): string {
  const x = new X509Certificate(cert);
  return `serial ${x.serialNumber}, valid until ${new Date(x.validTo).toISOString()}`;
}

/**
 * The certificate, key and CA files as a grpc-js CertificateProvider: read at
 * once (a missing or bad file throws a one-line Error naming the flag), then
 * polled while a server or channel uses them, publishing only good updates.
 */
export class TlsFiles implements experimental.CertificateProvider {
  private ca: Buffer;
  private identity: Identity | null = null;
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private readonly watcher: experimental.FileWatcherCertificateProvider;
  private watching = false;
  /** The problem last reported, per file set: each is said once, however often it is polled. */
  private readonly lastProblem: { ca: string | null; identity: string | null } = {
    ca: null,
    identity: null,
  };

  constructor(
    readonly files: ClientTlsFiles,
    private readonly options: TlsWatchOptions = {},
  ) {
    const ca = readOrThrow(files.ca, '--ca');
    const problem = caProblem(ca);
    if (problem !== null) throw new Error(`--ca ${files.ca}: ${problem}`);
    this.ca = normalizeCa(ca);
    if (files.cert !== undefined && files.key !== undefined) {
      const certificate = readOrThrow(files.cert, '--cert');
      const privateKey = readOrThrow(files.key, '--key');
      const problem = identityProblem(certificate, privateKey);
      if (problem !== null) throw new Error(`--cert ${files.cert}, --key ${files.key}: ${problem}`);
      this.identity = { certificate, privateKey };
    }
    this.watcher = new experimental.FileWatcherCertificateProvider({
      caCertificateFile: files.ca,
      ...(this.identity !== null ? { certificateFile: files.cert, privateKeyFile: files.key } : {}),
      refreshIntervalMs: options.refreshMs ?? TLS_REFRESH_MS,
    });
  }

  /** The certificate and key in use (null for a client without one). */
  currentIdentity(): Identity | null {
    return this.identity;
  }

  /** The CA bundle in use. */
  currentCa(): Buffer {
    return this.ca;
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.refreshIfIdle();
    this.caListeners.add(listener);
    process.nextTick(listener, { caCertificate: this.ca });
    this.watchWhileUsed();
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
    this.watchWhileUsed();
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.refreshIfIdle();
    this.identityListeners.add(listener);
    process.nextTick(listener, this.identity);
    this.watchWhileUsed();
  }

  removeIdentityCertificateListener(
    listener: experimental.IdentityCertificateUpdateListener,
  ): void {
    this.identityListeners.delete(listener);
    this.watchWhileUsed();
  }

  /**
   * Nobody polled the files while nobody listened (a client between two
   * channels, say), and the watcher drops a read that completes after its
   * last listener left: read them now, so a new listener starts current.
   */
  private refreshIfIdle(): void {
    if (this.watching) return;
    const read = (path: string): Buffer | null => {
      try {
        return readFileSync(path);
      } catch {
        return null;
      }
    };
    const ca = read(this.files.ca);
    this.onCaRead(ca === null ? null : { caCertificate: ca });
    if (this.identity !== null && this.files.cert !== undefined && this.files.key !== undefined) {
      const certificate = read(this.files.cert);
      const privateKey = read(this.files.key);
      this.onIdentityRead(
        certificate === null || privateKey === null ? null : { certificate, privateKey },
      );
    }
  }

  /** Polls (through the watcher) exactly while someone listens, so no timer outlives its server. */
  private watchWhileUsed(): void {
    const used = this.caListeners.size + this.identityListeners.size > 0;
    if (used === this.watching) return;
    this.watching = used;
    if (used) {
      this.watcher.addCaCertificateListener(this.onCaRead);
      if (this.identity !== null) this.watcher.addIdentityCertificateListener(this.onIdentityRead);
    } else {
      this.watcher.removeCaCertificateListener(this.onCaRead);
      this.watcher.removeIdentityCertificateListener(this.onIdentityRead);
    }
  }

  private problem(what: 'ca' | 'identity', message: string): void {
    // Once per distinct problem, not every poll. Kept per file set: with a bad
    // CA and a mismatched pair at once, a single slot would alternate between
    // the two and report both on every poll.
    if (message === this.lastProblem[what]) return;
    this.lastProblem[what] = message;
    this.options.onEvent?.({ kind: 'error', message });
  }

  private readonly onCaRead = (update: experimental.CaCertificateUpdate | null): void => {
    const path = this.files.ca;
    const problem = update === null ? this.unreadable(path) : caProblem(update.caCertificate);
    if (problem !== null || update === null) {
      this.problem('ca', `--ca ${path}: ${problem}; keeping the previous CA`);
      return;
    }
    const ca = normalizeCa(update.caCertificate);
    if (ca.equals(this.ca)) return;
    this.ca = ca;
    this.lastProblem.ca = null;
    const count = pemBlocks(ca).length;
    this.options.onEvent?.({ kind: 'reloaded', what: 'ca', detail: `${count} certificate(s)` });
    for (const l of this.caListeners) l({ caCertificate: this.ca });
  };

  private readonly onIdentityRead = (update: Identity | null): void => {
    const where = `--cert ${this.files.cert}, --key ${this.files.key}`;
    const problem =
      update === null
        ? (this.unreadable(this.files.cert) ?? this.unreadable(this.files.key) ?? 'unreadable')
        : identityProblem(update.certificate, update.privateKey);
    if (problem !== null || update === null) {
      this.problem('identity', `${where}: ${problem}; keeping the previous certificate`);
      return;
    }
    const current = this.identity;
    if (
      current !== null &&
      update.certificate.equals(current.certificate) &&
      update.privateKey.equals(current.privateKey)
    ) {
      return;
    }
    this.identity = update;
    this.lastProblem.identity = null;
    this.options.onEvent?.({
      kind: 'reloaded',
      what: 'certificate',
      detail: certSummary(update.certificate),
    });
    for (const l of this.identityListeners) l(update);
  };

  /** Why a file the watcher could not read is unreadable (only on that rare path). */
  private unreadable(path: string | undefined): string | null {
    if (path === undefined) return null;
    try {
      readFileSync(path);
      return null;
    } catch (e) {
      return fileProblem(e);
    }
  }
}

// ------------------------------------------------------------ credentials

/** Server credentials for --cert/--key/--ca that follow the files. */
export function serverCredentials(files: TlsFiles): ServerCredentials {
  if (files.currentIdentity() === null) throw new Error('a TLS server needs --cert and --key');
  // The declared parameter names of createCertificateProviderServerCredentials
  // (ca, identity) are the reverse of what grpc-js 1.14 does with them
  // (identity, ca); one provider for both makes the order moot.
  return experimental.createCertificateProviderServerCredentials(files, files, false);
}

/**
 * A checkServerIdentity for TLS clients that dial a member: the server's
 * certificate must carry raftseq://member/<expected> (host names are not
 * checked). Also usable with grpc.credentials.createSsl(ca, key, cert,
 * { checkServerIdentity }).
 */
export function memberServerCheck(
  expected: string,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (host, cert) => {
    const id = identityFromPeerCertificate(cert);
    if (id?.kind === 'member' && id.id === expected) return undefined;
    return new Error(
      `${host} presented ${describeIdentity(id)}, not the certificate of member ${memberUri(expected)}`,
    );
  };
}

/**
 * Channel credentials that trust --ca and present --cert/--key when given.
 *
 * By default the server's certificate must name the host dialled (DNS or IP
 * SAN), as for any TLS client. A member dialling a peer passes
 * `expectMember`: the peer's certificate must then carry
 * raftseq://member/<that id> instead, because a node's identity is its id and
 * the address it dials may be a proxy's or a NAT's.
 */
export function channelCredentials(
  files: TlsFiles,
  opts: { expectMember?: string } = {},
): ChannelCredentials {
  const identity = files.currentIdentity() !== null ? files : null;
  const verify =
    opts.expectMember === undefined
      ? {}
      : { checkServerIdentity: memberServerCheck(opts.expectMember) };
  return experimental.createCertificateProviderChannelCredentials(files, identity, verify);
}

const FILTERED = Symbol('raftseq.dep0123Filtered');

/**
 * grpc-js sets the TLS server name to the host dialled even when that is an
 * IP address (grpc-node#1919), and Node then prints DEP0123 on stderr once
 * per process. The certificate check itself is right (an IP is matched
 * against the IP SANs); only the warning is noise next to a CLI's one-line
 * output. Filters that one warning; call once at startup of a process that
 * dials by IP.
 */
export function silenceIpServernameWarning(): void {
  const emit = process.emitWarning as typeof process.emitWarning & { [FILTERED]?: true };
  if (emit[FILTERED]) return;
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    // emitWarning(warning, type, code) or emitWarning(warning, { code })
    const options = rest[0];
    const code =
      typeof options === 'object' && options !== null
        ? (options as { code?: unknown }).code
        : rest[1];
    if (code === 'DEP0123') return;
    Reflect.apply(emit, process, [warning, ...rest]);
  };
  process.emitWarning = Object.assign(filtered, { [FILTERED]: true as const }) as typeof emit;
}
