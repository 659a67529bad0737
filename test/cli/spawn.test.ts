// The real executable path: exit codes and streams of a child process.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servingNext, startFakeNode, statusResponse } from '../support/fake-server.js';
import { ROOT, raftseqNodeArgs } from '../support/paths.js';
import type { FakeNode } from '../support/fake-server.js';
import { lines, spawnCli } from '../support/cli-run.js';
import { DEAD_ADDRESS } from '../support/ports.js';

describe.concurrent('raftseq (child process)', () => {
  let leader: FakeNode;
  beforeAll(async () => {
    leader = await startFakeNode({
      Next: servingNext(9007199254740993n), // 2^53 + 1
      Status: () => ({
        response: statusResponse({ nodeId: 'n1', role: 'leader', leader: 'n1', term: 2 }),
      }),
    });
  });
  afterAll(async () => {
    await leader.stop();
  });

  it('--help exits 0 and shows examples', async () => {
    const r = await spawnCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: raftseq');
    expect(r.stdout).toContain('Examples:');
    expect(r.stderr).toBe('');
  });

  it('an unknown flag exits 2 with one line and a hint', async () => {
    const r = await spawnCli(['next', 'orders', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      "raftseq: unknown option '--bogus' (see 'raftseq next --help')",
    ]);
  });

  it('an unreachable endpoint exits 1 with one line', async () => {
    const r = await spawnCli(['next', 'orders', '--endpoints', DEAD_ADDRESS, '--timeout', '800']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^raftseq: Next: no leader answered within 800 ms/);
    expect(err[0]).toContain('ECONNREFUSED');
  });

  it.each([
    [['serve', '--listen', '127.0.0.1:7001', '--data', '/tmp/x'], /required option '--id <id>'/],
    [['serve', '--id', 'n1', '--listen', 'localhost', '--data', 'd'], /"localhost" has no port/],
    [
      ['serve', '--id', 'n1', '--listen', 'h:1', '--data', 'd', '--election-timeout', '400'],
      /at least 5 x --heartbeat-interval/,
    ],
  ])('serve with bad flags exits 2 with one line: %j', async (argv, pattern) => {
    const r = await spawnCli(argv);
    expect(r.code).toBe(2);
    const err = lines(r.stderr);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^raftseq: /);
    expect(err[0]).toMatch(pattern);
    expect(err[0]).toContain("(see 'raftseq serve --help')");
  });

  it('takes --endpoints from RAFTSEQ_ENDPOINTS and prints exact values', async () => {
    const r = await spawnCli(['next', 'orders', '--count', '3'], {
      env: { RAFTSEQ_ENDPOINTS: leader.address },
    });
    expect(r).toEqual({ code: 0, stdout: '9007199254740993..9007199254740995\n', stderr: '' });
  });

  it('cluster status --watch redraws until Ctrl-C (SIGINT), then exits 0', async () => {
    const child = spawn(
      process.execPath,
      [...raftseqNodeArgs('sources'), 'cluster', 'status', '--watch', '-e', leader.address],
      {
        cwd: ROOT,
        env: { ...process.env, RAFTSEQ_ENDPOINTS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Two frames, then Ctrl-C (bounded: the child is killed if it never draws them).
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if ((stdout.match(/cluster status --watch/g) ?? []).length >= 2) resolve();
      });
      child.on('close', () => resolve());
    });
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/leader n1 +term 2/);
    expect(stderr).toBe('');
  });
});
