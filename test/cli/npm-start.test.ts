// `npm start` (scripts/start.ts) as a person runs it: the local 3-node
// cluster comes up, numbers come out, and every command it prints to paste
// works as printed. With --tls: the certificates are made under <data>/tls,
// numbers come out over TLS, a plaintext client is refused, the admin
// certificate and the token it prints are accepted, and a second run reuses
// the certificates and continues the numbers.
//
// The script runs on its own data directory and on ports reserved here
// (--data, --ports), never on ./data and 7001-7003.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import { ROOT } from '../support/paths.js';
import { reservePorts } from '../support/ports.js';
import { ChildProc } from '../support/process.js';
import { tempDir, cleanupDirs } from '../security/kit.js';

/** What one run of `npm start` printed once the cluster was up. */
interface StartRun {
  proc: ChildProc;
  lines: string[];
  /** The values of "orders" the demo took. */
  orders: bigint[];
  /** The printed `bin/raftseq ...` commands, as argv after `bin/raftseq`. */
  commands: string[][];
}

const running: ChildProc[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
  cleanupDirs();
});

async function freePorts(): Promise<string> {
  const ports = await reservePorts(3);
  await ports.releaseAll(); // the script's nodes bind them
  return ports.ports.join(',');
}

/** Runs scripts/start.ts until it printed its last line ("Ctrl-C stops ..."). */
async function npmStart(args: string[]): Promise<StartRun> {
  const proc = ChildProc.spawn(
    'npm start',
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts'), ...args],
    { cwd: ROOT },
  );
  running.push(proc);
  const lines: string[] = [];
  await proc.waitForLine(
    (line) => {
      lines.push(line);
      return line.startsWith('Ctrl-C stops every node') ? true : undefined;
    },
    'its closing line',
    90_000,
  );
  const orders = lines
    .find((l) => l.trim().startsWith('orders:'))
    ?.replace(/^\s*orders:\s*/, '')
    .split(', ')
    .map((v) => BigInt(v));
  const commands = lines
    .filter((l) => l.trim().startsWith('bin/raftseq '))
    .map((l) => l.trim().split(/\s+/).slice(1));
  return { proc, lines, orders: orders ?? [], commands };
}

/** SIGTERM, as Ctrl-C would: every node hands over and the script exits 0. */
async function stop(run: StartRun): Promise<void> {
  const exit = await run.proc.terminate(20_000);
  expect(exit).toMatchObject({ code: 0, forced: false });
}

describe('npm start', () => {
  it('without --tls: plaintext, as before', async () => {
    const dir = tempDir();
    const run = await npmStart(['--data', dir, '--ports', await freePorts()]);
    expect(run.orders).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(run.commands.map((c) => c.slice(0, 2))).toEqual([
      ['next', 'orders'],
      ['cluster', 'status'],
    ]);
    for (const argv of run.commands) expect((await runCli(argv)).code).toBe(0);
    await stop(run);
  }, 120_000);

  it('with --tls: numbers over TLS, plaintext refused, certificates reused on the next run', async () => {
    const dir = tempDir();
    const ports = await freePorts();
    const first = await npmStart(['--tls', '--data', dir, '--ports', ports]);
    expect(first.lines).toContain(
      `raftseq: TLS: made a CA, member n1, member n2, member n3, admin ops, an admin token in ${join(dir, 'tls')}`,
    );
    expect(first.orders).toEqual([1n, 2n, 3n, 4n, 5n]);
    const ca = readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8');

    // Every printed command works as printed: next and status with --ca,
    // transfer-leader with the admin certificate, advance with the token.
    const printed = first.commands.map((c) => c.slice(0, 2).join(' '));
    expect(printed).toEqual([
      'next orders',
      'cluster status',
      'cluster transfer-leader',
      'sequence advance',
    ]);
    for (const argv of first.commands) {
      const r = await runCli(argv);
      expect({ argv: argv.join(' '), code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    }
    const endpoints = first.commands[0]?.[first.commands[0].indexOf('--endpoints') + 1] ?? '';

    // A client without --ca is told in one line that the node speaks TLS.
    const plain = await runCli(['next', 'orders', '--endpoints', endpoints]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^raftseq: endpoint 127\.0\.0\.1:\d+ speaks TLS; pass --ca/);
    // With --ca only, an admin mutation is refused: it needs the certificate or the token.
    const anonymous = await runCli([
      'sequence',
      'advance',
      'orders',
      '--to',
      '2000000',
      '--endpoints',
      endpoints,
      '--ca',
      join(dir, 'tls', 'ca.pem'),
    ]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('UNAUTHENTICATED');
    await stop(first);

    // The second run keeps the CA (clients' --ca stays valid) and the numbers
    // go on from where the advance left them.
    const second = await npmStart(['--tls', '--data', dir, '--ports', ports]);
    expect(second.lines).toContain(`raftseq: TLS: reusing the certificates in ${join(dir, 'tls')}`);
    expect(readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8')).toBe(ca);
    expect(second.orders[0]).toBeGreaterThanOrEqual(1_000_000n);
    await stop(second);
  }, 180_000);
});
