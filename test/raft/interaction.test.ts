// Golden-output interaction tests: see interaction.ts for the command
// language. Regenerate with RAFTSEQ_REWRITE=1 npx vitest run test/raft/interaction
// (the would-be "test:rewrite" script; vitest has no --rewrite flag).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rewriteFile, runFile } from './interaction.js';

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
const rewrite = process.env['RAFTSEQ_REWRITE'] === '1';

describe('interaction', () => {
  it('has testdata files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s', (file) => {
    const path = join(dir, file);
    if (rewrite) rewriteFile(path);
    const { expected, actual } = runFile(path);
    expect(actual).toBe(expected);
  });
});
