// Sends one FuzzCase and reports how the node answered. Raw bytes go through
// a grpc-js generic client with identity serializers, so they reach the
// server's deserializer untouched; a message cut in the middle goes through
// node:http2 directly (grpc-js only writes whole messages).
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import { raftseqApi } from '../../src/proto/load.js';
import type { FuzzCase, Identity } from './cases.js';

export interface TlsMaterial {
  ca: Buffer;
  /** Certificate and key per identity; 'none' presents no certificate. */
  pairs: Record<Exclude<Identity, 'none'>, { cert: Buffer; key: Buffer }>;
}

/**
 * What came back: a status code, or `reset` (we reset the stream ourselves,
 * no answer expected), or `hang` (no answer within the deadline). `streamCodes`
 * are the per-request codes of NextStream answers.
 */
export interface Outcome {
  code: grpc.status | 'reset' | 'hang' | 'no-status';
  details: string;
  streamCodes: number[];
}

const same = (b: Buffer): Buffer => b;

/** Frames one gRPC message: flag byte, 4-byte length, bytes. */
function frame(b: Buffer, declared = b.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(declared, 1);
  return Buffer.concat([head, b]);
}

const nextStreamAnswer = raftseqApi().Sequencer.service.NextStream!;

/** NextStreamResponse.code of an answer, or -1 if the answer does not decode. */
function streamCode(b: Buffer): number {
  try {
    const r = nextStreamAnswer.responseDeserialize(b) as { code?: unknown };
    return typeof r.code === 'number' ? r.code : -1;
  } catch {
    return -1;
  }
}

export class Executor {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly sessions = new Map<string, http2.ClientHttp2Session>();

  constructor(
    private readonly addresses: readonly string[],
    private readonly tls: TlsMaterial,
    private readonly deadlineMs = 10_000,
  ) {}

  private client(target: number, as: Identity): grpc.Client {
    const key = `${target}/${as}`;
    let c = this.clients.get(key);
    if (c === undefined) {
      const pair = as === 'none' ? null : this.tls.pairs[as];
      const creds = grpc.credentials.createSsl(this.tls.ca, pair?.key ?? null, pair?.cert ?? null);
      c = new grpc.Client(this.addresses[target]!, creds, {
        'grpc.max_send_message_length': -1,
      });
      this.clients.set(key, c);
    }
    return c;
  }

  private session(target: number, as: Identity): http2.ClientHttp2Session {
    const key = `${target}/${as}`;
    let s = this.sessions.get(key);
    if (s === undefined || s.closed || s.destroyed) {
      const pair = as === 'none' ? undefined : this.tls.pairs[as];
      s = http2.connect(`https://${this.addresses[target]}`, {
        ca: this.tls.ca,
        ...(pair !== undefined ? { cert: pair.cert, key: pair.key } : {}),
      });
      s.on('error', () => {});
      this.sessions.set(key, s);
    }
    return s;
  }

  run(c: FuzzCase): Promise<Outcome> {
    if (c.end === 'truncate' || c.end === 'reset') return this.runRaw(c);
    const md = new grpc.Metadata();
    for (const [k, v] of c.metadata) md.add(k, v);
    const deadline = Date.now() + this.deadlineMs;
    const client = this.client(c.target, c.as);
    return new Promise<Outcome>((resolve) => {
      const streamCodes: number[] = [];
      let settled = false;
      const done = (code: grpc.status | 'hang', details: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ code, details, streamCodes });
      };
      // A local watchdog beside the deadline: DEADLINE_EXCEEDED from our own
      // deadline is a hang too, and so is a call that never calls back.
      const timer = setTimeout(() => done('hang', 'no answer'), this.deadlineMs + 2000);
      const onStatus = (err: grpc.ServiceError | null): void => {
        if (err === null) return done(grpc.status.OK, '');
        if (err.code === grpc.status.DEADLINE_EXCEEDED) return done('hang', err.details);
        done(err.code, err.details);
      };
      if (c.streaming === 'unary') {
        client.makeUnaryRequest(c.path, same, same, c.messages[0]!, md, { deadline }, (err) =>
          onStatus(err),
        );
        return;
      }
      if (c.streaming === 'client') {
        const call = client.makeClientStreamRequest(c.path, same, same, md, { deadline }, (err) =>
          onStatus(err),
        );
        for (const m of c.messages) call.write(m);
        if (c.end === 'cancel') call.cancel();
        else call.end();
        return;
      }
      const call = client.makeBidiStreamRequest(c.path, same, same, md, { deadline });
      call.on('data', (b: Buffer) => {
        streamCodes.push(streamCode(b));
      });
      call.on('error', (err: grpc.ServiceError) => onStatus(err));
      call.on('end', () => setImmediate(() => done(grpc.status.OK, '')));
      for (const m of c.messages) call.write(m);
      if (c.end === 'cancel') call.cancel();
      else call.end();
    });
  }

  /** The last message cut short: the stream then ends (`truncate`) or is reset (`reset`). */
  private runRaw(c: FuzzCase): Promise<Outcome> {
    const session = this.session(c.target, c.as);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (code: Outcome['code'], details: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ code, details, streamCodes: [] });
      };
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        done('hang', 'no answer');
      }, this.deadlineMs);
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': c.path,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      for (const [k, v] of c.metadata) headers[k] = v;
      const req = session.request(headers);
      req.on('error', (e: Error) => done('hang', `stream error: ${e.message}`));
      const status = (h: http2.IncomingHttpHeaders): void => {
        const s = h['grpc-status'];
        if (s !== undefined) done(Number(s) as grpc.status, String(h['grpc-message'] ?? ''));
      };
      req.on('response', status);
      req.on('trailers', status);
      req.on('data', () => {});
      req.on('close', () => done('no-status', 'stream closed without a status'));
      const last = c.messages[c.messages.length - 1]!;
      for (const m of c.messages.slice(0, -1)) req.write(frame(m));
      // Announce more bytes than follow: the message never completes.
      const cut = frame(last, last.length + 1).subarray(0, 5 + Math.floor(last.length / 2));
      req.write(cut);
      if (c.end === 'truncate') {
        req.end();
      } else {
        req.close(http2.constants.NGHTTP2_CANCEL);
        done('reset', '');
      }
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    for (const s of this.sessions.values()) s.destroy();
    this.clients.clear();
    this.sessions.clear();
  }
}
