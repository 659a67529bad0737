// The CLI in-process, against fake nodes: outputs, exit codes, serve's life cycle.
import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeOptions } from '../../src/node/index.js';
import type { RunningNode } from '../../src/server/index.js';
import { DEFAULTS } from '../../src/node/options.js';
import { lines, runCli } from '../support/cli-run.js';
import { buildInfo } from '../../src/common/build-info.js';
import { packageVersion } from '../../src/proto/package-root.js';
import {
  failWith,
  redirectTo,
  servingNext,
  startFakeNode,
  statusResponse,
} from '../support/fake-server.js';
import type { FakeNode, Reply } from '../support/fake-server.js';
import { DEAD_ADDRESSES } from '../support/ports.js';

const nodes: FakeNode[] = [];
async function node(handlers: Parameters<typeof startFakeNode>[0] = {}): Promise<FakeNode> {
  const n = await startFakeNode(handlers);
  nodes.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

const seqInfo = (name: string, next: string): object => ({
  name,
  next,
  reserved: '2000',
  served: '999',
  skipped: '0',
  block: '1000',
});

describe('help', () => {
  it('--version prints the release version and the commit baked in at build time', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    const { version, commit } = buildInfo();
    expect(version).toBe(packageVersion());
    // npm ci builds, so the commit is the checkout's (git is there in CI and here).
    expect(commit).toMatch(/^[0-9a-f]{12}(\+dirty)?$/);
    expect(r.stdout).toBe(`raftseq ${version} (commit ${commit})\n`);
  });

  it.each([
    [[]],
    [['serve']],
    [['next']],
    [['cluster']],
    [['cluster', 'status']],
    [['cluster', 'join']],
    [['cluster', 'leave']],
    [['cluster', 'transfer-leader']],
    [['cluster', 'replace']],
    [['sequence']],
    [['sequence', 'list']],
    [['sequence', 'show']],
    [['sequence', 'advance']],
  ])('%j --help exits 0 with examples', async (path) => {
    const r = await runCli([...path, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stderr).toBe('');
    if (path.length > 0 && !['cluster', 'sequence'].includes(path.join(' '))) {
      if (path[0] !== 'serve') {
        expect(r.stdout).toContain('--endpoints');
        expect(r.stdout).toContain('--timeout');
      }
    }
  });

  it('does not show the fault-injection flag', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.stdout).not.toContain('fault-injection');
  });

  it('a missing subcommand prints the help on stderr and exits 2', async () => {
    const r = await runCli(['cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: raftseq cluster');
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['next'], /missing required argument 'sequence'/],
    [['next', 'x'], /missing --endpoints \(or RAFTSEQ_ENDPOINTS\)/],
    [['next', 'x', '-e', 'nohost'], /invalid endpoint: "nohost" has no port/],
    [['next', 'a b', '-e', 'h:1'], /sequence name "a b" contains " "/],
    [['next', 'x'.repeat(201), '-e', 'h:1'], /201 bytes/],
    [['next', 'x', '-e', 'h:1', '--count', '0'], /count must be an integer from 1 to 4294967295/],
    [['next', 'x', '-e', 'h:1', '--count', 'ten'], /count must be an integer/],
    [['next', 'x', '-e', 'h:1', '--timeout', '-5'], /milliseconds must be an integer/],
    [['next', 'x', 'y', '-e', 'h:1'], /too many arguments/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['cluster', 'join', '--id', 'n4', '-e', 'h:1'], /required option '--addr/],
    [['cluster', 'join', '--id', 'n4', '--addr', 'x', '-e', 'h:1'], /"x" has no port/],
    [
      ['sequence', 'advance', 'x', '--to', '0', '-e', 'h:1'],
      /value must be an integer from 1 to 9223372036854775807/,
    ],
    [
      ['sequence', 'advance', 'x', '--to', '9223372036854775808', '-e', 'h:1'],
      /value must be an integer from 1 to 9223372036854775807/,
    ],
    [['serve', '--id', 'n 1', '--listen', 'h:1', '--data', 'd'], /member id "n 1"/],
    [['serve', '--id', 'n1', '--listen', '[::1:7', '--data', 'd'], /not host:port/],
    [
      [
        'serve',
        '--id',
        'n1',
        '--listen',
        'h:1',
        '--data',
        'd',
        '--initial-cluster',
        'n1=h:1,n1=h:2',
      ],
      /n1 appears twice/,
    ],
    [
      ['serve', '--id', 'n1', '--listen', 'h:1', '--data', 'd', '--initial-cluster', 'n1=h:1,n2'],
      /"n2" is not id=host:port/,
    ],
    [
      ['serve', '--id', 'n1', '--listen', 'h:1', '--data', 'd', '--log-level', 'loud'],
      /Allowed choices/,
    ],
    [['serve', '--id', 'n1', '--listen', 'h:1', '--data', 'd', '--max-count', '0'], /max count/],
    [
      ['serve', '--id', 'n1', '--listen', 'h:1', '--data', 'd', '--heartbeat-interval', '300'],
      /--election-timeout \(1000 ms\) must be at least 5 x --heartbeat-interval \(300 ms\)/,
    ],
  ])('%j', async (argv, pattern) => {
    const r = await runCli(argv, {
      startNode: () => Promise.reject(new Error('must not start')),
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^raftseq: /);
    expect(err[0]).toMatch(pattern);
    expect(err[0]).toMatch(/\(see 'raftseq[a-z -]*--help'\)$/);
  });
});

describe('next', () => {
  it('prints one value, a range, or JSON', async () => {
    const leader = await node({ Next: servingNext(41n) });
    const e = ['--endpoints', leader.address];
    expect(await runCli(['next', 'orders', ...e])).toEqual({ code: 0, stdout: '41\n', stderr: '' });
    expect((await runCli(['next', 'orders', '-n', '10', ...e])).stdout).toBe('42..51\n');
    expect((await runCli(['next', 'orders', '--count', '2', '--json', ...e])).stdout).toBe(
      '{"first":"52","count":2}\n',
    );
    expect((await runCli(['next', 'orders', '--json', ...e])).stdout).toBe(
      '{"first":"54","count":1}\n',
    );
  });

  it('follows redirects from any endpoint, and reads RAFTSEQ_ENDPOINTS', async () => {
    const leader = await node({ Next: servingNext((1n << 62n) + 1n) });
    const follower = await node({ Next: redirectTo(leader.address) });
    const r = await runCli(['next', 'big'], { env: { RAFTSEQ_ENDPOINTS: `${follower.address}` } });
    expect(r).toEqual({ code: 0, stdout: '4611686018427387905\n', stderr: '' });
  });

  it('server errors exit 1 with one line naming the problem', async () => {
    const n = await node({
      Next: failWith(status.INVALID_ARGUMENT, 'count 200000 is over the maximum 100000'),
    });
    const r = await runCli(['next', 'x', '-n', '200000', '-e', n.address]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'raftseq: count 200000 is over the maximum 100000 (INVALID_ARGUMENT)',
    ]);
  });

  it('unreachable endpoints exit 1 with one line', async () => {
    const r = await runCli(['next', 'x', '-e', DEAD_ADDRESSES.slice(0, 2).join(','), '-t', '300']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^raftseq: Next: no leader answered within 300 ms/);
  });
});

