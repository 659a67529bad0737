// `raftseq snapshot restore`: the data directory of one founding member of a
// new cluster, made from a backup file.
//
// Every founding member is restored from the same file with the same
// options, each on its own machine, and the members must then agree on one
// cluster id without talking to each other. So the new id is derived from
// what they share: the file's SHA-256, the member list and the advance. It
// differs from the old cluster's (random) id, so a member of the old cluster
// that comes back is refused by every restored member (identity.ts); a
// second restore with other options makes yet another cluster.

import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { assignClusterId } from '../node/identity.js';
import { writeNewCluster } from '../node/bootstrap.js';
import { LevelStorage } from '../storage/level.js';
import { describeAdvance, type Advance } from './advance.js';
import { readSnapshotFile } from './file.js';
import type { SnapshotHeader } from './format.js';
import { recoveredState, type SkipSummary } from './recover.js';

export interface RestoreOptions {
  file: string;
  dataDir: string;
  id: string;
  /** id -> address of every founding member of the new cluster. */
  members: ReadonlyMap<string, string>;
  advance: Advance;
}

export interface RestoreResult {
  clusterId: string;
  from: SnapshotHeader;
  skipped: SkipSummary;
}

/** A data directory that already holds something: restore never overwrites one. */
export class RestoreTargetError extends Error {
  override name = 'RestoreTargetError';
}

/** The new cluster's id: 16 hex digits of SHA-256 over what every member's restore shares. */
export function restoredClusterId(
  fileSha256: string,
  members: ReadonlyMap<string, string>,
  advance: Advance,
): string {
  const list = [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(`raftseq restore\n${fileSha256}\n${JSON.stringify(list)}\n${describeAdvance(advance)}`)
    .digest('hex')
    .slice(0, 16);
}

export async function restoreDataDir(o: RestoreOptions): Promise<RestoreResult> {
  const { contents, sha256 } = await readSnapshotFile(o.file);
  const existing = await readdir(o.dataDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  if (existing.length > 0) {
    throw new RestoreTargetError(
      `data directory ${o.dataDir} is not empty: restore writes a new member's data directory; ` +
        'give --data an empty or missing directory',
    );
  }
  const clusterId = restoredClusterId(sha256, o.members, o.advance);
  const state = recoveredState(contents.sequences, o.advance, o.members, clusterId);
  const storage = await LevelStorage.open(o.dataDir);
  try {
    await writeNewCluster(storage, o.id, [...o.members.keys()], state.data);
    await assignClusterId(storage, clusterId);
  } finally {
    await storage.close();
  }
  return { clusterId, from: contents.header, skipped: state.skipped };
}
