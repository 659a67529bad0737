// The load generator: ONE closed-loop generator for every gRPC system in the
// benchmark (raftseq, the trivial grpc-js ceiling, etcd), run as its own
// process so that client and server CPU are measured apart.
//
// Protocol (driven by bench/lib/loadgen-driver.ts): one JSON job per line on
// stdin; for each job it prints {"event":"start"} when the measured window
// begins (after the warm-up) and then one {"event":"result",...} line.
// Every job is bounded: it stops at durationMs or maxOps, whichever comes first.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { raftseqApi } from '../src/proto/load.js';
import { SequenceClient } from '../src/client/index.js';
import type { Job, JobResult, Target } from './lib/types.js';

const here = dirname(fileURLToPath(import.meta.url));

type Op = (i: number) => Promise<number>;

interface Prepared {
  op: Op;
  close(): void;
}

type Callback = (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void;
type UnaryStub = grpc.Client & Record<string, (req: unknown, cb: Callback) => void>;

function toNum(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function unaryCall(
  stub: UnaryStub,
  method: string,
  req: unknown,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    (stub[method] as (req: unknown, cb: Callback) => void).call(stub, req, (err, res) =>
      err ? reject(err) : resolve(res ?? {}),
    );
  });
}

/** N bidi streams of raftseq.v1.Sequencer/NextStream, requests matched by id. */
function streamPool(
  address: string,
  streams: number,
): Prepared & {
  send(stream: number, sequence: string, count: number): Promise<number>;
} {
  const services = raftseqApi();
  const stub = new services.Sequencer(address, grpc.credentials.createInsecure());
  let nextId = 1;
  const pools = Array.from({ length: streams }, () => {
    const pending = new Map<string, { resolve: (n: number) => void; reject: (e: Error) => void }>();
    const call = stub.NextStream();
    call.on('data', (r: Record<string, unknown>) => {
      const id = String(r.id);
      const p = pending.get(id);
      if (!p) return;
      pending.delete(id);
      if (toNum(r.code) === 0) p.resolve(toNum(r.count));
      else p.reject(new Error(`code ${String(r.code)}: ${String(r.message)}`));
    });
    const state = { call, pending, dead: null as Error | null };
    const failAll = (e: Error): void => {
      state.dead ??= e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    call.on('error', (e: Error) => failAll(e));
    call.on('end', () => failAll(new Error('stream ended')));
    return state;
  });
  return {
    send(i, sequence, count) {
      const s = pools[i % streams]!;
      const id = String(nextId++);
      if (s.dead !== null) return Promise.reject(s.dead);
      return new Promise<number>((resolve, reject) => {
        s.pending.set(id, { resolve, reject });
        s.call.write({ id, sequence, count });
      });
    },
    op: () => Promise.reject(new Error('unused')),
    close() {
      for (const s of pools) s.call.end();
      stub.close();
    },
  };
}

let etcdPkg: grpc.GrpcObject | null = null;
function etcdKv(address: string): UnaryStub {
  if (etcdPkg === null) {
    const def = protoLoader.loadSync('etcd/kv.proto', {
      includeDirs: [join(here, 'proto')],
      keepCase: true,
      longs: String,
      defaults: true,
      oneofs: true,
    });
    etcdPkg = grpc.loadPackageDefinition(def);
  }
  const Ctor = (etcdPkg['etcdserverpb'] as grpc.GrpcObject)['KV'] as grpc.ServiceClientConstructor;
  return new Ctor(address, grpc.credentials.createInsecure()) as unknown as UnaryStub;
}

function prepare(t: Target, concurrency: number): Prepared {
  switch (t.kind) {
    case 'unary': {
      const services = raftseqApi();
      // The same untyped stub shape as etcd's KV below: one timing loop for both.
      const stub = new services.Sequencer(
        t.address,
        grpc.credentials.createInsecure(),
      ) as unknown as UnaryStub;
      const req = { sequence: t.sequence, count: t.count };
      const names = t.names;
      return {
        op: async (i) =>
          toNum(
            (
              await unaryCall(
                stub,
                'Next',
                names === undefined
                  ? req
                  : { sequence: `${t.sequence}${i % names}`, count: t.count },
              )
            ).count,
          ),
        close: () => stub.close(),
      };
    }
    case 'stream': {
      const streams = Math.max(1, Math.min(t.streams, concurrency));
      const pool = streamPool(t.address, streams);
      const names = t.names;
      return {
        op: (i) =>
          pool.send(i, names === undefined ? t.sequence : `${t.sequence}${i % names}`, t.count),
        close: () => pool.close(),
      };
    }
    case 'client': {
      const client = new SequenceClient({ endpoints: t.endpoints, transport: t.transport });
      const names = t.names;
      return {
        op: async (i) => {
          const name = names === undefined ? t.sequence : `${t.sequence}${i % names}`;
          return (await client.next(name, t.count)).count;
        },
        close: () => client.close(),
      };
    }
    case 'lease': {
      const client = new SequenceClient({ endpoints: t.endpoints });
      const lease = client.lease(t.sequence, { blockSize: t.blockSize });
      const batch = t.batch;
      return {
        op:
          batch === undefined
            ? async () => {
                await lease.next();
                return 1;
              }
            : async () => {
                for (let k = 0; k < batch; k++) {
                  if (lease.tryNext() === undefined) await lease.next();
                }
                return batch;
              },
        close: () => {
          void lease.close().finally(() => client.close());
        },
      };
    }
    case 'etcd-put': {
      const kv = etcdKv(t.address);
      const key = Buffer.from(t.key);
      const value = Buffer.from('x');
      return {
        // The revision in the header is the counter value.
        op: async () => {
          const r = await unaryCall(kv, 'Put', { key, value });
          if (!(toNum((r.header as Record<string, unknown>).revision) > 0))
            throw new Error('no rev');
          return 1;
        },
        close: () => kv.close(),
      };
    }
    case 'etcd-cas': {
      const kv = etcdKv(t.address);
      const key = Buffer.from(t.key);
      // Each op is one successful increment: read, then compare-and-swap on
      // mod_revision, retrying with the value the failed Txn read back.
      let cached: { value: number; mod: string } | null = null;
      const read = async (): Promise<{ value: number; mod: string }> => {
        const r = await unaryCall(kv, 'Range', { key });
        const kvs = r.kvs as Record<string, unknown>[];
        if (kvs.length === 0) return { value: 0, mod: '0' };
        const first = kvs[0] as Record<string, unknown>;
        return { value: Number(String(first.value)), mod: String(first.mod_revision) };
      };
      return {
        op: async () => {
          let cur = cached ?? (await read());
          for (let attempt = 0; attempt < 10_000; attempt++) {
            const r = await unaryCall(kv, 'Txn', {
              compare: [{ result: 'EQUAL', target: 'MOD', key, mod_revision: cur.mod }],
              success: [{ request_put: { key, value: Buffer.from(String(cur.value + 1)) } }],
              failure: [{ request_range: { key } }],
            });
            if (r.succeeded === true) {
              cached = {
                value: cur.value + 1,
                mod: String((r.header as Record<string, unknown>).revision),
              };
              return 1;
            }
            const rr = ((r.responses as Record<string, unknown>[])[0] ?? {}) as Record<
              string,
              unknown
            >;
            const kvs = ((rr.response_range as Record<string, unknown> | undefined)?.kvs ??
              []) as Record<string, unknown>[];
            const first = kvs[0];
            cur =
              first === undefined
                ? { value: 0, mod: '0' }
                : { value: Number(String(first.value)), mod: String(first.mod_revision) };
          }
          throw new Error('CAS did not succeed in 10000 attempts');
        },
        close: () => kv.close(),
      };
    }
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

async function runJob(job: Job): Promise<JobResult> {
  const prepared = prepare(job.target, job.concurrency);
  const cap = Math.max(1, job.maxOps);
  // Latencies: every op while they fit, then a uniform reservoir sample.
  const latCap = Math.min(cap, 2_000_000);
  const lat = new Float64Array(latCap);
  let recorded = 0;
  let completed = 0;
  let issued = 0;
  let values = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  let measuring = false;
  let end = 0;

  const loop = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now >= end || (measuring && issued >= cap)) return;
      const i = issued++;
      const t0 = now;
      try {
        const v = await prepared.op(i);
        if (measuring) {
          const d = performance.now() - t0;
          completed++;
          if (recorded < latCap) lat[recorded++] = d;
          else {
            const j = Math.floor(Math.random() * completed);
            if (j < latCap) lat[j] = d;
          }
          values += v;
        }
      } catch (e) {
        if (measuring) {
          errors++;
          if (firstErrors.length < 5) firstErrors.push(e instanceof Error ? e.message : String(e));
        }
        await sleep(1);
      }
    }
  };

  if (job.warmupMs > 0) {
    end = performance.now() + job.warmupMs;
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  }
  issued = 0;
  measuring = true;
  process.stdout.write(JSON.stringify({ event: 'start', id: job.id }) + '\n');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  end = t0 + job.durationMs;
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  measuring = false;
  prepared.close();
  const sorted = lat.subarray(0, recorded).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    id: job.id,
    ops: completed,
    values,
    errors,
    firstErrors,
    elapsedMs,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: recorded > 0 ? (sorted[recorded - 1] as number) : NaN,
      mean: recorded > 0 ? sum / recorded : NaN,
    },
    clientCpuSec: (cpu.user + cpu.system) / 1e6,
  };
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  if (line.trim() === '') return;
  chain = chain.then(async () => {
    const job = JSON.parse(line) as Job;
    try {
      const r = await runJob(job);
      process.stdout.write(JSON.stringify({ event: 'result', ...r }) + '\n');
    } catch (e) {
      process.stdout.write(
        JSON.stringify({ event: 'failed', id: job.id, error: (e as Error).message }) + '\n',
      );
    }
  });
});
rl.on('close', () => {
  void chain.then(() => process.exit(0));
});