describe('cluster', () => {
  async function cluster(): Promise<{
    leader: FakeNode;
    follower: FakeNode;
    leaderStatus: () => Reply;
  }> {
    const leader = await node();
    const follower = await node();
    const leaderStatus = (): Reply => ({
      response: {
        ...statusResponse({
          nodeId: 'n1',
          role: 'leader',
          leader: 'n1',
          leaderAddress: leader.address,
          term: 3,
          commitIndex: 120,
          leaseRemainingMs: 870,
          members: [
            { id: 'n1', address: leader.address, role: 'leader', matchIndex: 120 },
            {
              id: 'n2',
              address: follower.address,
              role: 'follower',
              matchIndex: 117,
              lastContactMs: 12,
            },
            {
              id: 'n3',
              address: '127.0.0.1:1',
              role: 'learner',
              matchIndex: 3,
              lastContactMs: 4500,
            },
          ],
        }),
        values_served: '5000',
        values_skipped: '7',
        version: '0.2.0',
        commit: '1a2b3c4d5e6f',
        wire_format: 2,
        cluster_wire_format: 1,
        cluster_id: '5eed5eed5eed5eed',
      },
    });
    leader.on('Status', leaderStatus);
    follower.on('Status', () => ({
      response: {
        ...statusResponse({
          nodeId: 'n2',
          role: 'follower',
          leader: 'n1',
          leaderAddress: leader.address,
          term: 3,
          commitIndex: 118,
        }),
        applied_index: '117',
      },
    }));
    return { leader, follower, leaderStatus };
  }

  it('status --json prints one object with leader, term and members', async () => {
    const { follower } = await cluster();
    const r = await runCli(['cluster', 'status', '--json', '-e', follower.address]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s.leader).toBe('n1');
    expect(s.term).toBe(3);
    expect(s.members).toEqual([
      expect.objectContaining({ id: 'n1', role: 'leader', matchIndex: 120 }),
      expect.objectContaining({ id: 'n2', role: 'follower', lastContactMs: 12 }),
      expect.objectContaining({ id: 'n3', address: '127.0.0.1:1', role: 'learner' }),
    ]);
    expect(s.leaseRemainingMs).toBe(870);
    // The cluster id, as the leader answers it; n2 predates the field, n3 did not answer.
    expect(s.clusterId).toBe('5eed5eed5eed5eed');
    expect(
      (s.members as { self: { clusterId: unknown } | null }[]).map((m) => m.self?.clusterId),
    ).toEqual(['5eed5eed5eed5eed', null, undefined]);
    // Each member's own version: n2 is of a release older than the field, n3 did not answer.
    expect((s.members as { version: unknown }[]).map((m) => m.version)).toEqual([
      '0.2.0',
      null,
      null,
    ]);
  });

  it('status --json says leader null while there is none', async () => {
    const n = await node({
      Status: () => ({ response: statusResponse({ nodeId: 'n2', role: 'candidate', term: 9 }) }),
    });
    const s = JSON.parse((await runCli(['cluster', 'status', '--json', '-e', n.address])).stdout);
    expect(s).toMatchObject({ leader: null, term: 9, members: [] });
  });

  it('status prints a table', async () => {
    const { leader } = await cluster();
    const r = await runCli(['cluster', 'status', '-e', leader.address]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(
      /^leader n1 \(127\.0\.0\.1:\d+\)\s+term 3\s+commit 120\s+applied 120\s+lease 870 ms left$/,
    );
    expect(out[1]).toMatch(/\s+cluster id 5eed5eed5eed5eed$/);
    expect(r.stdout).toMatch(
      /ID\s+ADDRESS\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+LAST CONTACT\s+LEASE\s+SERVED\s+SKIPPED\s+VERSION\n/,
    );
    // the leader's own row; a follower's own answer; an unreachable learner
    expect(r.stdout).toMatch(
      /n1\*\s+127\.0\.0\.1:\d+\s+leader\s+3\s+120\s+120\s+0\s+-\s+870 ms\s+5000\s+7\s+0\.2\.0 \(1a2b3c4\)\n/,
    );
    expect(r.stdout).toMatch(
      /n2\s+127\.0\.0\.1:\d+\s+follower\s+3\s+118\s+117\s+3\s+12 ms\s+-\s+0\s+0\s+\?\n/,
    );
    expect(r.stdout).toMatch(
      /n3\s+127\.0\.0\.1:1\s+learner\s+-\s+-\s+-\s+117\s+4\.5 s\s+-\s+-\s+-\s+-\n/,
    );
    expect(r.stdout).toMatch(
      /did not answer: n3: 127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1\n$/,
    );
    expect(r.stderr).toBe('');
  });

  it('status --watch draws a frame every second, says when the cluster cannot be read, and stops with exit 0', async () => {
    const { leader, leaderStatus } = await cluster();
    let calls = 0;
    // The second read fails: the watch says why and goes on.
    leader.on('Status', () =>
      ++calls === 2
        ? { error: { code: status.INTERNAL, details: 'disk on fire' } }
        : leaderStatus(),
    );
    let stop: (() => void) | null = null;
    let frames = 0;
    const out: string[] = [];
    const r = await runCli(['cluster', 'status', '--watch', '-e', leader.address, '-t', '300'], {
      onStopSignal: (handler) => {
        stop = () => handler('SIGINT');
        return () => (stop = null);
      },
      stdoutIsTerminal: true,
      stdout: (text) => {
        frames++;
        out.push(text);
        if (frames === 3) stop?.();
      },
    });
    expect(r.code).toBe(0);
    expect(out).toHaveLength(3);
    for (const f of out) {
      expect(f.startsWith('\x1b[H\x1b[2J')).toBe(true); // home, clear: redrawn in place
      expect(f.slice(7)).toMatch(
        /^raftseq cluster status --watch {3}\S+ {3}\(Ctrl-C to stop\)\n\n/,
      );
    }
    expect(out[0]).toMatch(/^n1\*\s+127\.0\.0\.1:\d+\s+leader/m);
    expect(out[1]).toMatch(/cannot read the cluster status: .*disk on fire/);
    expect(out[2]).toMatch(/^leader n1 /m);
    expect(stop).toBeNull(); // unsubscribed
  });

  it('status --watch --json prints one line per frame', async () => {
    const { leader } = await cluster();
    let stop: (() => void) | null = null;
    const out: string[] = [];
    const r = await runCli(['cluster', 'status', '--watch', '--json', '-e', leader.address], {
      onStopSignal: (handler) => {
        stop = () => handler('SIGTERM');
        return () => (stop = null);
      },
      stdout: (text) => {
        out.push(text);
        if (out.length === 2) stop?.();
      },
    });
    expect(r.code).toBe(0);
    const frames = out.map((l) => JSON.parse(l) as { at: string; leader: string });
    expect(frames.map((f) => f.leader)).toEqual(['n1', 'n1']);
    expect(Date.parse(frames[1]!.at)).toBeGreaterThan(Date.parse(frames[0]!.at));
  });

  it('join, leave and transfer-leader go to the leader', async () => {
    const leader = await node({
      AddMember: (req) => ({
        response: {
          members: [
            { id: 'n1', address: 'h:1', role: 'leader' },
            { id: req.id, address: req.address, role: 'learner', advertise: req.advertise },
          ],
        },
      }),
      RemoveMember: () => ({
        response: { members: [{ id: 'n1', address: 'h:1', role: 'leader' }] },
      }),
      TransferLeadership: (req) => ({ response: { leader: req.to || 'n2', term: '4' } }),
    });
    const follower = await node({
      AddMember: redirectTo(leader.address),
      RemoveMember: redirectTo(leader.address),
      TransferLeadership: redirectTo(leader.address),
    });
    const e = ['-e', follower.address];

    const j = await runCli([
      'cluster',
      'join',
      '--id',
      'n4',
      '--addr',
      '10.0.0.4:7004',
      '--no-wait',
      ...e,
    ]);
    expect(j.code).toBe(0);
    expect(j.stdout).toMatch(/^added n4 \(10\.0\.0\.4:7004\)/);
    expect(j.stdout).toMatch(/n4\s+10\.0\.0\.4:7004\s+learner/);
    expect(leader.callsOf('AddMember')[0]?.request).toMatchObject({
      id: 'n4',
      address: '10.0.0.4:7004',
      advertise: '',
    });

    const jj = await runCli([
      'cluster',
      'join',
      '--id',
      'n5',
      '--addr',
      'h:5',
      '--advertise',
      'pub:5',
      '--json',
      '--no-wait',
      ...e,
    ]);
    expect(JSON.parse(jj.stdout).members[1]).toMatchObject({ id: 'n5', advertise: 'pub:5' });

    const l = await runCli(['cluster', 'leave', '--id', 'n3', '--force', ...e]);
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(/^removed n3/);
    expect(leader.callsOf('RemoveMember')[0]?.request).toMatchObject({ id: 'n3', force: true });

    const t = await runCli(['cluster', 'transfer-leader', '--to', 'n2', ...e]);
    expect(t).toEqual({ code: 0, stdout: 'leader is now n2 (term 4)\n', stderr: '' });
    const tj = await runCli(['cluster', 'transfer-leader', '--json', ...e]);
    expect(JSON.parse(tj.stdout)).toEqual({ leader: 'n2', term: 4 });
  });
});

describe('sequence', () => {
  it('list, show and advance', async () => {
    const max = '9223372036854775807';
    const n = await node({
      ListSequences: (req) => ({
        response: {
          sequences:
            req.after === '' ? [seqInfo('invoices/2024', '17'), seqInfo('orders', max)] : [],
        },
      }),
      GetSequence: (req) => ({ response: seqInfo(String(req.name), '1000') }),
      AdvanceSequence: (req) => ({ response: seqInfo(String(req.name), String(req.to)) }),
    });
    const e = ['-e', n.address];

    const list = await runCli(['sequence', 'list', ...e]);
    expect(list.code).toBe(0);
    expect(lines(list.stdout)[0]).toMatch(/^NAME\s+NEXT\s+RESERVED\s+SERVED\s+SKIPPED\s+BLOCK$/);
    expect(list.stdout).toMatch(new RegExp(`orders\\s+${max}\\s+2000`));
    const lj = JSON.parse((await runCli(['sequence', 'list', '--json', ...e])).stdout);
    expect(lj.sequences[1]).toEqual({ ...seqInfo('orders', max) });

    const show = await runCli(['sequence', 'show', 'orders', ...e]);
    expect(show.stdout).toMatch(/next\s+1000/);
    expect(
      JSON.parse((await runCli(['sequence', 'show', 'orders', '--json', ...e])).stdout).next,
    ).toBe('1000');

    const adv = await runCli(['sequence', 'advance', 'orders', '--to', max, '--json', ...e]);
    expect(adv.code).toBe(0);
    expect(JSON.parse(adv.stdout).next).toBe(max);
    expect(n.callsOf('AdvanceSequence')[0]?.request.to).toBe(max);
  });
});

describe('serve', () => {
  const base = ['serve', '--id', 'n1', '--listen', '127.0.0.1:7001', '--data', '/tmp/raftseq-n1'];

  /** A fake runtime: records options; shutdown and stop controlled by the test. */
  function fakeRuntime(opts: { shutdownMs?: number; failStart?: Error } = {}) {
    const started: NodeOptions[] = [];
    let stop: (e: Error | null) => void = () => {};
    let shutdowns = 0;
    let signal: ((s: string) => void) | null = null;
    const exits: number[] = [];
    // What the tests wait for, instead of sleeping a guessed while.
    let onStarted = (): void => {};
    const whenStarted = new Promise<void>((resolve) => (onStarted = resolve));
    const io = {
      startNode: async (o: NodeOptions): Promise<RunningNode> => {
        if (opts.failStart) throw opts.failStart;
        started.push(o);
        onStarted();
        const running = {
          id: o.id,
          port: 7001,
          stopped: new Promise<Error | null>((resolve) => (stop = resolve)),
          shutdown: async () => {
            shutdowns++;
            await sleep(opts.shutdownMs ?? 0);
          },
        };
        return running as unknown as RunningNode; // no NodeHost in a fake
      },
      onStopSignal: (h: (s: string) => void) => {
        signal = h;
        return () => {
          signal = null;
        };
      },
      exit: (code: number) => void exits.push(code),
      stopGraceMs: 200,
    };
    return {
      io,
      started,
      /** Resolves once serve called startNode (the signal handler is in place before). */
      whenStarted,
      exits,
      shutdowns: () => shutdowns,
      stop: (e: Error | null) => stop(e),
      signal: (s: string) => signal?.(s),
    };
  }

  it('builds NodeOptions with defaults and stops gracefully on SIGTERM (exit 0)', async () => {
    const rt = fakeRuntime();
    const p = runCli(
      [...base, '--initial-cluster', 'n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003'],
      rt.io,
    );
    await rt.whenStarted;
    expect(rt.started).toEqual([
      {
        id: 'n1',
        listen: '127.0.0.1:7001',
        advertise: '127.0.0.1:7001',
        dataDir: '/tmp/raftseq-n1',
        initialCluster: new Map([
          ['n1', '127.0.0.1:7001'],
          ['n2', '127.0.0.1:7002'],
          ['n3', '127.0.0.1:7003'],
        ]),
        electionTimeoutMs: DEFAULTS.electionTimeoutMs,
        heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
        maxCount: DEFAULTS.maxCount,
        leaseDriftFraction: DEFAULTS.leaseDriftFraction,
        snapshotEntries: DEFAULTS.snapshotEntries,
        logLevel: DEFAULTS.logLevel,
        metricsListen: null,
        tls: null,
        adminTokenFile: null,
        clientCertAuth: false,
        maxSequences: DEFAULTS.maxSequences,
        enableFaultInjection: false,
      },
    ]);
    rt.signal('SIGTERM');
    expect(await p).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(rt.shutdowns()).toBe(1);
    expect(rt.exits).toEqual([]);
  });

  it('passes every flag through (restart: no --initial-cluster)', async () => {
    const rt = fakeRuntime();
    const p = runCli(
      [
        ...base,
        '--advertise',
        'n1.example:7001',
        '--election-timeout',
        '3000',
        '--heartbeat-interval',
        '600',
        '--max-count',
        '500',
        '--lease-drift',
        '0.2',
        '--snapshot-entries',
        '99',
        '--log-level',
        'debug',
        '--enable-fault-injection',
      ],
      rt.io,
    );
    await rt.whenStarted;
    expect(rt.started[0]).toMatchObject({
      advertise: 'n1.example:7001',
      initialCluster: null,
      electionTimeoutMs: 3000,
      heartbeatIntervalMs: 600,
      maxCount: 500,
      leaseDriftFraction: 0.2,
      snapshotEntries: 99,
      logLevel: 'debug',
      enableFaultInjection: true,
    });
    rt.signal('SIGINT');
    expect((await p).code).toBe(0);
  });

  it('a start error exits 1 with its one-line message', async () => {
    class DataDirInUseError extends Error {}
    const rt = fakeRuntime({
      failStart: new DataDirInUseError('data directory /tmp/raftseq-n1 is in use by pid 42'),
    });
    const log: string[] = [];
    const r = await runCli(base, { ...rt.io, logDestination: { write: (s) => void log.push(s) } });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'raftseq: data directory /tmp/raftseq-n1 is in use by pid 42\n',
    });
    // ... and one clear line in the node's JSON log.
    expect(log).toHaveLength(1);
    expect(JSON.parse(log[0] as string)).toMatchObject({
      level: 60,
      node: 'n1',
      msg: 'refused to start: data directory /tmp/raftseq-n1 is in use by pid 42',
    });
  });

  it('a node that stops by itself with an error exits 1', async () => {
    const rt = fakeRuntime();
    const p = runCli(base, rt.io);
    await rt.whenStarted;
    rt.stop(new Error('log corrupt at index 7: checksum mismatch'));
    expect(await p).toEqual({
      code: 1,
      stdout: '',
      stderr: 'raftseq: log corrupt at index 7: checksum mismatch\n',
    });
  });

  it('forces exit 1 when the graceful stop takes too long, or on a second signal', async () => {
    const rt = fakeRuntime({ shutdownMs: 400 });
    const p = runCli(base, rt.io);
    await rt.whenStarted;
    rt.signal('SIGTERM');
    // The fake's stop takes 400 ms (then serve returns); serve forces the
    // exit after stopGraceMs (200 ms), before that.
    await p;
    expect(rt.exits).toEqual([1]);

    const rt2 = fakeRuntime({ shutdownMs: 400 });
    const p2 = runCli(base, rt2.io);
    await rt2.whenStarted;
    rt2.signal('SIGTERM');
    rt2.signal('SIGTERM');
    expect(rt2.exits).toEqual([1]);
    await p2;
  });

  it('a different second signal (SIGINT from the terminal, SIGTERM from a supervisor) still stops gracefully', async () => {
    const rt = fakeRuntime({ shutdownMs: 50 });
    const p = runCli(base, rt.io);
    await rt.whenStarted;
    rt.signal('SIGINT');
    rt.signal('SIGTERM');
    expect(await p).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(rt.shutdowns()).toBe(1);
    expect(rt.exits).toEqual([]);
  });
});

