// The one loader of raftseq's public protos (raftseq.v1 Sequencer, Cluster
// and Ops) for grpc-js: the client, the API server, the status page, the
// tests and the bench all load them here, with one set of options, and get
// the service constructors typed by the generated code in ./generated
// (scripts/proto-gen.mjs, run by `npm run build`).
//
// The peer protocol (raft.proto) is not loaded here: the transport encodes
// it with protobufjs directly (src/transport/proto.ts), because it needs
// byte fields as Buffers and exact control over the hot path.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as ClusterProto } from './generated/cluster.js';
import type { ProtoGrpcType as OpsProto } from './generated/ops.js';
import type { ProtoGrpcType as SequencerProto } from './generated/sequencer.js';
import { protoDir } from './package-root.js';

/** The public protos, relative to protoDir(). */
export const API_PROTO_FILES = [
  'raftseq/v1/sequencer.proto',
  'raftseq/v1/cluster.proto',
  'raftseq/v1/ops.proto',
] as const;

/**
 * How the public protos are decoded. Must match the generator's flags in
 * scripts/proto-gen.mjs, since the generated types describe the result:
 * field names as in the .proto (snake_case), 64-bit integers as decimal
 * strings (values reach 2^63-1, which a double would round), enums as their
 * names, absent fields as their defaults (what an older server leaves out
 * decodes as zero), and the name of the set member of each oneof.
 */
export const API_LOADER_OPTIONS: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** raftseq.v1 as grpc.loadPackageDefinition returns it, typed by the generated code. */
export type RaftseqApi = (SequencerProto & ClusterProto & OpsProto)['raftseq']['v1'];

let cachedDefinition: protoLoader.PackageDefinition | null = null;
let cachedApi: RaftseqApi | null = null;

/** `files` (relative to protoDir()) loaded with `options`; the public protos by default. */
export function loadProtos(
  files: readonly string[] = API_PROTO_FILES,
  options: Readonly<protoLoader.Options> = API_LOADER_OPTIONS,
): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...files], { ...options, includeDirs: [protoDir()] });
}

/** The package definition of the public protos (loaded once): for servers and reflection. */
export function apiPackageDefinition(): protoLoader.PackageDefinition {
  cachedDefinition ??= loadProtos();
  return cachedDefinition;
}

/** The typed service constructors and definitions of raftseq.v1 (loaded once). */
export function raftseqApi(): RaftseqApi {
  if (cachedApi === null) {
    // The generated ProtoGrpcType is, by construction, the shape that
    // loadPackageDefinition returns for these files and options.
    const root = grpc.loadPackageDefinition(apiPackageDefinition()) as unknown as {
      raftseq: { v1: RaftseqApi };
    };
    cachedApi = root.raftseq.v1;
  }
  return cachedApi;
}
