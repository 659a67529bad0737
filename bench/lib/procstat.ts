// CPU and memory of processes, read from /proc (Linux only).
//
// CPU of a process tree = the root's own time + the time of its reaped
// children (cutime/cstime) + the same for every live descendant. Sampled
// before and after a measurement window, the difference is the CPU the tree
// spent in the window, including short-lived children (PostgreSQL backends).
import { readFileSync, readdirSync } from 'node:fs';

export const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux x86_64

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** The fields of /proc/<pid>/stat after the command name. */
function fields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

function readStat(pid: number): Stat | null {
  try {
    const f = fields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // f[0] = state (field 3); utime is field 14 → f[11]; stime f[12]; cutime f[13]; cstime f[14].
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid, ppid: Number(f[1]), ticks };
  } catch {
    return null;
  }
}

/** Parses the CPU seconds (utime+stime+cutime+cstime) out of one /proc/<pid>/stat line. */
export function cpuSecondsOfStatLine(line: string): number {
  const f = fields(line.trim());
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s !== null) out.push(s);
  }
  return out;
}

/** CPU seconds used so far by the trees rooted at `pids` (dead roots count 0). */
export function treeCpuSeconds(pids: readonly number[]): number {
  if (pids.length === 0) return 0;
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    const s = byPid.get(pid);
    if (s === undefined) return;
    ticks += s.ticks;
    for (const c of children.get(pid) ?? []) visit(c.pid);
  };
  for (const p of pids) visit(p);
  return ticks / CLOCK_TICKS;
}

/** Resident set size of a process in bytes, or null if it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
