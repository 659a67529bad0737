// Where the repository is, and how to run its raftseq executable, for tests
// and the benchmark that start raftseq as a child process.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Which raftseq a child runs: 'sources' (src/ through tsx: no build needed,
 * what the tests use) or 'dist' (bin/raftseq on the built dist/, what users
 * and the benchmark run).
 */
export type RaftseqBuild = 'sources' | 'dist';

/** The node arguments that run raftseq (the CLI's argv follows them). */
export function raftseqNodeArgs(build: RaftseqBuild): string[] {
  return build === 'dist'
    ? [join(ROOT, 'bin', 'raftseq')]
    : ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
}
