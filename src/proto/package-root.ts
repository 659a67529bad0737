// Locating the package's own files (package.json, proto/) at run time: from
// src/ under tsx, from dist/src/ after the build, and from node_modules when
// installed. The one place that knows the package's layout on disk.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null = null;

/** The nearest ancestor of `from` holding both package.json and proto/. */
export function findPackageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && isDir(join(dir, 'proto'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`raftseq: no package root with proto/ above ${from}`);
    dir = parent;
  }
}

/** raftseq's package root (cached). */
export function packageRoot(): string {
  cachedRoot ??= findPackageRoot();
  return cachedRoot;
}

/** The include root of the protos: imports are relative to it ("raftseq/v1/x.proto"). */
export function protoDir(): string {
  return join(packageRoot(), 'proto');
}

/** The `version` field of raftseq's package.json ("0.0.0" if unreadable). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
