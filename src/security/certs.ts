// Issuing raftseq's certificates without openssl: a CA, member certificates
// (server and client: a member both serves and dials) and admin certificates
// (client only). ECDSA P-256 keys, SHA-256 signatures.
//
// The in-memory part (createCa, issueCertificate) knows nothing about files;
// the *InDir functions lay the files out under one directory, refuse to
// overwrite unless forced, and write private keys with mode 0600.
//
// @peculiar/x509 builds the certificates on node:crypto's WebCrypto. It
// resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata
// polyfill loaded first; this module is loaded on demand by `raftseq certs`
// only, so the server never carries either.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { constants, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { memberIdProblem } from '../common/validate.js';
import { fileProblem } from './file-problem.js';
import { adminNameProblem, adminUri, memberUri } from './identity.js';
import { CA_DAYS, LEAF_DAYS, certFiles, hostProblem } from './cert-profile.js';

type CryptoKey = webcrypto.CryptoKey;

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** CA keys this module can sign with (its own, or one brought along). */
const CA_CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
};

/** Certificates start a little in the past so a peer whose clock runs behind accepts them. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 24 * 3600_000;

/** A certificate and its private key, PEM-encoded (the key as PKCS#8). */
export interface PemPair {
  cert: string;
  key: string;
}

/** A CA ready to sign. */
export interface CaMaterial {
  cert: x509.X509Certificate;
  key: CryptoKey;
  signingAlgorithm: { name: string; hash: string };
}

export type LeafRequest =
  { kind: 'member'; id: string; hosts: readonly string[] } | { kind: 'admin'; name: string };

export interface ValidityOptions {
  /** Days from now (default CA_DAYS for a CA, LEAF_DAYS otherwise). */
  days?: number;
  /** "Now", for tests. */
  now?: Date;
}

/** A random positive 128-bit serial number (RFC 5280 allows up to 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01; // positive, and no leading zero octet to strip
  return bytes.toString('hex');
}

/**
 * PEM ending in a newline, as openssl writes it: @peculiar/x509 ends at the
 * dashes, and `cat old/ca.pem new/ca.pem` (a CA bundle for a rotation) would
 * then glue two certificates into one line that OpenSSL rejects whole.
 */
function certPem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem')}\n`;
}

function pkcs8Pem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

function validity(
  options: ValidityOptions,
  defaultDays: number,
): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  const days = options.days ?? defaultDays;
  return {
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

/** A new self-signed CA that may sign leaf certificates only (path length 0). */
export async function createCa(options: ValidityOptions = {}): Promise<PemPair> {
  const keys = await newKeyPair();
  // A distinct name per CA, so that during a CA rotation the old and the new
  // CA in one --ca bundle are told apart by name as well as by key id.
  const name = `CN=raftseq CA ${randomBytes(4).toString('hex')}, O=raftseq`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name,
      ...validity(options, CA_DAYS),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { cert: certPem(cert), key: pkcs8Pem(keys.privateKey) };
}

/** Reads a CA certificate and key, checking they belong together and can sign. */
export async function loadCa(pair: PemPair): Promise<CaMaterial> {
  let nodeCert: X509Certificate;
  try {
    nodeCert = new X509Certificate(pair.cert);
  } catch (e) {
    throw new Error(`the CA certificate is not a PEM certificate (${(e as Error).message})`);
  }
  if (!nodeCert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:FALSE)');
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pair.key);
  } catch (e) {
    throw new Error(`the CA key is not a PEM private key (${(e as Error).message})`);
  }
  if (!nodeCert.checkPrivateKey(keyObject)) {
    throw new Error('the CA key does not belong to the CA certificate');
  }
  const curve = CA_CURVES[String(keyObject.asymmetricKeyDetails?.namedCurve)];
  if (keyObject.asymmetricKeyType !== 'ec' || curve === undefined) {
    throw new Error('the CA key must be an ECDSA P-256 or P-384 key');
  }
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    keyObject.export({ type: 'pkcs8', format: 'der' }),
    { name: 'ECDSA', namedCurve: curve.namedCurve },
    false,
    ['sign'],
  );
  return {
    cert: new x509.X509Certificate(pair.cert),
    key,
    signingAlgorithm: { name: 'ECDSA', hash: curve.hash },
  };
}

