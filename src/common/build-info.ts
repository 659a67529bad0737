// What this build is: the release version (package.json) and the git commit
// baked in by `npm run build` (scripts/build-info.mjs writes
// dist/src/build-info.json). Run from sources without a build, or from a
// copy built without git, the commit reads "unknown": never a guess.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, packageVersion } from '../proto/package-root.js';

export interface BuildInfo {
  /** The release version, e.g. "0.2.0". */
  version: string;
  /** The git commit it was built from (12 hex digits, "+dirty" if modified), or "unknown". */
  commit: string;
}

/**
 * A node's release, commit and format versions, as Status reports them (the
 * node fills it in: src/node/versions.ts; the client decodes it).
 */
export interface NodeVersions extends BuildInfo {
  /** Data directory layout and stored record format. */
  storageFormat: number;
  recordFormat: number;
  /** Raft wire formats: newest spoken, oldest accepted, the cluster's (lowest of the voters). */
  wireFormat: number;
  minWireFormat: number;
  clusterWireFormat: number;
}

let cached: BuildInfo | null = null;

export function buildInfo(): BuildInfo {
  if (cached !== null) return cached;
  const version = packageVersion();
  let commit = 'unknown';
  try {
    const baked = JSON.parse(
      readFileSync(join(packageRoot(), 'dist', 'src', 'build-info.json'), 'utf8'),
    ) as { version?: unknown; commit?: unknown };
    // A build of another version (stale dist/ next to newer sources) says nothing about this one.
    if (baked.version === version && typeof baked.commit === 'string') commit = baked.commit;
  } catch {
    // not built: keep "unknown"
  }
  cached = { version, commit };
  return cached;
}

/** "0.2.0 (commit 1a2b3c4d5e6f)": how the CLI and the logs show a build. */
export function describeBuild(b: BuildInfo = buildInfo()): string {
  return `${b.version} (commit ${b.commit})`;
}
