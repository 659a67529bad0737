// CPU affinity for `--pin`: the load generators (the Node load generator,
// pgbench, redis-benchmark, h2load) on one core, every server on the other,
// so that the scheduler cannot move a client onto its server's core between
// runs. With 2 cores it also gives each server exactly one core, which puts
// multi-process servers (PostgreSQL's backends) and single-threaded ones
// (a raftseq node, the trivial grpc-js server) on the same footing.
import { spawnSync } from 'node:child_process';

/** The cores of `--pin`: clients on the last core, servers on the others. */
export function pinLayout(cpus: number): { clients: string; servers: string } | null {
  if (cpus < 2) return null;
  return { clients: String(cpus - 1), servers: cpus === 2 ? '0' : `0-${cpus - 2}` };
}

let toolCpus: string | null = null;

/** Load tools started from now on run on `cpus` (null: anywhere). */
export function setToolAffinity(cpus: string | null): void {
  toolCpus = cpus;
}

/** `cmd args` as started with the tools' affinity. */
export function withToolAffinity(cmd: string, args: string[]): [string, string[]] {
  return toolCpus === null ? [cmd, args] : ['taskset', ['-c', toolCpus, cmd, ...args]];
}

/** Pins every thread of each process to `cpus` (its future children inherit it). */
export function pinProcesses(pids: readonly number[], cpus: string): void {
  for (const pid of pids) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset ${pid}: ${(r.stderr || '').trim()}`);
  }
}
