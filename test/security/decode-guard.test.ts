// Requests that cannot be decoded, are too large, or are cut short get a
// contract code (INVALID_ARGUMENT, RESOURCE_EXHAUSTED), never INTERNAL,
// UNIMPLEMENTED or a hang, and never reach the handler. Found by the fuzzer
// (test/fuzz): grpc-js answers a throwing deserializer with INTERNAL, and a
// status sent while a stream's handler still writes left the client waiting.
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raftseqApi } from '../../src/proto/load.js';
import {
  boundedDetailsInterceptor,
  decodeGuardInterceptor,
  guardServer,
  MAX_STATUS_DETAILS,
} from '../../src/security/decode-guard.js';

const LIMIT = 1024;
const raw = (b: Buffer): Buffer => b;
/** NextRequest{sequence: "a"}, and bytes no protobuf decoder accepts (wire type 7). */
const GOOD = Buffer.from('0a0161', 'hex');
const UNDECODABLE = Buffer.from('30ab05a770', 'hex');

describe('the decode guard', () => {
  let server: grpc.Server;
  let addr: string;
  let client: grpc.Client;
  let handled = 0;

  beforeAll(async () => {
    server = new grpc.Server({ interceptors: [decodeGuardInterceptor()] });
    guardServer(server, () => LIMIT);
    const def = raftseqApi().Sequencer.service;
    server.addService(def, {
      Next: (_call: unknown, cb: grpc.sendUnaryData<object>) => {
        handled++;
        cb(null, { first: '1', count: 1 });
      },
      // Answers each request at once, as the real one answers an invalid
      // request: a client that sends several requests back to back has the
      // answer to one being written while the next is decoded.
      NextStream: (call: grpc.ServerDuplexStream<{ id: string }, object>) => {
        call.on('data', (req: { id: string }) => {
          handled++;
          call.write({ id: req.id, code: grpc.status.INVALID_ARGUMENT });
        });
        call.on('end', () => call.end());
      },
    } as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    addr = `127.0.0.1:${port}`;
    client = new grpc.Client(addr, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const unary = (bytes: Buffer): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) =>
      client.makeUnaryRequest('/raftseq.v1.Sequencer/Next', raw, raw, bytes, (err) => resolve(err)),
    );

  it('answers a request over the limit RESOURCE_EXHAUSTED, naming the limit, unhandled', async () => {
    const before = handled;
    const err = await unary(Buffer.concat([Buffer.from([0x0a, 0x88, 0x08]), Buffer.alloc(1032)]));
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.details).toMatch(/request of 1035 bytes .*at most 1024/);
    expect(handled).toBe(before);
  });

  it('answers undecodable bytes INVALID_ARGUMENT, unhandled', async () => {
    const before = handled;
    const err = await unary(UNDECODABLE);
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/cannot decode the request to \/raftseq.v1.Sequencer\/Next/);
    expect(handled).toBe(before);
    expect(await unary(GOOD)).toBeNull();
  });

  it('ends a stream at an undecodable message with INVALID_ARGUMENT, not a hang', async () => {
    const call = client.makeBidiStreamRequest('/raftseq.v1.Sequencer/NextStream', raw, raw, {
      deadline: Date.now() + 5000,
    });
    call.on('data', () => {});
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    call.write(Buffer.from('0801120161', 'hex')); // {id: 1, sequence: "a"}
    call.write(Buffer.from('0802120161', 'hex'));
    call.write(UNDECODABLE);
    call.write(Buffer.from('0803120161', 'hex'));
    call.end();
    const s = await status;
    // Before the fix: the handler's write after the status made grpc-js end
    // the call again (INTERNAL) and the trailers never came: DEADLINE_EXCEEDED.
    expect(grpc.status[s.code]).toBe('INVALID_ARGUMENT');
  });

  /** A unary call over HTTP/2 by hand, with `frames` as its body; the grpc-status it gets. */
  async function rawUnary(frames: Buffer): Promise<string> {
    const session = http2.connect(`http://${addr}`);
    try {
      const req = session.request({
        ':method': 'POST',
        ':path': '/raftseq.v1.Sequencer/Next',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const status = new Promise<string>((resolve) => {
        const pick = (h: http2.IncomingHttpHeaders): void => {
          if (h['grpc-status'] !== undefined) resolve(String(h['grpc-status']));
        };
        req.on('response', pick);
        req.on('trailers', pick);
        req.on('close', () => resolve('closed without a status'));
      });
      req.on('data', () => {});
      req.end(frames);
      return await status;
    } finally {
      session.close();
    }
  }

  const frame = (b: Buffer, declared = b.length): Buffer => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(declared, 1);
    return Buffer.concat([head, b]);
  };

  it('answers a unary call cut inside its message INVALID_ARGUMENT, not UNIMPLEMENTED', async () => {
    const before = handled;
    expect(await rawUnary(frame(GOOD, GOOD.length + 4))).toBe(String(grpc.status.INVALID_ARGUMENT));
    expect(await rawUnary(Buffer.alloc(0))).toBe(String(grpc.status.INVALID_ARGUMENT));
    expect(handled).toBe(before);
  });

  it('answers a unary call with two messages INVALID_ARGUMENT, and does not serve the first', async () => {
    const before = handled;
    expect(await rawUnary(Buffer.concat([frame(GOOD), frame(GOOD)]))).toBe(
      String(grpc.status.INVALID_ARGUMENT),
    );
    expect(await rawUnary(frame(GOOD))).toBe(String(grpc.status.OK));
    expect(handled).toBe(before + 1);
  });
});

describe('status messages', () => {
  it('are cut, so that one quoting a huge request still reaches the client', async () => {
    // Before: a 100 KB grpc-message trailer was refused by the client's
    // HTTP/2 header limit; the call hung until its deadline and the stream
    // stayed open on the server.
    const server = new grpc.Server({ interceptors: [boundedDetailsInterceptor()] });
    server.addService(raftseqApi().Sequencer.service, {
      Next: (_call: unknown, cb: grpc.sendUnaryData<object>) =>
        cb({ code: grpc.status.INVALID_ARGUMENT, details: `bad name ${'x'.repeat(100_000)}` }),
      NextStream: () => {},
    } as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          '/raftseq.v1.Sequencer/Next',
          raw,
          raw,
          GOOD,
          new grpc.Metadata(),
          { deadline: Date.now() + 5000 },
          (e) => resolve(e),
        ),
      );
      expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details.startsWith('bad name xxx')).toBe(true);
      expect(err?.details.length).toBeLessThan(MAX_STATUS_DETAILS + 60);
      expect(err?.details).toMatch(/cut; 100009 characters in all/);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
