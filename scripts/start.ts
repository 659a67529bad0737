// `npm start`: a local 3-node raftseq cluster on 127.0.0.1:7001-7003 with its
// data under ./data, as three real `bin/raftseq serve` processes. Shows a few
// numbers coming out, prints a ready-to-paste command, and stops every node
// gracefully on Ctrl-C. Run it again: the numbers keep going up.
//
//   npm start                 start (or restart) the cluster
//   npm start -- --no-demo    do not call Next after start

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SequenceClient } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'raftseq');
const dataRoot = join(root, 'data');
const nodes = [
  { id: 'n1', addr: '127.0.0.1:7001' },
  { id: 'n2', addr: '127.0.0.1:7002' },
  { id: 'n3', addr: '127.0.0.1:7003' },
];
const initialCluster = nodes.map((n) => `${n.id}=${n.addr}`).join(',');
const endpoints = nodes.map((n) => n.addr).join(',');
const demo = !process.argv.includes('--no-demo');

if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
  console.error('raftseq: not built; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function startNode(id: string, addr: string): ChildProcess {
  const dir = join(dataRoot, id);
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(dataRoot, `${id}.log`), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--id',
      id,
      '--listen',
      addr,
      '--data',
      dir,
      '--initial-cluster',
      initialCluster,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.on('data', (b: Buffer) => {
    log.write(b);
    process.stderr.write(`[${id}] ${b.toString()}`);
  });
  child.on('exit', (code, signal) => {
    children.delete(id);
    if (!stopping) {
      console.error(`raftseq: node ${id} exited (${signal ?? `code ${code}`}); see data/${id}.log`);
    }
    if (stopping && children.size === 0) process.exit(0);
  });
  return child;
}

function stopAll(): void {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the cluster (graceful hand-over, then exit)...');
  for (const c of children.values()) c.kill('SIGTERM');
  if (children.size === 0) process.exit(0);
  setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
    process.exit(1);
  }, 8000).unref();
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

for (const n of nodes) children.set(n.id, startNode(n.id, n.addr));
console.log(`raftseq: 3 nodes starting, data in ${dataRoot} (logs: data/n1.log ...)`);

const client = new SequenceClient({ endpoints: nodes.map((n) => n.addr), deadlineMs: 20_000 });
try {
  if (demo) {
    const values: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.next('orders');
      values.push(r.first.toString());
    }
    const batch = await client.next('invoices', 10);
    console.log(`\nnumbers coming out:`);
    console.log(`  orders:   ${values.join(', ')}`);
    console.log(
      `  invoices: ${batch.first}..${batch.first + BigInt(batch.count) - 1n} (one call, count 10)`,
    );
  }
  console.log(`\ncluster is up at ${endpoints}`);
  console.log(`try:\n  bin/raftseq next orders --endpoints ${endpoints}`);
  console.log(`  bin/raftseq cluster status --endpoints ${endpoints}`);
  console.log('\nCtrl-C stops every node cleanly; `npm start` again continues the numbers.');
} catch (err) {
  console.error(`raftseq: the cluster did not answer: ${(err as Error).message}`);
  stopAll();
} finally {
  client.close();
}
