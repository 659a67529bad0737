// Runs bench/loadgen.ts as a child process and feeds it jobs; samples the CPU
// of the server processes exactly around the measured window.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { treeCpuSeconds } from './procstat.js';
import type { Job, JobResult, Row } from './types.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export class LoadGen {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: ((msg: Record<string, unknown>) => void)[] = [];
  private readonly queue: Record<string, unknown>[] = [];
  private stderr = '';

  constructor() {
    // RAFTSEQ_BENCH_LOADGEN_ARGS: node flags for the load generator (e.g. --cpu-prof).
    const nodeArgs = (process.env['RAFTSEQ_BENCH_LOADGEN_ARGS'] ?? '').split(' ').filter(Boolean);
    this.child = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', join(benchDir, 'loadgen.ts')],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const w = this.waiters.shift();
      if (w) w(msg);
      else this.queue.push(msg);
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) {
        w({ event: 'failed', error: `loadgen exited (${code}): ${this.stderr.trim()}` });
      }
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  private next(timeoutMs: number): Promise<Record<string, unknown>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve({ event: 'failed', error: `loadgen silent for ${timeoutMs} ms` });
      }, timeoutMs);
      const done = (m: Record<string, unknown>): void => {
        clearTimeout(t);
        resolve(m);
      };
      this.waiters.push(done);
    });
  }

  /**
   * Runs one job; `serverPids` are the process trees whose CPU is sampled at
   * the start and the end of the measured window.
   */
  async run(
    job: Job,
    serverPids: () => number[],
    hooks: { onStart?: () => void; onEnd?: () => void } = {},
  ): Promise<{ result: JobResult; serverCpuSec: number | null }> {
    this.child.stdin.write(JSON.stringify(job) + '\n');
    const slack = job.warmupMs + job.durationMs + 30_000;
    const start = await this.next(slack);
    if (start.event !== 'start') throw new Error(String(start.error ?? 'loadgen failed'));
    const pids = serverPids();
    const cpu0 = treeCpuSeconds(pids);
    hooks.onStart?.();
    const res = await this.next(slack);
    const cpu1 = treeCpuSeconds(pids);
    hooks.onEnd?.();
    if (res.event !== 'result') throw new Error(String(res.error ?? 'loadgen failed'));
    return { result: res as unknown as JobResult, serverCpuSec: pids.length ? cpu1 - cpu0 : null };
  }

  close(): void {
    this.child.stdin.end();
    setTimeout(() => this.child.kill('SIGKILL'), 3000).unref();
  }
}

/** A table row from a load-generator result. */
export function rowOf(
  system: string,
  config: string,
  job: Job,
  r: { result: JobResult; serverCpuSec: number | null },
  countPerOp: number,
): Row {
  const sec = r.result.elapsedMs / 1000;
  const ops = r.result.ops;
  return {
    system,
    config,
    concurrency: job.concurrency,
    opsPerSec: ops / sec,
    idsPerSec: (ops * countPerOp) / sec,
    latencyMs: r.result.latencyMs,
    serverCores: r.serverCpuSec === null ? null : r.serverCpuSec / sec,
    clientCores: r.result.clientCpuSec / sec,
    serverUsPerOp: r.serverCpuSec === null || ops === 0 ? null : (r.serverCpuSec / ops) * 1e6,
    clientUsPerOp: ops === 0 ? null : (r.result.clientCpuSec / ops) * 1e6,
    errors: r.result.errors,
    ...(r.result.errors > 0 ? { note: r.result.firstErrors.join('; ') } : {}),
  };
}
