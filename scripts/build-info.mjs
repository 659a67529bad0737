#!/usr/bin/env node
// Bakes the git commit into the build: writes dist/src/build-info.json
// ({"version", "commit"}) for src/common/build-info.ts to read at run time.
// Run by `npm run build`. Without git (a tarball, a copy without .git) the
// commit is "unknown" rather than a failed build; a working tree with
// uncommitted changes gets "+dirty" so a hand-built binary never passes for
// a release.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function git(...args) {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

let commit = 'unknown';
try {
  commit = git('rev-parse', '--short=12', 'HEAD');
  if (git('status', '--porcelain', '--untracked-files=no') !== '') commit += '+dirty';
} catch {
  // no git, or not a repository: keep "unknown"
}
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
mkdirSync(join(root, 'dist', 'src'), { recursive: true });
writeFileSync(
  join(root, 'dist', 'src', 'build-info.json'),
  JSON.stringify({ version, commit }) + '\n',
);
