// `cluster replace`, on the machine of the member being rebuilt: empties its
// data directory and prepares it to rejoin as a new learner (see
// prepareRejoin). Refuses a directory that a live process holds, or one
// that does not look like a raftseq data directory (so a mistyped --data
// never deletes anything else).

import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepareRejoin } from '../node/bootstrap.js';
import { LEVEL_SUBDIR, LevelStorage, WATERMARK_FILE } from '../storage/level.js';
import { PID_FILE, livePidHolder } from '../storage/lock.js';
import { RATES_FILE } from './rates-file.js';

/** What a raftseq data directory may hold (storage/level.ts, lock.ts, rates-file.ts). */
const KNOWN_ENTRIES = new Set([LEVEL_SUBDIR, WATERMARK_FILE, PID_FILE, RATES_FILE]);

/** A rates file being written (backup/file.ts's temporary name for it). */
const RATES_TEMP = new RegExp(`^\\.${RATES_FILE.replace('.', '\\.')}\\.[0-9a-f]+\\.tmp$`);

/** A data directory that cannot be emptied now; one line for the operator. */
export class DataDirRefusedError extends Error {
  override name = 'DataDirRefusedError';
}

/** Null if `dir` may be emptied, else why not. */
export function wipeProblem(dir: string): string | null {
  if (!existsSync(dir)) return null;
  if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  const pid = livePidHolder(dir);
  if (pid !== null) return `${dir} is in use by pid ${pid}: stop that member first`;
  const foreign = readdirSync(dir).filter((f) => !KNOWN_ENTRIES.has(f) && !RATES_TEMP.test(f));
  if (foreign.length > 0) {
    return `${dir} does not look like a raftseq data directory (it holds ${foreign.slice(0, 3).join(', ')}); refusing to empty it`;
  }
  return null;
}

/** Empties `dir` and prepares it for member `id` to rejoin. */
export async function resetForRejoin(dir: string, id: string): Promise<void> {
  const problem = wipeProblem(dir);
  if (problem !== null) throw new DataDirRefusedError(problem);
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    rmSync(join(dir, f), { recursive: true, force: true });
  }
  const storage = await LevelStorage.open(dir);
  try {
    await prepareRejoin(storage, id);
  } finally {
    await storage.close();
  }
}
