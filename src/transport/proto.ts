// The peer protocol (raft.proto) encoded with protobufjs for the transport,
// and every raftseq.v1 service as grpc-js definitions (the tests use these
// to check that protobufjs and proto-loader agree on the wire).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import { loadProtos } from '../proto/load.js';
import { protoDir } from '../proto/package-root.js';

/** Every .proto of raftseq.v1, relative to protoDir(), sorted. */
export function protoFiles(): string[] {
  return readdirSync(join(protoDir(), 'raftseq', 'v1'))
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `raftseq/v1/${f}`);
}

/**
 * Default proto-loader options for the shared definition: camelCase fields,
 * enums as their names, defaults filled in. 64-bit integers are decimal
 * strings, because sequence values reach 2^63-1 and a JS number would silently
 * round them (serialising accepts numbers and strings alike). (The API
 * server may prefer `keepCase: true`: pass options.) The Raft transport does
 * not use this: see raftServices().
 */
export const DEFAULT_LOADER_OPTIONS: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
});

let cachedDefault: protoLoader.PackageDefinition | null = null;

/**
 * The proto-loader PackageDefinition of ALL protos in proto/raftseq/v1
 * (sequencer, cluster, raft, ...): hand it to grpc.loadPackageDefinition for
 * clients/servers and to @grpc/reflection's ReflectionService. Without
 * options it is loaded once and cached.
 */
export function loadPackageDefinition(
  options?: Partial<protoLoader.Options>,
): protoLoader.PackageDefinition {
  if (!options) {
    cachedDefault ??= loadProtos(protoFiles(), DEFAULT_LOADER_OPTIONS);
    return cachedDefault;
  }
  return loadProtos(protoFiles(), { ...DEFAULT_LOADER_OPTIONS, ...options });
}

/** The service definitions of raftseq.v1, typed for grpc-js (clients and servers). */
export interface RaftseqServices {
  Sequencer: grpc.ServiceDefinition;
  Cluster: grpc.ServiceDefinition;
  Raft: grpc.ServiceDefinition;
  FaultInjection: grpc.ServiceDefinition;
}

/** A typed service definition of raftseq.v1 from a package definition (default: the shared one). */
export function serviceDefinition(
  name: keyof RaftseqServices,
  pkg: protoLoader.PackageDefinition = loadPackageDefinition(),
): grpc.ServiceDefinition {
  const def = pkg[`raftseq.v1.${name}`];
  if (!def || 'format' in def) throw new Error(`raftseq: service raftseq.v1.${name} not found`);
  return def as unknown as grpc.ServiceDefinition;
}

/** All service definitions of the shared package definition. */
export function serviceDefinitions(
  pkg: protoLoader.PackageDefinition = loadPackageDefinition(),
): RaftseqServices {
  return {
    Sequencer: serviceDefinition('Sequencer', pkg),
    Cluster: serviceDefinition('Cluster', pkg),
    Raft: serviceDefinition('Raft', pkg),
    FaultInjection: serviceDefinition('FaultInjection', pkg),
  };
}

/**
 * Client constructor of a raftseq.v1 service (methods named as in the .proto,
 * e.g. `new (clientConstructor('Sequencer'))(addr, creds).Next(req, cb)`).
 */
export function clientConstructor(
  name: keyof RaftseqServices,
  pkg: protoLoader.PackageDefinition = loadPackageDefinition(),
): grpc.ServiceClientConstructor {
  return makeGenericClientConstructor(serviceDefinition(name, pkg), name);
}

/** The newest wire format of RaftBatch and SnapshotChunk this build writes (formats.ts). */
export { WIRE_FORMAT as FORMAT_VERSION } from './formats.js';

// ---------------------------------------------------------------------------
// The Raft transport's own, faster path: raft.proto through protobufjs
// directly. proto-loader serialises through fromObject/toObject (a Long per
// 64-bit field, a copy of every object), about ten times slower than plain
// encode/decode on batches of appends. Same wire format, so any client built
// from loadPackageDefinition() talks to it.

let cachedRaftRoot: protobuf.Root | null = null;

/** raft.proto as a protobufjs Root (cached). */
export function loadRaftRoot(): protobuf.Root {
  if (cachedRaftRoot) return cachedRaftRoot;
  const root = new protobuf.Root();
  const base = protoDir();
  root.resolvePath = (_origin, target) => join(base, target);
  root.loadSync('raftseq/v1/raft.proto', { keepCase: false });
  root.resolveAll();
  checkEnum(root, 'raftseq.v1.MessageType', MessageTypePb);
  checkEnum(root, 'raftseq.v1.EntryType', EntryTypePb);
  checkEnum(root, 'raftseq.v1.ConfChangeType', ConfChangeTypePb);
  cachedRaftRoot = root;
  return root;
}

