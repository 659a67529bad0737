// Loads the client and admin protos for the API server. 64-bit integers are
// decoded as strings so values up to 2^63-1 never pass through a double.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The package root (the directory holding package.json and proto/), from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the raftseq package root (proto/ missing)');
    dir = up;
  }
}

export const API_PROTOS = ['raftseq/v1/sequencer.proto', 'raftseq/v1/cluster.proto'];

export function loadApiDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(API_PROTOS, {
    includeDirs: [join(packageRoot(), 'proto')],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

interface ApiPackage {
  raftseq: {
    v1: { Sequencer: grpc.ServiceClientConstructor; Cluster: grpc.ServiceClientConstructor };
  };
}

export function apiServices(def: protoLoader.PackageDefinition): ApiPackage['raftseq']['v1'] {
  return (grpc.loadPackageDefinition(def) as unknown as ApiPackage).raftseq.v1;
}
