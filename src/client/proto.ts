// Loads raftseq.v1 (Sequencer + Cluster) for the client. The client keeps its
// own loader options, independent of the server's: the wire format is the
// same, and these options are what the conversions in decode.ts rely on
// (snake_case field names, 64-bit integers as decimal strings).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

/** Proto files of the public API, relative to `<package>/proto`. */
export const PROTO_FILES = ['raftseq/v1/sequencer.proto', 'raftseq/v1/cluster.proto'] as const;

/** Loader options the client (and the test fakes) use. */
export const CLIENT_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: protoLoader.PackageDefinition | null = null;

/** The directory that holds `raftseq/v1/*.proto`. */
export function protoDir(): string {
  return join(packageRoot(), 'proto');
}

/** The package definition of raftseq.v1, loaded once. */
export function clientPackageDefinition(): protoLoader.PackageDefinition {
  if (cached === null) {
    cached = protoLoader.loadSync([...PROTO_FILES], {
      ...CLIENT_LOADER_OPTIONS,
      includeDirs: [protoDir()],
    });
  }
  return cached;
}

export interface RaftseqServices {
  Sequencer: grpc.ServiceClientConstructor;
  Cluster: grpc.ServiceClientConstructor;
}

/** The generated client constructors of raftseq.v1. */
export function raftseqServices(): RaftseqServices {
  const root = grpc.loadPackageDefinition(clientPackageDefinition()) as unknown as {
    raftseq: { v1: RaftseqServices };
  };
  return root.raftseq.v1;
}
