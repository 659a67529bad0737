// `raftseq certs`: a CA, two members and an admin into a temporary
// directory, the way a person would issue them, and the errors they may meet.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli-run.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftseq-certs-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const cert = (path: string): X509Certificate => new X509Certificate(readFileSync(path));

describe('raftseq certs', () => {
  it('issues a CA, two members and an admin', async () => {
    const dir = join(tempDir(), 'tls');
    const init = await runCli(['certs', 'init', '--dir', dir]);
    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(init.stdout).toContain(
      `${join(dir, 'ca.pem')}      CA certificate: give it to every node and client as --ca`,
    );
    expect(init.stdout).toContain(`raftseq certs member --dir ${dir} --id n1 --host`);

    for (const [id, hosts] of [
      ['n1', '127.0.0.1,node1.example'],
      ['n2', '127.0.0.2,node2.example'],
    ] as const) {
      const r = await runCli(['certs', 'member', '--dir', dir, '--id', id, '--host', hosts]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain(
        `--cert ${join(dir, `member-${id}.pem`)} --key ${join(dir, `member-${id}-key.pem`)} --ca ${join(dir, 'ca.pem')}`,
      );
    }
    const admin = await runCli(['certs', 'admin', '--dir', dir, '--name', 'ops', '--days', '30']);
    expect(admin).toMatchObject({ code: 0, stderr: '' });

    const ca = cert(join(dir, 'ca.pem'));
    expect(cert(join(dir, 'member-n1.pem')).subjectAltName).toBe(
      'URI:raftseq://member/n1, IP Address:127.0.0.1, DNS:node1.example',
    );
    expect(cert(join(dir, 'member-n2.pem')).subjectAltName).toBe(
      'URI:raftseq://member/n2, IP Address:127.0.0.2, DNS:node2.example',
    );
    const ops = cert(join(dir, 'admin-ops.pem'));
    expect(ops.subjectAltName).toBe('URI:raftseq://admin/ops');
    const days = (new Date(ops.validTo).getTime() - Date.now()) / (24 * 3600_000);
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    for (const name of ['member-n1', 'member-n2', 'admin-ops']) {
      expect(cert(join(dir, `${name}.pem`)).checkIssued(ca)).toBe(true);
      expect(statSync(join(dir, `${name}-key.pem`)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('refuses to overwrite without --force (exit 1, one line), and replaces with it', async () => {
    const dir = tempDir();
    expect((await runCli(['certs', 'init', '--dir', dir])).code).toBe(0);
    expect((await runCli(['certs', 'admin', '--dir', dir, '--name', 'ops'])).code).toBe(0);
    const before = readFileSync(join(dir, 'admin-ops.pem'), 'utf8');
    const again = await runCli(['certs', 'admin', '--dir', dir, '--name', 'ops']);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `raftseq: ${join(dir, 'admin-ops.pem')} already exists; pass --force to replace it\n`,
    });
    expect((await runCli(['certs', 'admin', '--dir', dir, '--name', 'ops', '--force'])).code).toBe(
      0,
    );
    expect(readFileSync(join(dir, 'admin-ops.pem'), 'utf8')).not.toBe(before);
  });

  it('without a CA, says how to make one (exit 1)', async () => {
    const dir = tempDir();
    const r = await runCli(['certs', 'member', '--dir', dir, '--id', 'n1', '--host', '127.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `raftseq: no CA in ${dir} (${join(dir, 'ca.pem')} is missing); run: raftseq certs init --dir ${dir}\n`,
    );
  });

  it.each([
    [
      ['certs', 'member', '--dir', 'd', '--id', 'n1'],
      /required option '--host <list>' not specified/,
    ],
    [['certs', 'member', '--dir', 'd', '--id', 'n 1', '--host', 'h'], /member id "n 1" must be/],
    [['certs', 'member', '--dir', 'd', '--id', 'n1', '--host', 'a,,b'], /empty host name/],
    [
      ['certs', 'member', '--dir', 'd', '--id', 'n1', '--host', 'bad_host'],
      /"bad_host" is neither an IP address nor a DNS name/,
    ],
    [['certs', 'admin', '--dir', 'd', '--name', ''], /admin name is empty/],
    [['certs', 'init'], /required option '-d, --dir <dir>' not specified/],
    [['certs', 'init', '--dir', 'd', '--days', '0'], /days must be an integer from 1 to/],
  ])('%j is a usage error (exit 2, one line)', async (argv, error) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(error);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([[['certs']], [['certs', 'init']], [['certs', 'member']], [['certs', 'admin']]])(
    '%j --help teaches, with examples',
    async (path) => {
      const r = await runCli([...path, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toMatch(/ca\.pem|member-<id>\.pem|admin-<name>\.pem/);
    },
  );

  it('runs as the real executable', async () => {
    const dir = tempDir();
    const r = await spawnCli(['certs', 'init', '--dir', dir]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cert(join(dir, 'ca.pem')).ca).toBe(true);
  });
});
