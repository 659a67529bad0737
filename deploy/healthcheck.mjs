// Container HEALTHCHECK: asks grpc.health.v1.Health/Check (service "") on the
// node's own port and exits 0 only for SERVING. No .proto needed: the request
// is an empty message and SERVING is encoded as the two bytes 08 01.
// Health checking needs no credentials, but a TLS node speaks only TLS: with
// RAFTSEQ_HEALTH_CA set (the node's --ca) the check dials over TLS, trusting
// that CA; the node's certificate must then name the address dialled
// (127.0.0.1 by default).
// Usage: node healthcheck.mjs [host:port]   (default $RAFTSEQ_HEALTH_ADDR or 127.0.0.1:7000)
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

const addr = process.argv[2] ?? process.env.RAFTSEQ_HEALTH_ADDR ?? '127.0.0.1:7000';
const caFile = process.env.RAFTSEQ_HEALTH_CA;
// grpc-js names an IP address as the TLS server name, and Node warns about it
// (DEP0123) on every check; the certificate is still checked against the IP.
process.noDeprecation = true;
const credentials = caFile
  ? grpc.credentials.createSsl(readFileSync(caFile))
  : grpc.credentials.createInsecure();
const client = new grpc.Client(addr, credentials);
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
