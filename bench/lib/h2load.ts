// The server's own unary figure, with a load generator that is not Node:
// h2load (Debian's nghttp2-client, written in C) sends the same gRPC request
// over one HTTP/2 connection with `concurrency` streams in flight. grpc-js's
// unary client spends several times the server's CPU per call, so on two
// cores the Node load generator, not the server, bounds a unary figure.
//
// h2load knows HTTP/2, not gRPC: a gRPC error travels as HTTP 200 with a
// grpc-status trailer, which h2load counts as a success. So every run is
// checked against the server's own counter: the values (or etcd revisions)
// handed out between a probe before and a probe after must equal the
// requests h2load completed, else the row is marked with the difference.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { emptyRow, ensureInstalled, runTool } from './peers.js';
import { treeCpuSeconds } from './procstat.js';
import { quantile } from './stats.js';
import type { Row } from './types.js';

export interface H2Unary {
  system: string;
  config: string;
  /** host:port */
  address: string;
  /** /package.Service/Method */
  path: string;
  /** The request message, encoded. */
  message: Uint8Array;
  /** The server's counter (next value, revision); `probeCost` is what reading it adds. */
  counter: () => Promise<bigint>;
  probeCost: bigint;
  serverPids: () => number[];
}

/** Installs h2load through apt when missing; false if it cannot be had. */
export function haveH2load(): boolean {
  return ensureInstalled('h2load', ['nghttp2-client']);
}

/** A gRPC length-prefixed message: 1 byte "not compressed", 4 bytes big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** `type` of the proto file `file` (under `dir`) encoded from `fields`. */
export function encodeMessage(
  dir: string,
  file: string,
  type: string,
  fields: Record<string, unknown>,
): Uint8Array {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync(file, { keepCase: true });
  const t = root.lookupType(type);
  return t.encode(t.fromObject(fields)).finish();
}

/** What h2load printed: requests done and succeeded, seconds, and the per-request log. */
export function parseH2load(stdout: string): { done: number; succeeded: number; seconds: number } {
  const fin = /finished in ([0-9.]+)(m?s),/.exec(stdout);
  const req = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(stdout);
  if (fin === null || req === null)
    throw new Error(`h2load: unexpected output: ${stdout.slice(-300)}`);
  const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
  return { done: Number(req[1]), succeeded: Number(req[2]), seconds };
}

/** Latencies (ms) from h2load's --log-file: `start_us<TAB>status<TAB>duration_us` per request. */
export function h2loadLatenciesMs(log: string): number[] {
  const out: number[] = [];
  for (const line of log.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 3 && f[1] === '200') out.push(Number(f[2]) / 1000);
  }
  return out;
}

/**
 * One measured h2load run of about `seconds`: a short probe run sizes the
 * request count (h2load's count mode, so the server's counter can be
 * checked exactly), then the run itself.
 */
export async function runH2Unary(
  t: H2Unary,
  concurrency: number,
  seconds: number,
  workDir: string,
): Promise<Row> {
  mkdirSync(workDir, { recursive: true });
  const body = join(workDir, 'request.bin');
  writeFileSync(body, grpcFrame(t.message));
  const logFile = join(workDir, 'requests.log');
  const h2 = (n: number) =>
    runTool(
      'h2load',
      [
        '-n',
        String(n),
        '-c',
        '1',
        '-m',
        String(concurrency),
        '-t',
        '1',
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        '-d',
        body,
        `--log-file=${logFile}`,
        `http://${t.address}${t.path}`,
      ],
      (seconds + 60) * 1000,
    );
  const probeN = Math.max(1000, concurrency * 20);
  const probe = await h2(probeN);
  const rate = probe.code === 0 ? probeN / parseH2load(probe.stdout).seconds : 1000;
  const n = Math.max(probeN, Math.min(5_000_000, Math.round(rate * seconds)));

  const row = emptyRow(t.system, t.config, concurrency);
  const before = await t.counter();
  const pids = t.serverPids();
  const cpu0 = treeCpuSeconds(pids);
  if (existsSync(logFile)) rmSync(logFile);
  const r = await h2(n);
  const serverCpu = treeCpuSeconds(pids) - cpu0;
  const after = await t.counter();
  if (r.code !== 0) {
    row.note = `h2load failed: ${(r.stderr || r.stdout).trim().slice(-200)}`;
    return row;
  }
  const out = parseH2load(r.stdout);
  // The values the server really handed out to h2load's requests.
  const served = Number(after - before - t.probeCost);
  const ok = Math.min(out.succeeded, served);
  row.errors = out.done - ok;
  if (served !== out.succeeded) {
    row.note = `h2load counted ${out.succeeded} answers, the server handed out ${served}`;
  }
  const lat = h2loadLatenciesMs(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  row.opsPerSec = ok / out.seconds;
  row.idsPerSec = row.opsPerSec;
  row.latencyMs = {
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    p999: quantile(lat, 0.999),
    max: Math.max(...lat),
    mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
  };
  row.serverCores = serverCpu / out.seconds;
  row.clientCores = r.cpuSec === null ? null : r.cpuSec / out.seconds;
  row.serverUsPerOp = ok ? (serverCpu / ok) * 1e6 : null;
  row.clientUsPerOp = ok && r.cpuSec !== null ? (r.cpuSec / ok) * 1e6 : null;
  return row;
}
