// fsyncs per 1,000 values on the leader in steady state: strace counts the
// leader's fsync/fdatasync calls (every thread: LevelDB syncs from libuv's
// thread pool) while the load generator streams count=1 calls.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SequenceClient } from '../../src/client/index.js';
import type { LoadGen } from './loadgen-driver.js';
import type { RaftseqCluster } from './raftseq-cluster.js';
import type { Job, Target } from './types.js';

export async function measureFsyncs(
  lg: LoadGen,
  cluster: RaftseqCluster,
  leader: { id: string; address: string },
  streams: number,
  concurrency: number,
): Promise<Record<string, number | string | null>> {
  const admin = new SequenceClient({ endpoints: [leader.address] });
  const pid = cluster.node(leader.id).proc?.pid;
  const target: Target = {
    kind: 'stream',
    address: leader.address,
    sequence: 'bench.fsync',
    count: 1,
    streams,
  };
  // 2 s of warm-up let the block size adapt: steady state.
  const j: Job = {
    id: 'raftseq-fsync',
    target,
    concurrency,
    warmupMs: 2000,
    durationMs: 3000,
    maxOps: 3 * 400_000,
  };
  let commit0 = 0n;
  let commit1 = 0n;
  let strace: ChildProcess | null = null;
  let straceOut = '';
  const haveStrace = spawnSync('sh', ['-c', 'command -v strace']).status === 0;
  const r = await lg.run(j, () => cluster.pids(), {
    onStart: () => {
      void admin.clusterStatus().then((s) => (commit0 = s.commitIndex));
      if (haveStrace && pid) {
        // Every thread: LevelDB syncs from libuv's thread pool, not the main thread.
        const tids = readdirSync(`/proc/${pid}/task`).flatMap((t) => ['-p', t]);
        strace = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', ...tids], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        strace.stderr?.on('data', (d: Buffer) => (straceOut += d.toString()));
      }
    },
    onEnd: () => {
      (strace as ChildProcess | null)?.kill('SIGINT');
    },
  });
  commit1 = (await admin.clusterStatus()).commitIndex;
  admin.close();
  await sleep(500);
  const values = r.result.values;
  let fsyncs: number | null = null;
  for (const line of straceOut.split('\n')) {
    const m = /^\s*[0-9.]+\s+[0-9.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$/.exec(line);
    if (m) fsyncs = (fsyncs ?? 0) + Number(m[1]);
  }
  if (haveStrace && fsyncs === null && straceOut.includes('total')) fsyncs = 0;
  return {
    values,
    valuesPerSec: Math.round(values / (r.result.elapsedMs / 1000)),
    raftEntries: Number(commit1 - commit0),
    raftEntriesPer1000Values: values ? (Number(commit1 - commit0) / values) * 1000 : null,
    leaderFsyncs: fsyncs,
    leaderFsyncsPer1000Values: fsyncs === null || !values ? null : (fsyncs / values) * 1000,
    method: haveStrace
      ? 'strace -f -c -e fsync,fdatasync on the leader during a 3 s window (after 2 s warm-up); strace slows the process'
      : 'strace not installed: Raft entries only',
  };
}
