// `raftseq completion bash|zsh|fish`: the scripts cover the whole command
// tree, and the bash one (fish's too, where fish is installed) completes
// what a user would expect when run by the shell itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../support/cli-run.js';

function program(): Command {
  return buildProgram({ stdout: () => {}, stderr: () => {}, env: {} }, { value: 0 });
}

/** Every visible command path of the tree, e.g. "cluster status". */
function commandPaths(cmd: Command, prefix = ''): string[] {
  return cmd
    .createHelp()
    .visibleCommands(cmd)
    .flatMap((sub) => {
      const path = prefix === '' ? sub.name() : `${prefix} ${sub.name()}`;
      return [path, ...commandPaths(sub, path)];
    });
}

async function script(shell: string): Promise<string> {
  const r = await runCli(['completion', shell]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

function hasShell(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** What bash's completion function offers for `words` (the last one being typed). */
function bashComplete(source: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${source}
COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}
_raftseq 2>/dev/null
printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '');
}

const NEXT_OPTIONS = [
  '-e',
  '--endpoints',
  '-t',
  '--timeout',
  '--ca',
  '--cert',
  '--key',
  '--token-file',
  '-n',
  '--count',
  '--json',
  '-h',
  '--help',
];

describe('raftseq completion bash', () => {
  it('lists every command, at the path where it is typed', async () => {
    const bash = await script('bash');
    const paths = commandPaths(program());
    // The tree itself, so that a walk that found nothing cannot pass.
    expect(paths).toEqual(
      expect.arrayContaining([
        'serve',
        'next',
        'cluster status',
        'cluster transfer-leader',
        'sequence advance',
        'completion',
      ]),
    );
    for (const path of paths) {
      const parent = path.includes(' ') ? path.slice(0, path.lastIndexOf(' ')) : '';
      const name = path.slice(path.lastIndexOf(' ') + 1);
      // The walk recognises it...
      expect(bash).toContain(`'${parent}:${name}'`);
      // ...and its parent offers it.
      const offered = new RegExp(`^    \\('${parent}'\\) words='([^']*)'`, 'm').exec(bash)?.[1];
      expect(offered?.split(' '), path).toContain(name);
    }
  });

  it('lists the options of next', async () => {
    const bash = await script('bash');
    const opts = /^ {4}\('next'\) words=''; opts='([^']*)'/m.exec(bash)?.[1]?.split(' ');
    expect(opts).toEqual(NEXT_OPTIONS);
  });

  it('completes commands, options and option values when bash runs it', async () => {
    const bash = await script('bash');
    expect(bashComplete(bash, ['raftseq', ''])).toEqual([
      'serve',
      'next',
      'cluster',
      'sequence',
      'completion',
      'certs',
      'help',
    ]);
    expect(bashComplete(bash, ['raftseq', 'cluster', 't'])).toEqual(['transfer-leader']);
    expect(bashComplete(bash, ['raftseq', 'next', 'orders', '-'])).toEqual(NEXT_OPTIONS);
    // Words that are not a subcommand of the path so far leave it as it
    // is: option values (bash splits host:port at the colon), arguments, and
    // names of commands elsewhere in the tree.
    expect(bashComplete(bash, ['raftseq', 'next', '-e', '127.0.0.1', ':', '7001', '--co'])).toEqual(
      ['--count'],
    );
    expect(bashComplete(bash, ['raftseq', 'next', '--endpoints', 'cluster', ''])).toEqual([]);
    expect(bashComplete(bash, ['raftseq', 'serve', '--log-level', 'w'])).toEqual(['warn']);
    // After an option that takes free text, nothing: not even the options.
    expect(bashComplete(bash, ['raftseq', 'serve', '--id', ''])).toEqual([]);
    expect(bashComplete(bash, ['raftseq', 'next', '-e', '-'])).toEqual([]);
    expect(bashComplete(bash, ['raftseq', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('leaves out the hidden test-only flag', async () => {
    expect(await script('bash')).not.toContain('fault-injection');
  });
});

describe('raftseq completion zsh and fish', () => {
  it.each(['zsh', 'fish'])('%s: names every command and every option of next', async (shell) => {
    const text = await script(shell);
    for (const path of commandPaths(program())) {
      expect(text).toContain(path.slice(path.lastIndexOf(' ') + 1));
    }
    for (const opt of ['--endpoints', '--timeout', '--count', '--json']) {
      expect(text).toContain(shell === 'fish' ? `-l ${opt.slice(2)}` : `'${opt}:`);
    }
  });

  it.skipIf(!hasShell('zsh'))('zsh: the script parses', async () => {
    const r = spawnSync('zsh', ['-n'], { input: await script('zsh'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasShell('fish'))('fish: completes commands and options', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'raftseq-fish-')), 'raftseq.fish');
    writeFileSync(file, await script('fish'));
    const complete = (line: string): string[] => {
      const r = spawnSync('fish', ['-c', `source ${file}; complete -C '${line}'`], {
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0] ?? '');
    };
    expect(complete('raftseq cluster ')).toEqual([
      'help',
      'join',
      'leave',
      'replace',
      'status',
      'transfer-leader',
    ]);
    expect(complete('raftseq next -e h:1 --co')).toEqual(['--count']);
  });
});

it('refuses a shell it does not know with a usage error', async () => {
  const r = await runCli(['completion', 'powershell']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(
    /'powershell' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish/,
  );
});
