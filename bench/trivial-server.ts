// The raw ceiling: a trivial grpc-js server speaking raftseq.v1.Sequencer
// (same protos, same loader) that answers from an in-memory counter — no
// validation, no Raft, no lease. Prints its port on stdout.
import * as grpc from '@grpc/grpc-js';
import { raftseqApi } from '../src/proto/load.js';

const counters = new Map<string, bigint>();
function take(sequence: string, count: number): bigint {
  const n = count === 0 ? 1 : count;
  const first = counters.get(sequence) ?? 1n;
  counters.set(sequence, first + BigInt(n));
  return first;
}

interface Req {
  id?: string;
  sequence: string;
  count: number;
}

const server = new grpc.Server();
server.addService(raftseqApi().Sequencer.service, {
  Next: (call: grpc.ServerUnaryCall<Req, object>, cb: grpc.sendUnaryData<object>) => {
    const count = call.request.count || 1;
    cb(null, { first: take(call.request.sequence, count).toString(), count });
  },
  NextStream: (call: grpc.ServerDuplexStream<Req, object>) => {
    call.on('data', (r: Req) => {
      const count = r.count || 1;
      call.write({ id: r.id, code: 0, first: take(r.sequence, count).toString(), count });
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`trivial server: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${port}\n`);
});
process.on('SIGTERM', () => server.forceShutdown());
