// Test kit for the security modules: temporary directories, a small PKI, a
// loopback gRPC server whose handlers answer with the caller's identity, and
// bounded waiting.
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, loadCa, type PemPair } from '../../src/security/certs.js';
import { TlsFiles, channelCredentials } from '../../src/security/tls.js';
import {
  callIdentity,
  describeIdentity,
  type AuthContextSource,
} from '../../src/security/identity.js';

/** Full paths of raftseq RPCs, one of each class, as the policy and the interceptor see them. */
export const RPC = {
  SEND: '/raftseq.v1.Raft/Send',
  REGISTER: '/raftseq.v1.Cluster/RegisterMember',
  ADD: '/raftseq.v1.Cluster/AddMember',
  STATUS: '/raftseq.v1.Cluster/Status',
  NEXT: '/raftseq.v1.Sequencer/Next',
  HEALTH: '/grpc.health.v1.Health/Check',
} as const;

const dirs: string[] = [];

/** A fresh temporary directory, removed by cleanupDirs(). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-sec-'));
  dirs.push(dir);
  return dir;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Replaces a file the way an operator's deploy tool should: write aside, rename over. */
export function replaceFile(path: string, text: string | Buffer): void {
  writeFileSync(`${path}.new`, text, { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

/** Replaces a node's or client's files with a new pair and CA bundle: CA, key, then certificate. */
export function replaceTlsFiles(
  files: { cert: string; key: string; ca: string },
  pair: PemPair,
  ca: string,
): void {
  replaceFile(files.ca, ca);
  replaceFile(files.key, pair.key);
  replaceFile(files.cert, pair.cert);
}

export interface Pki {
  ca: PemPair;
  member(id: string, hosts?: string[]): Promise<PemPair>;
  admin(name: string): Promise<PemPair>;
}

/** A CA and a way to issue member and admin certificates from it, in memory. */
export async function makePki(): Promise<Pki> {
  const ca = await createCa();
  const material = await loadCa(ca);
  return {
    ca,
    member: (id, hosts = ['127.0.0.1', 'localhost']) =>
      issueCertificate(material, { kind: 'member', id, hosts }),
    admin: (name) => issueCertificate(material, { kind: 'admin', name }),
  };
}

/** Writes a certificate, key and CA as files in `dir`; returns their paths. */
export function writeTlsFiles(
  dir: string,
  pair: PemPair,
  ca: string,
): { cert: string; key: string; ca: string } {
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: join(dir, 'ca.pem') };
  writeFileSync(files.cert, pair.cert);
  writeFileSync(files.key, pair.key, { mode: 0o600 });
  writeFileSync(files.ca, ca);
  return files;
}

/** Channel credentials that trust `caPem` and present no certificate. */
export function trustOnly(caPem: string): grpc.ChannelCredentials {
  const ca = join(tempDir(), 'ca.pem');
  writeFileSync(ca, caPem);
  return channelCredentials(new TlsFiles({ ca }));
}

// ------------------------------------------------------------ echo server

const raw = (b: Buffer): Buffer => b;

function method(path: string, stream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: stream,
    responseStream: stream,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
}

/**
 * A service whose unary methods sit at the given full paths (so that the
 * policy sees raftseq's real RPC names) plus one bidi stream "/test.Echo/Chat".
 * Every answer is the caller's identity as describeIdentity writes it.
 */
export function echoService(paths: string[]): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  paths.forEach((p, i) => (def[`M${i}`] = method(p, false)));
  def.Chat = method('/test.Echo/Chat', true);
  return def as grpc.ServiceDefinition;
}

function echoHandlers(paths: string[]): grpc.UntypedServiceImplementation {
  // The caller's identity, and whether an authorization header reached the handler.
  const who = (call: AuthContextSource & { metadata: grpc.Metadata }): Buffer =>
    Buffer.from(
      describeIdentity(callIdentity(call)) +
        (call.metadata.get('authorization').length > 0 ? ' +authorization' : ''),
    );
  const impl: grpc.UntypedServiceImplementation = {};
  paths.forEach((_p, i) => {
    impl[`M${i}`] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, who(call));
  });
  impl.Chat = (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (m: Buffer) => call.write(Buffer.concat([Buffer.from('echo '), m])));
    call.on('end', () => call.end());
  };
  return impl;
}

export interface TestServer {
  address: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts an echo server on 127.0.0.1 (any port). */
export async function startEchoServer(
  credentials: grpc.ServerCredentials,
  opts: { paths?: string[]; interceptors?: grpc.ServerInterceptor[] } = {},
): Promise<TestServer> {
  const paths = opts.paths ?? ['/test.Echo/Who'];
  const server = new grpc.Server(opts.interceptors ? { interceptors: opts.interceptors } : {});
  server.addService(echoService(paths), echoHandlers(paths));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (e, p) => (e ? reject(e) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

export type CallResult = { ok: string } | { code: grpc.status; details: string };

/** Options for a client that never shares a connection with another client. */
export const OWN_CONNECTION: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

/** One unary call on a fresh client (so: a new connection); the client is closed after. */
export function callOnce(
  target: string,
  credentials: grpc.ChannelCredentials,
  path = '/test.Echo/Who',
  opts: {
    metadata?: grpc.Metadata;
    deadlineMs?: number;
    channelOptions?: grpc.ChannelOptions;
  } = {},
): Promise<CallResult> {
  const Client = grpc.makeGenericClientConstructor(echoService([path]), 'Echo');
  const client = new Client(target, credentials, { ...OWN_CONNECTION, ...opts.channelOptions });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      raw,
      raw,
      Buffer.alloc(0),
      opts.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (opts.deadlineMs ?? 3_000) },
      (err: grpc.ServiceError | null, value?: Buffer) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { ok: String(value) });
      },
    );
  });
}

/** The answer of the first call (each on a new connection) that succeeds, within a bounded wait. */
export function firstSuccess(
  what: string,
  target: string,
  credentials: grpc.ChannelCredentials,
): Promise<string> {
  return eventually(what, async () => {
    const r = await callOnce(target, credentials);
    return 'ok' in r ? r.ok : undefined;
  });
}

/** A long-lived bidi stream: send a line, get "echo <line>" back. */
export interface Chat {
  say(text: string): Promise<string>;
  close(): void;
}

export function openChat(target: string, credentials: grpc.ChannelCredentials): Chat {
  const Client = grpc.makeGenericClientConstructor(echoService([]), 'Echo');
  const client = new Client(target, credentials, OWN_CONNECTION);
  const call = client.makeBidiStreamRequest('/test.Echo/Chat', raw, raw, new grpc.Metadata());
  call.on('error', () => undefined);
  return {
    say: (text) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5_000);
        call.once('data', (m: Buffer) => {
          clearTimeout(timer);
          resolve(String(m));
        });
        call.write(Buffer.from(text));
      }),
    close: () => {
      call.end();
      client.close();
    },
  };
}

/** Polls `check` every `stepMs` until it returns a value other than undefined, for at most `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 12_000,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last ? ` (last: ${String(last)})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
