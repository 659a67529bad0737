// The short, deterministic fuzz run of `npm test` (the long one is
// `npm run fuzz -- --runs 100000`): a fixed seed, a few thousand malformed
// inputs against every service of a 3-node TLS cluster, then the checks that
// nothing changed. First, the cases the fuzzer found, replayed as they were.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FuzzCase, FuzzContext } from './cases.js';
import { Executor } from './exec.js';
import { checkAfterRun, formatReport, judge, runFuzz } from './run.js';
import {
  fuzzContext,
  KNOWN_SEQUENCE,
  observe,
  startTarget,
  type FuzzTarget,
  type Observed,
} from './target.js';

const SEED = 20261201;
const RUNS = 3000;

/** Inputs that once got a wrong answer, with what they got. */
const FOUND: { what: string; make: (ctx: FuzzContext, leader: number) => FuzzCase }[] = [
  {
    // Two invalid requests answered at once, then bytes that do not decode:
    // the guard's status raced the handler's answers, which grpc-js then
    // turned into a second status (INTERNAL) and the trailers never came.
    what: 'NextStream: undecodable bytes behind answered requests hung until the deadline',
    make: (_ctx, leader) => ({
      service: 'Sequencer',
      method: 'NextStream',
      path: '/raftseq.v1.Sequencer/NextStream',
      streaming: 'bidi',
      as: 'member',
      target: leader,
      messages: [
        '08a780b5838ae5c7ba5a12001883eae0f90e20ffffffff0f',
        '0800120018ffffffffffffffffff012004',
        '30ab05a770',
        '0800120a66757a7a2e6b6e6f776e18a18d0620a18d06',
      ].map((h) => Buffer.from(h, 'hex')),
      end: 'half-close',
      metadata: [],
      gen: 'found',
      expect: [3],
    }),
  },
  {
    // The refusal quoted the 56 KB id twice in grpc-message; the client's
    // HTTP/2 header limit refused the trailers, the call hung, and the
    // stream stayed open on the server until the connection refused calls.
    what: 'RegisterMember with a 56 KB id hung, and leaked a stream',
    make: (_ctx, leader) => ({
      service: 'Cluster',
      method: 'RegisterMember',
      path: '/raftseq.v1.Cluster/RegisterMember',
      streaming: 'unary',
      as: 'member',
      target: leader,
      messages: [Buffer.concat([Buffer.from('0ac0b503', 'hex'), Buffer.alloc(56_000, 'a')])],
      end: 'half-close',
      metadata: [],
      gen: 'found',
      expect: [7],
    }),
  },
  {
    // Before: INTERNAL "Error deserializing request".
    what: 'Next over 64 KiB answered INTERNAL',
    make: (_ctx, leader) => ({
      service: 'Sequencer',
      method: 'Next',
      path: '/raftseq.v1.Sequencer/Next',
      streaming: 'unary',
      as: 'none',
      target: leader,
      messages: [Buffer.concat([Buffer.from('0a818004', 'hex'), Buffer.alloc(65537, 'a')])],
      end: 'half-close',
      metadata: [],
      gen: 'found',
      expect: [8],
    }),
  },
  {
    // Before: the leader took it for a second leader in its term and stopped (fatal).
    what: 'an append in the current term from a certified non-member crashed the leader',
    make: (ctx, leader) => ({
      service: 'Raft',
      method: 'Send',
      path: '/raftseq.v1.Raft/Send',
      streaming: 'client',
      as: 'member',
      target: leader,
      messages: [appendBatch(ctx, ctx.ids[leader]!)],
      end: 'half-close',
      metadata: [
        ['raftseq-from', ctx.peerId],
        ['raftseq-to', ctx.ids[leader]!],
      ],
      gen: 'found',
      expect: [0],
    }),
  },
];

/** RaftBatch{format 2, from peer, [append{from peer, to, term, prev = last index, commit}]}, by hand. */
function appendBatch(ctx: FuzzContext, to: string): Buffer {
  const v = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const str = (field: number, s: string): number[] => [
    (field << 3) | 2,
    ...v(Buffer.byteLength(s)),
    ...Buffer.from(s),
  ];
  const num = (field: number, n: number): number[] => [field << 3, ...v(n)];
  const msg = [
    ...num(1, 5),
    ...str(2, ctx.peerId),
    ...str(3, to),
    ...num(4, ctx.term),
    ...num(5, ctx.lastIndex),
    ...num(6, ctx.term),
    ...num(8, ctx.lastIndex),
  ];
  return Buffer.from([...num(1, 2), ...str(2, ctx.peerId), 0x1a, ...v(msg.length), ...msg]);
}

describe('fuzzing every service of a TLS cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-fuzz-'));
  let target: FuzzTarget;
  let before: Observed;
  let first: bigint;
  let ctx: FuzzContext;

  beforeAll(async () => {
    target = await startTarget(dir);
    first = (await target.admin.next(KNOWN_SEQUENCE)).first;
    before = await observe(target);
    ctx = await fuzzContext(target);
  }, 90_000);

  afterAll(async () => {
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the inputs it once got wrong with a clean code', async () => {
    const leader = target.cluster.nodes.findIndex((n) => n.id === before.leader);
    const exec = new Executor(target.cluster.endpoints, target.tls, 8000);
    try {
      for (const f of FOUND) {
        const c = f.make(ctx, leader);
        expect(judge(c, await exec.run(c)), f.what).toBeNull();
      }
    } finally {
      exec.close();
    }
  }, 60_000);

  it(`answers ${RUNS} malformed inputs with clean codes, and nothing changes`, async () => {
    const report = await runFuzz(target, ctx, { runs: RUNS, seed: SEED, concurrency: 8 });
    const text = formatReport(report);
    expect(report.dead, text).toEqual([]);
    expect(report.failures, text).toEqual([]);
    expect(report.sent).toBe(RUNS);
    // Every service was reached.
    expect(Object.keys(report.services).sort()).toEqual(
      ['Cluster', 'Health', 'Ops', 'Raft', 'Sequencer'].sort(),
    );
    const after = await checkAfterRun(target, before, first);
    expect(after.problems, text).toEqual([]);
    // Some absurd Raft messages got as far as the core, which refused them.
    expect(after.refusedPeerMessages).toBeGreaterThan(0);
  }, 240_000);
});
