// Container HEALTHCHECK: asks grpc.health.v1.Health/Check (service "") on the
// node's own port and exits 0 only for SERVING. No .proto needed: the request
// is an empty message and SERVING is encoded as the two bytes 08 01.
// Usage: node healthcheck.mjs [host:port]   (default $RAFTSEQ_HEALTH_ADDR or 127.0.0.1:7000)
import * as grpc from '@grpc/grpc-js';

const addr = process.argv[2] ?? process.env.RAFTSEQ_HEALTH_ADDR ?? '127.0.0.1:7000';
const client = new grpc.Client(addr, grpc.credentials.createInsecure());
const identity = (b) => b;

client.makeUnaryRequest(
  '/grpc.health.v1.Health/Check',
  identity,
  identity,
  Buffer.alloc(0),
  { deadline: Date.now() + 2000 },
  (err, reply) => {
    client.close();
    if (err) {
      process.stderr.write(`unhealthy: ${err.message}\n`);
      process.exit(1);
    }
    // HealthCheckResponse { status = 1 }: SERVING.
    const serving = reply.length >= 2 && reply[0] === 0x08 && reply[1] === 0x01;
    process.stdout.write(serving ? 'SERVING\n' : `not serving (${reply.toString('hex')})\n`);
    process.exit(serving ? 0 : 1);
  },
);
