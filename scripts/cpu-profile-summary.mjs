#!/usr/bin/env node
// Summarises V8 CPU profiles (.cpuprofile, as `node --cpu-prof` writes them,
// e.g. from `RAFTSEQ_BENCH_CPU_PROF=DIR npm run bench`): where the process's
// busy time went, by owner (raftseq's own code, grpc-js, Node's internals,
// other packages, garbage collection, native code) and by function.
//
//   node scripts/cpu-profile-summary.mjs [--top N] FILE.cpuprofile...
//
// Self time only (the samples whose top frame is the function), so the
// shares add up to the busy time; idle samples are left out.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  process.stdout.write(
    'usage: node scripts/cpu-profile-summary.mjs [--top N] FILE.cpuprofile...\n' +
      '  Busy time by owner (raftseq, grpc-js, node internals, other packages, GC,\n' +
      '  native) and the top N functions by self time (default 15).\n',
  );
  process.exit(args.length === 0 ? 2 : 0);
}
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
if (!Number.isInteger(top) || top < 1) {
  process.stderr.write('error: --top needs a positive integer\n');
  process.exit(2);
}
const files = args.filter((_, i) => i !== topAt && i !== topAt + 1);

/** Who owns a frame, from its script URL and name. */
function owner(frame) {
  const url = frame.url;
  const name = frame.functionName;
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)' || (url === '' && name.startsWith('(')))
    return 'native (V8, libuv, OpenSSL, LevelDB)';
  if (url.includes('/node_modules/@grpc/')) return 'grpc-js';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'node internals (http2, streams, timers)';
  if (url === '') return 'native (V8, libuv, OpenSSL, LevelDB)';
  return 'raftseq';
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const micros = new Map(); // node id -> self µs
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample: charge it to this one.
    micros.set(samples[i], (micros.get(samples[i]) ?? 0) + Math.max(0, timeDeltas[i] ?? 0));
  }
  const owners = new Map();
  const functions = new Map();
  let busy = 0;
  for (const [id, us] of micros) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const o = owner(frame);
    owners.set(o, (owners.get(o) ?? 0) + us);
    const where = frame.url
      ? `${frame.url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const wall = profile.endTime - profile.startTime;
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  process.stdout.write(
    `\n${file}\n  busy ${(busy / 1e6).toFixed(2)} s of ${(wall / 1e6).toFixed(2)} s profiled\n`,
  );
  for (const [o, us] of [...owners].sort((a, b) => b[1] - a[1]))
    process.stdout.write(`  ${pct(us)}  ${o}\n`);
  process.stdout.write(`  top ${top} functions by self time:\n`);
  for (const [f, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`  ${pct(us)}  ${f}\n`);
}
