// Running the raftseq CLI from tests: in-process (fast, injectable) or as a
// child process (the real executable path, exit codes and streams).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/program.js';
import { ROOT, raftseqNodeArgs } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: {},
    ...io,
  });
  return { code, stdout, stderr };
}

/**
 * Runs `node --import tsx src/cli/main.ts ...argv` (the sources, so no build
 * is needed; set RAFTSEQ_CLI_DIST=1 to run bin/raftseq on dist/ instead).
 */
export function spawnCli(
  argv: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const useDist =
    process.env.RAFTSEQ_CLI_DIST === '1' && existsSync(join(ROOT, 'dist/src/cli/main.js'));
  const args = [...raftseqNodeArgs(useDist ? 'dist' : 'sources'), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, RAFTSEQ_ENDPOINTS: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`raftseq ${argv.join(' ')}: no exit within ${opts.timeoutMs ?? 30_000} ms`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** The lines of a stream's output, without the trailing newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}