function leafProfile(req: LeafRequest): {
  subject: string;
  usages: x509.ExtendedKeyUsage[];
  names: x509.JsonGeneralName[];
} {
  if (req.kind === 'admin') {
    const problem = adminNameProblem(req.name);
    if (problem !== null) throw new Error(problem);
    return {
      subject: `CN=raftseq admin ${req.name}, O=raftseq`,
      usages: [x509.ExtendedKeyUsage.clientAuth],
      names: [{ type: 'url', value: adminUri(req.name) }],
    };
  }
  const problem = memberIdProblem(req.id);
  if (problem !== null) throw new Error(problem);
  if (req.hosts.length === 0) throw new Error('a member certificate needs at least one host');
  const hosts: x509.JsonGeneralName[] = req.hosts.map((h) => {
    const p = hostProblem(h);
    if (p !== null) throw new Error(p);
    return { type: isIP(h) !== 0 ? 'ip' : 'dns', value: h };
  });
  return {
    subject: `CN=raftseq member ${req.id}, O=raftseq`,
    usages: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    names: [{ type: 'url', value: memberUri(req.id) }, ...hosts],
  };
}

/**
 * A member or admin certificate signed by `ca`. It never outlives the CA:
 * a longer validity is cut to the CA's end.
 */
export async function issueCertificate(
  ca: CaMaterial,
  req: LeafRequest,
  options: ValidityOptions = {},
): Promise<PemPair & { notAfter: Date }> {
  const profile = leafProfile(req);
  const keys = await newKeyPair();
  const { notBefore, notAfter: wanted } = validity(options, LEAF_DAYS);
  const notAfter = wanted > ca.cert.notAfter ? ca.cert.notAfter : wanted;
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: profile.subject,
      issuer: ca.cert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      signingAlgorithm: ca.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(profile.usages, false),
        new x509.SubjectAlternativeNameExtension(profile.names, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { cert: certPem(cert), key: pkcs8Pem(keys.privateKey), notAfter };
}

// ------------------------------------------------------------------ files

export interface WriteOptions {
  /** Replace files that exist (atomically: a reader sees the old file or the new one). */
  force?: boolean;
}

export interface Issued {
  cert: string;
  key: string;
  notAfter: Date;
}

/** Writes a file with `mode`, refusing an existing one unless forced. */
async function writeFile(path: string, text: string, mode: number, force: boolean): Promise<void> {
  // Forced: write aside and rename over, so that a node reloading its files
  // (rotation) never reads half a key. Not forced: O_EXCL, so that a file
  // created meanwhile is not overwritten either.
  const target = force ? `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp` : path;
  const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (force) {
    try {
      await rename(target, path);
    } catch (e) {
      await rm(target, { force: true });
      throw e;
    }
  }
}

/** Writes a key (0600) and its certificate (0644): all or nothing as far as checks go. */
async function writePair(
  files: { cert: string; key: string },
  pair: PemPair,
  dir: string,
  options: WriteOptions,
): Promise<void> {
  if (!options.force) {
    for (const f of [files.cert, files.key]) {
      if (existsSync(f)) throw new Error(`${f} already exists; pass --force to replace it`);
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(files.key, pair.key, 0o600, options.force === true);
  await writeFile(files.cert, pair.cert, 0o644, options.force === true);
}

async function readCa(dir: string): Promise<CaMaterial> {
  const files = certFiles.ca(dir);
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(
          `no CA in ${dir} (${path} is missing); run: raftseq certs init --dir ${dir}`,
        );
      }
      throw new Error(`cannot read ${path}: ${fileProblem(e)}`);
    }
  };
  const pair = { cert: await read(files.cert), key: await read(files.key) };
  try {
    return await loadCa(pair);
  } catch (e) {
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
}

/** `raftseq certs init`: a new CA as DIR/ca.pem and DIR/ca-key.pem. */
export async function initCaInDir(
  dir: string,
  options: WriteOptions & ValidityOptions = {},
): Promise<Issued> {
  const files = certFiles.ca(dir);
  const pair = await createCa(options);
  await writePair(files, pair, dir, options);
  return { ...files, notAfter: new x509.X509Certificate(pair.cert).notAfter };
}

/** `raftseq certs member|admin`: a certificate signed by the CA in DIR. */
export async function issueInDir(
  dir: string,
  req: LeafRequest,
  options: WriteOptions & ValidityOptions = {},
): Promise<Issued> {
  const files =
    req.kind === 'member' ? certFiles.member(dir, req.id) : certFiles.admin(dir, req.name);
  // Check names and existing files before touching the CA key.
  leafProfile(req);
  if (!options.force && existsSync(files.cert)) {
    throw new Error(`${files.cert} already exists; pass --force to replace it`);
  }
  const ca = await readCa(dir);
  const issued = await issueCertificate(ca, req, options);
  await writePair(files, issued, dir, options);
  return { ...files, notAfter: issued.notAfter };
}
