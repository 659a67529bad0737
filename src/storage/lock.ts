// `<dir>/LOCK.pid`: who holds a data directory, for the operator's benefit.
//
// The pid file alone cannot be the lock: after kill -9 it stays behind, and
// the dead pid may since belong to an unrelated live process (common in
// containers, where pids restart from 1). LevelDB's own LOCK (an fcntl lock,
// released by the kernel when its holder dies) is the real exclusion. So:
// open LevelDB; if its lock is taken, report the pid the file names; if we
// got the lock, the file is stale or ours to write.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PID_FILE = 'LOCK.pid';

/** The pid recorded in the directory, if that process is alive; else null. */
export function livePidHolder(dir: string): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dir, PID_FILE), 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: it exists but belongs to another user; still alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Call only while holding LevelDB's lock. */
export function writePidFile(dir: string): void {
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`);
}

/** Call before releasing LevelDB's lock, so a successor's file is never removed. */
export function removePidFile(dir: string): void {
  rmSync(join(dir, PID_FILE), { force: true });
}
