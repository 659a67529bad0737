// @raftseq/client is the client library alone: packed with `npm pack`, it
// installs into an empty project without the server's dependencies (LevelDB,
// pino, prom-client, commander) and asks a node for numbers there.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeNode, servingNext, type FakeNode } from '../support/fake-server.js';
import { ROOT } from '../support/paths.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'raftseq-client-pkg-'));
let node: FakeNode | null = null;

afterAll(async () => {
  await node?.stop();
  rmSync(work, { recursive: true, force: true });
});

const SERVER_ONLY = ['classic-level', 'pino', 'prom-client', 'commander', 'raftseq'];

describe('@raftseq/client from npm pack', () => {
  it('installs alone into an empty project and serves next()', async () => {
    const packed = await run(
      'npm',
      ['pack', '-w', '@raftseq/client', '--pack-destination', work, '--json', '--silent'],
      { cwd: ROOT, maxBuffer: 16 << 20 },
    );
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    expect(info).toBeDefined();
    const files = info!.files.map((f) => f.path);
    expect(files).toContain('dist/client/index.js');
    expect(files).toContain('proto/raftseq/v1/sequencer.proto');

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, info!.filename)],
      { cwd: app, maxBuffer: 16 << 20 },
    );
    expect(existsSync(join(app, 'node_modules', '@raftseq', 'client', 'package.json'))).toBe(true);
    for (const dep of SERVER_ONLY) {
      expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(false);
    }

    node = await startFakeNode({ Next: servingNext(41n) });
    writeFileSync(
      join(app, 'main.mjs'),
      [
        "import { SequenceClient } from '@raftseq/client';",
        "const client = new SequenceClient({ endpoints: [process.argv[2]], transport: 'unary' });",
        "const r = await client.next('invoices', 3);",
        'console.log(JSON.stringify({ first: r.first.toString(), count: r.count }));',
        'client.close();',
      ].join('\n'),
    );
    const out = await run(process.execPath, ['main.mjs', node.address], { cwd: app });
    expect(JSON.parse(out.stdout)).toEqual({ first: '41', count: 3 });
  }, 180_000);
});