function checkEnum(root: protobuf.Root, name: string, expected: Record<string, number>): void {
  const values = root.lookupEnum(name).values;
  const prefix = name
    .slice(name.lastIndexOf('.') + 1)
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
  for (const [k, v] of Object.entries(expected)) {
    if (values[`${prefix}_${k}`] !== v)
      throw new Error(`raftseq: ${name}.${prefix}_${k} is not ${v}`);
  }
}

function methodDefinition(
  service: protobuf.Service,
  name: string,
): grpc.MethodDefinition<object, object> {
  const m = service.methods[name];
  if (!m) throw new Error(`raftseq: no method ${name} in ${service.fullName}`);
  m.resolve();
  const req = m.resolvedRequestType!;
  const res = m.resolvedResponseType!;
  const serialize = (t: protobuf.Type) => (v: object) => toBuffer(t.encode(v).finish());
  // Decoding from a plain Uint8Array view (not the Buffer) makes protobufjs hand
  // out bytes fields as plain Uint8Array views, not Buffers: same cost, and
  // entries' data then is exactly the type the Raft core declares.
  const deserialize = (t: protobuf.Type) => (b: Buffer) =>
    t.decode(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) as object;
  return {
    path: `/${service.fullName.slice(1)}/${m.name}`,
    requestStream: m.requestStream === true,
    responseStream: m.responseStream === true,
    requestSerialize: serialize(req),
    requestDeserialize: deserialize(req),
    responseSerialize: serialize(res),
    responseDeserialize: deserialize(res),
    originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
  };
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export interface RaftServices {
  Raft: grpc.ServiceDefinition;
  FaultInjection: grpc.ServiceDefinition;
}

let cachedRaftServices: RaftServices | null = null;

/** Raft and FaultInjection for grpc-js, (de)serialising the *Pb shapes below. */
export function raftServices(): RaftServices {
  if (cachedRaftServices) return cachedRaftServices;
  const root = loadRaftRoot();
  const build = (name: string): grpc.ServiceDefinition => {
    const service = root.lookupService(`raftseq.v1.${name}`);
    return Object.fromEntries(
      Object.keys(service.methods).map((method) => [method, methodDefinition(service, method)]),
    );
  };
  cachedRaftServices = { Raft: build('Raft'), FaultInjection: build('FaultInjection') };
  return cachedRaftServices;
}

// Shapes of raft.proto's messages as protobufjs encodes (plain objects) and
// decodes them: camelCase fields, enums as numbers, bytes as Uint8Array
// (plain Uint8Array views when decoded), uint64 as number when encoding and number or Long
// when decoding (u64() converts). Unset fields are proto3 defaults.

/** A decoded uint64: a number, or a Long while protobufjs has `long` at hand. */
export type U64 = number | { toNumber(): number };

export function u64(v: U64 | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export const MessageTypePb = {
  UNSPECIFIED: 0,
  VOTE: 1,
  PRE_VOTE: 2,
  VOTE_RESP: 3,
  PRE_VOTE_RESP: 4,
  APPEND: 5,
  APPEND_RESP: 6,
  HEARTBEAT: 7,
  HEARTBEAT_RESP: 8,
  SNAPSHOT: 9,
  TIMEOUT_NOW: 10,
} as const;

export const EntryTypePb = { UNSPECIFIED: 0, NORMAL: 1, CONF: 2 } as const;

export const ConfChangeTypePb = { UNSPECIFIED: 0, ADD_LEARNER: 1, PROMOTE: 2, REMOVE: 3 } as const;

export interface ConfChangePb {
  type: number;
  id: string;
  context: Uint8Array;
}

export interface EntryPb {
  index: U64;
  term: U64;
  type: number;
  data: Uint8Array;
  change?: ConfChangePb | null;
}

export interface RaftMessagePb {
  type: number;
  from: string;
  to: string;
  term: U64;
  logIndex?: U64;
  logTerm?: U64;
  entries?: EntryPb[];
  commit?: U64;
  sentTick?: U64;
  success?: boolean;
  hintIndex?: U64;
  hintTerm?: U64;
  granted?: boolean;
  transfer?: boolean;
  unverified?: boolean;
}

export interface RaftBatchPb {
  formatVersion: number;
  from: string;
  messages: RaftMessagePb[];
}

export interface SnapshotHeaderPb {
  from: string;
  to: string;
  term: U64;
  sentTick: U64;
  index: U64;
  snapshotTerm: U64;
  voters: string[];
  learners: string[];
  size: U64;
  /** 0: raw; 1: deflate (format 2). */
  compression?: number;
  rawSize?: U64;
}

export interface SnapshotChunkPb {
  formatVersion: number;
  header?: SnapshotHeaderPb | null;
  offset: U64;
  data: Uint8Array;
}

export interface SetFaultRequestPb {
  peer: string;
  drop: boolean;
  delayMs: number;
  dropIncoming: boolean;
  clearAll: boolean;
}

export interface SetFaultResponsePb {
  nodeId: string;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type EmptyPb = {};
