// `npm start`: a local 3-node raftseq cluster on 127.0.0.1:7001-7003 with its
// data under ./data, as three real `bin/raftseq serve` processes. Shows a few
// numbers coming out, prints ready-to-paste commands, and stops every node
// gracefully on Ctrl-C. Run it again: the numbers keep going up.
//
//   npm start                       start (or restart) the cluster
//   npm start -- --tls              the same with TLS: a CA, member and admin
//                                   certificates and an admin token under
//                                   ./data/tls (made once, then reused)
//   npm start -- --no-demo          do not call Next after start
//   npm start -- --data DIR --ports 7001,7002,7003   elsewhere (the tests)

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SequenceClient, type ClientTls } from '../src/index.js';
import { silenceIpServernameWarning } from '../src/security/tls.js';
import { ensureLocalTls, type LocalTls } from './local-tls.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'raftseq');

const { values: args } = parseArgs({
  options: {
    tls: { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    data: { type: 'string', default: join(root, 'data') },
    ports: { type: 'string', default: '7001,7002,7003' },
  },
  strict: true,
});
const dataRoot = resolve(args.data);
const ports = args.ports.split(',').map((p) => Number(p.trim()));
if (ports.length !== 3 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
  console.error(`raftseq: --ports wants three ports, e.g. 7001,7002,7003 (got ${args.ports})`);
  process.exit(2);
}
const nodes = ports.map((port, i) => ({ id: `n${i + 1}`, addr: `127.0.0.1:${port}` }));
const initialCluster = nodes.map((n) => `${n.id}=${n.addr}`).join(',');
const endpoints = nodes.map((n) => n.addr).join(',');

if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
  console.error('raftseq: not built; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}

/** A path as the user would type it from here: relative below the current directory. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

// The demo client dials by IP over TLS; Node's DEP0123 about it is noise here.
silenceIpServernameWarning();

const tls: LocalTls | null = args.tls
  ? await ensureLocalTls(
      join(dataRoot, 'tls'),
      nodes.map((n) => ({ id: n.id, hosts: ['127.0.0.1', 'localhost'] })),
    ).then(({ tls, made }) => {
      console.log(
        made.length === 0
          ? `raftseq: TLS: reusing the certificates in ${shown(tls.dir)}`
          : `raftseq: TLS: made ${made.join(', ')} in ${shown(tls.dir)}`,
      );
      return tls;
    })
  : null;

/** `serve` flags for node `id`'s TLS (none without --tls). */
function tlsServeArgs(id: string): string[] {
  if (tls === null) return [];
  const own = tls.member(id);
  return [
    '--cert',
    own.cert,
    '--key',
    own.key,
    '--ca',
    tls.ca,
    '--admin-token-file',
    tls.tokenFile,
  ];
}

const children = new Map<string, ChildProcess>();
let stopping = false;
/** 1 once the demo failed: the script then stops the nodes and says so in its exit code. */
let exitCode = 0;

function startNode(id: string, addr: string): ChildProcess {
  const dir = join(dataRoot, id);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dataRoot, `${id}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
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
      ...tlsServeArgs(id),
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
      console.error(
        `raftseq: node ${id} exited (${signal ?? `code ${code}`}); see ${shown(logFile)}`,
      );
    }
    if (stopping && children.size === 0) process.exit(exitCode);
  });
  return child;
}

function stopAll(): void {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the cluster (graceful hand-over, then exit)...');
  for (const c of children.values()) c.kill('SIGTERM');
  if (children.size === 0) process.exit(exitCode);
  setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL');
    process.exit(1);
  }, 8000).unref();
}

/** The commands to paste, each with the flags it needs. */
function tryCommands(): string[] {
  const cmd = (...words: string[]): string => `  bin/raftseq ${words.join(' ')}`;
  if (tls === null) {
    return [
      'try:',
      cmd('next orders --endpoints', endpoints),
      cmd('cluster status --endpoints', endpoints),
    ];
  }
  const ca = `--ca ${shown(tls.ca)}`;
  return [
    `try (TLS: every client needs ${ca}; a plaintext client is refused):`,
    cmd('next orders --endpoints', endpoints, ca),
    cmd('cluster status --endpoints', endpoints, ca),
    'admin calls need the admin certificate (raftseq://admin/ops) or the admin token:',
    cmd(
      'cluster transfer-leader --endpoints',
      endpoints,
      ca,
      `--cert ${shown(tls.admin.cert)} --key ${shown(tls.admin.key)}`,
    ),
    cmd(
      'sequence advance orders --to 1000000 --endpoints',
      endpoints,
      ca,
      `--token-file ${shown(tls.tokenFile)}`,
    ),
  ];
}

process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

for (const n of nodes) children.set(n.id, startNode(n.id, n.addr));
console.log(
  `raftseq: 3 nodes starting${tls !== null ? ' with TLS' : ''}, data in ${dataRoot} (logs: ${shown(join(dataRoot, 'n1.log'))} ...)`,
);

const clientTls: ClientTls | undefined = tls === null ? undefined : { ca: readFileSync(tls.ca) };
const client = new SequenceClient({
  endpoints: nodes.map((n) => n.addr),
  deadlineMs: 20_000,
  ...(clientTls !== undefined ? { tls: clientTls } : {}),
});
try {
  if (!args['no-demo']) {
    const values: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.next('orders');
      values.push(r.first.toString());
    }
    const batch = await client.next('invoices', 10);
    console.log(`\nnumbers coming out${tls !== null ? ' (over TLS)' : ''}:`);
    console.log(`  orders:   ${values.join(', ')}`);
    console.log(
      `  invoices: ${batch.first}..${batch.first + BigInt(batch.count) - 1n} (one call, count 10)`,
    );
  }
  console.log(`\ncluster is up at ${endpoints}`);
  console.log(tryCommands().join('\n'));
  console.log('\nCtrl-C stops every node cleanly; `npm start` again continues the numbers.');
} catch (err) {
  console.error(`raftseq: the cluster did not answer: ${(err as Error).message}`);
  exitCode = 1;
  stopAll();
} finally {
  client.close();
}