describe('cluster join waits for the member to catch up', () => {
  const learner = (matchIndex: number, lastContactMs: number) => ({
    id: 'n4',
    address: '10.0.0.4:7004',
    role: 'learner',
    matchIndex,
    lastContactMs,
  });

  async function leaderWith(
    steps: { role: string; matchIndex: number; lastContactMs: number }[],
  ): Promise<FakeNode> {
    let polls = 0;
    return node({
      AddMember: () => ({
        response: { members: [{ id: 'n1', address: 'h:1', role: 'leader' }, learner(0, -1)] },
      }),
      Status: () => {
        const step = steps[Math.min(polls++, steps.length - 1)] ?? steps[0];
        return {
          response: statusResponse({
            nodeId: 'n1',
            role: 'leader',
            leader: 'n1',
            term: 2,
            commitIndex: 100,
            members: [
              { id: 'n1', address: 'h:1', role: 'leader', matchIndex: 100 },
              {
                ...learner(step?.matchIndex ?? 0, step?.lastContactMs ?? -1),
                role: step?.role ?? 'learner',
              },
            ],
          }),
        };
      },
    });
  }

  const join = ['cluster', 'join', '--id', 'n4', '--addr', '10.0.0.4:7004'];

  it('shows progress (plain lines when stderr is not a terminal) until promoted', async () => {
    const leader = await leaderWith([
      { role: 'learner', matchIndex: 0, lastContactMs: -1 },
      { role: 'learner', matchIndex: 40, lastContactMs: 5 },
      { role: 'learner', matchIndex: 100, lastContactMs: 5 },
      { role: 'follower', matchIndex: 100, lastContactMs: 5 },
    ]);
    const r = await runCli([...join, '-e', leader.address], { pollIntervalMs: 5 });
    expect(r.code).toBe(0);
    expect(lines(r.stderr)[0]).toBe('added n4 (10.0.0.4:7004) as a learner; catching up');
    expect(r.stderr).toContain('n4: 0/100 entries (0%)');
    expect(r.stdout).toMatch(/^n4 caught up in \d+ ms and is a voter\n\nID\s+ADDRESS\s+ROLE\n/);
    expect(r.stdout).toMatch(/n4\s+10\.0\.0\.4:7004\s+follower/);

    const j = await runCli([...join, '--json', '-e', leader.address], { pollIntervalMs: 5 });
    expect(j.code).toBe(0);
    expect(j.stderr).not.toContain('added'); // progress only, on stderr
    expect(JSON.parse(j.stdout)).toMatchObject({
      members: [{ id: 'n1' }, { id: 'n4', role: 'follower' }],
      caughtUpMs: expect.any(Number),
    });
  });

  it('draws a progress bar on a terminal', async () => {
    const leader = await leaderWith([
      { role: 'learner', matchIndex: 30, lastContactMs: 5 },
      { role: 'learner', matchIndex: 60, lastContactMs: 5 },
      { role: 'follower', matchIndex: 100, lastContactMs: 5 },
    ]);
    let drawn = '';
    const tty = {
      isTTY: true,
      columns: 100,
      write: (s: string) => {
        drawn += s;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      clearScreenDown: () => true,
      moveCursor: () => true,
      on: () => tty,
      removeListener: () => tty,
    } as unknown as NodeJS.WriteStream;
    const r = await runCli([...join, '-e', leader.address], {
      pollIntervalMs: 150,
      progressStream: tty,
    });
    expect(r.code).toBe(0);
    expect(drawn).toMatch(/n4 catching up \[.*\] \d+% \| \d+\/100 entries/);
    expect(r.stderr).not.toContain('entries');
  });

  it('a member that never answers: exit 1 after --timeout, one line naming the address', async () => {
    const leader = await leaderWith([{ role: 'learner', matchIndex: 0, lastContactMs: -1 }]);
    // Without the --timeout it would poll forever, and the test time out.
    const r = await runCli([...join, '--timeout', '400', '-e', leader.address], {
      pollIntervalMs: 20,
    });
    expect(r.code).toBe(1);
    const err = lines(r.stderr).filter((l) => l.startsWith('raftseq: '));
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^raftseq: n4 did not catch up within \d+ ms: the leader never heard from it: the address 10\.0\.0\.4:7004 may be unreachable/,
    );
    expect(err[0]).toContain('raftseq cluster leave --id n4');
  });

  it('one that stalls halfway says how far it got', async () => {
    const leader = await leaderWith([{ role: 'learner', matchIndex: 42, lastContactMs: 2000 }]);
    const r = await runCli([...join, '--timeout', '300', '-e', leader.address], {
      pollIntervalMs: 20,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/it holds 42 of 100 entries \(last contact 2\.0 s ago\)/);
  });
});
