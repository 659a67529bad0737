// Placeholder for `npm start`. The real local-cluster launcher replaces this
// file; until then `npm start` runs the deterministic simulator demo.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const simCli = join(root, 'test', 'sim', 'cli.ts');

console.log('raftseq: simulator demo');
if (!existsSync(simCli)) {
  console.log('raftseq: the simulator (test/sim/cli.ts) does not exist yet; nothing to run.');
  process.exit(0);
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const child = spawn(npx, ['tsx', simCli, '--seeds', '200'], { cwd: root, stdio: 'inherit' });
child.on('error', (err) => {
  console.error(`raftseq: could not start the simulator: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
