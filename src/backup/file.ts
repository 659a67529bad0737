// Snapshot files on disk: written atomically, read and verified whole.
//
// Atomic as etcdutl and consul write theirs: the bytes go to a temporary
// file in the same directory, which is fsynced, renamed over the target and
// the directory fsynced, so a crash leaves either the old file or the whole
// new one, never a torn one under the final name.

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  decodeSnapshotFile,
  SnapshotFileError,
  storedDigest,
  type SnapshotContents,
} from './format.js';

/** Writes `data` to `path` atomically and durably. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const f = await open(tmp, 'wx', 0o600);
    try {
      await f.writeFile(data);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {}); // the write's own error is the one to report
    throw e;
  }
  await syncDir(dir);
}

/** fsync a directory, so that a rename in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Reads and verifies a snapshot file. Throws SnapshotFileError naming the
 * file, with one line saying what is wrong (missing, corrupt, truncated).
 */
export async function readSnapshotFile(
  path: string,
): Promise<{ contents: SnapshotContents; bytes: number; sha256: string }> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotFileError(
      `snapshot ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  try {
    return { contents: decodeSnapshotFile(data), bytes: data.length, sha256: storedDigest(data) };
  } catch (e) {
    if (e instanceof SnapshotFileError)
      throw new SnapshotFileError(`snapshot ${path}: ${e.message}`);
    throw e;
  }
}
