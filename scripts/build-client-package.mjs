#!/usr/bin/env node
// Builds packages/client (@raftseq/client): compiles src/client and what it
// imports into packages/client/dist, and copies the public protos beside it
// (the loader finds them from the package root: package.json + proto/).
// Run by that package's `prepack`, so `npm pack -w @raftseq/client` builds.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages', 'client');
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

rmSync(join(pkg, 'dist'), { recursive: true, force: true });
rmSync(join(pkg, 'proto'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
mkdirSync(join(pkg, 'proto', 'raftseq', 'v1'), { recursive: true });
for (const file of ['sequencer.proto', 'cluster.proto', 'ops.proto']) {
  cpSync(join(root, 'proto', 'raftseq', 'v1', file), join(pkg, 'proto', 'raftseq', 'v1', file));
}
