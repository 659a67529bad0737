// What backups and recovery cost at 1,000,000 sequences, in process: the
// leader's capture, the file's encoding and verification, the restored
// state, and a whole `snapshot restore` into a LevelDB data directory.
// Measurement only (no timing assertion): RAFTSEQ_MEASURE=1 npx vitest run
// test/backup/measure.test.ts; docs/operations.md quotes the numbers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decodeSnapshotFile, encodeSnapshotFileYielding } from '../../src/backup/format.js';
import { writeFileAtomic } from '../../src/backup/file.js';
import { recoveredState } from '../../src/backup/recover.js';
import { restoreDataDir } from '../../src/backup/restore.js';
import { captureSnapshot } from '../../src/node/backup.js';
import { systemClock } from '../../src/node/runtime.js';
import type { Status } from '../../src/raft/index.js';
import { encodeCommand } from '../../src/state/commands.js';
import { SequenceStateMachine } from '../../src/state/machine.js';

const N = 1_000_000;

describe.skipIf(process.env['RAFTSEQ_MEASURE'] !== '1')('backup costs at 1M sequences', () => {
  it('capture, encode, verify, recover, restore', async () => {
    const members = new Map([['n1', '127.0.0.1:7001']]);
    const sm = SequenceStateMachine.bootstrap(members, 1, 'abcdef0123456789');
    const items = Array.from({ length: N }, (_, i) => ({
      sequence: `seq-${i.toString(36).padStart(6, '0')}`,
      upTo: BigInt(1000 + i),
    }));
    sm.apply({ index: 2, term: 2, type: 'normal', data: new Uint8Array(0) });
    sm.apply({
      index: 3,
      term: 2,
      type: 'normal',
      data: encodeCommand({ type: 'reserve', items }),
    });
    const status = { role: 'leader', term: 2, commit: 3, id: 'n1' } as unknown as Status;
    const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

    // The longest the event loop went without running a timer while the
    // leader captured and encoded (what delays its heartbeats).
    let stall = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const n = performance.now();
      stall = Math.max(stall, n - last);
      last = n;
    }, 5);
    let t = performance.now();
    const c = await captureSnapshot({
      status: () => status,
      sm,
      leaseValid: () => true,
      rate: (s) => (s.length % 7) * 10,
      clock: systemClock(),
    });
    const capture = ms(t);
    t = performance.now();
    const file = await encodeSnapshotFileYielding(
      {
        clusterId: sm.clusterId,
        index: c.index,
        term: c.term,
        savedAt: '',
        member: 'n1',
        version: 'x',
      },
      c.sequences,
      () => new Promise((r) => setTimeout(r, 0)),
    );
    const encode = ms(t);
    clearInterval(timer);
    t = performance.now();
    const back = decodeSnapshotFile(file);
    const verify = ms(t);
    expect(back.sequences).toHaveLength(N);
    t = performance.now();
    const state = recoveredState(back.sequences, { forMs: 3_600_000 }, members, 'ab');
    const recover = ms(t);
    const dir = mkdtempSync(join(tmpdir(), 'raftseq-measure-'));
    t = performance.now();
    await writeFileAtomic(join(dir, 'b.snap'), file);
    const write = ms(t);
    t = performance.now();
    await restoreDataDir({
      file: join(dir, 'b.snap'),
      dataDir: join(dir, 'n1'),
      id: 'n1',
      members,
      advance: { forMs: 3_600_000 },
    });
    const restore = ms(t);
    console.log(
      `[1M sequences] capture ${capture}; encode ${encode}; longest event-loop stall ${stall.toFixed(0)} ms -> ${mb(file.length)}; write (fsync) ${write}; ` +
        `read+verify ${verify}; recovered state ${recover} -> ${mb(state.data.length)}; ` +
        `whole restore into LevelDB ${restore}; skipped ${state.skipped.total} (${state.skipped.min}..${state.skipped.max} per sequence)`,
    );
  }, 300_000);
});
