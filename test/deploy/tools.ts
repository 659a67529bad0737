// Debian's monitoring tools that the deploy tests drive (apt package
// `prometheus`: the server and promtool). On a developer's machine without
// them the tests that need them skip, saying which package to install; under
// CI (CI set) they run anyway and fail, since CI installs the package.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/proto/package-root.js';

/** Absolute path of an executable on PATH, or null. */
export function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : null;
}

/** Why a suite must skip here (a missing requirement, outside CI), or null to run it. */
export function skipUnlessCi(problem: string | null): string | null {
  return problem !== null && !process.env['CI'] ? `skipped: ${problem}` : null;
}

/** A tool of Debian's `prometheus` package: its path, and why the suite skips without it. */
export function prometheusTool(name: 'prometheus' | 'promtool'): {
  path: string;
  skip: string | null;
} {
  const path = which(name);
  return {
    path: path ?? name,
    skip: skipUnlessCi(path === null ? `${name} not installed (apt-get install prometheus)` : null),
  };
}

export const PROMETHEUS_DIR = join(packageRoot(), 'deploy', 'prometheus');
export const RULES_FILE = join(PROMETHEUS_DIR, 'raftseq.rules.yml');
