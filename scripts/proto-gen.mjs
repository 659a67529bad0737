#!/usr/bin/env node
// Generates the TypeScript types of the public protos (proto/raftseq/v1:
// sequencer, cluster, ops) with @grpc/proto-loader's proto-loader-gen-types,
// into src/proto/generated (or the directory given as the first argument).
// Run by `npm run build`; CI then checks that the committed files did not
// change (`git diff --exit-code src/proto/generated`), and
// test/proto/generated.test.ts compares a fresh generation with them.
//
// The flags must match API_LOADER_OPTIONS in src/proto/load.ts: the types
// describe what that loader decodes (snake_case fields, 64-bit integers as
// decimal strings, enums as names, defaults filled in).
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'src/proto/generated'));
const require = createRequire(import.meta.url);
const generator = join(
  dirname(require.resolve('@grpc/proto-loader/package.json')),
  'build/bin/proto-loader-gen-types.js',
);

rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    generator,
    '--grpcLib=@grpc/grpc-js',
    '--keepCase',
    '--longs=String',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--importFileExtension=.js',
    '-I',
    'proto',
    '-O',
    out,
    'raftseq/v1/sequencer.proto',
    'raftseq/v1/cluster.proto',
    'raftseq/v1/ops.proto',
  ],
  { cwd: root, stdio: 'inherit' },
);
