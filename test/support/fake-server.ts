// A fake raftseq node for client and CLI tests: a real gRPC server speaking
// raftseq.v1.Sequencer and raftseq.v1.Cluster from the real protos, whose
// answers each test scripts (serve, redirect, fail, hang).
import * as grpc from '@grpc/grpc-js';
import { raftseqApi } from '../../src/proto/load.js';

export type Method =
  | 'Next'
  /**
   * NextStream: the handler (if scripted) runs once when a stream opens; an
   * error reply ends the stream with that status (e.g. a follower's
   * redirect). Each request on the stream is then answered by the Next
   * handler and recorded as a 'NextStreamRequest' call.
   */
  | 'NextStream'
  | 'NextStreamRequest'
  | 'Status'
  | 'AddMember'
  | 'RemoveMember'
  | 'TransferLeadership'
  | 'ListSequences'
  | 'GetSequence'
  | 'AdvanceSequence';

/** What a scripted handler answers. */
export type Reply =
  | { response: object }
  | { error: { code: grpc.status; details: string; leader?: string } }
  | { hang: true };

export type Handler = (
  request: Record<string, unknown>,
  call: RecordedCall,
) => Reply | Promise<Reply>;

export interface RecordedCall {
  method: Method;
  request: Record<string, unknown>;
  /** ms since the epoch, or null if the client sent no deadline. */
  deadline: number | null;
  /** performance.now() at arrival. */
  at: number;
  /**
   * The time the client allowed, in ms (`deadline` less the arrival time, by
   * the same clock): the grpc-timeout it sent, however late the call arrived.
   */
  allowedMs: number | null;
}

export interface FakeNode {
  readonly address: string;
  readonly calls: RecordedCall[];
  /** Replaces the handler of `method`. */
  on(method: Method, handler: Handler): void;
  callsOf(method: Method): RecordedCall[];
  stop(): Promise<void>;
}

const SEQUENCER_METHODS: Method[] = ['Next'];
const CLUSTER_METHODS: Method[] = [
  'Status',
  'AddMember',
  'RemoveMember',
  'TransferLeadership',
  'ListSequences',
  'GetSequence',
  'AdvanceSequence',
];

/** Starts a fake node on 127.0.0.1 (ephemeral port). Unscripted methods answer UNIMPLEMENTED. */
export async function startFakeNode(
  handlers: Partial<Record<Method, Handler>> = {},
): Promise<FakeNode> {
  const table = new Map<Method, Handler>(Object.entries(handlers) as [Method, Handler][]);
  const calls: RecordedCall[] = [];
  const hanging = new Set<() => void>();
  const server = new grpc.Server();
  const services = raftseqApi();

  const implement = (methods: Method[]): grpc.UntypedServiceImplementation => {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const method of methods) {
      impl[method] = (
        call: grpc.ServerUnaryCall<Record<string, unknown>, object>,
        callback: grpc.sendUnaryData<object>,
      ) => {
        const arrivedAt = Date.now();
        const deadline = call.getDeadline();
        const deadlineMs =
          deadline === Infinity
            ? null
            : Number(deadline instanceof Date ? deadline.getTime() : deadline);
        const recorded: RecordedCall = {
          method,
          request: call.request,
          deadline: deadlineMs,
          at: performance.now(),
          allowedMs: deadlineMs === null ? null : deadlineMs - arrivedAt,
        };
        calls.push(recorded);
        const handler = table.get(method);
        if (handler === undefined) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: `fake: ${method} not scripted` });
          return;
        }
        void Promise.resolve(handler(call.request, recorded)).then(
          (reply) => {
            if ('hang' in reply) {
              const release = (): void =>
                callback({ code: grpc.status.CANCELLED, details: 'stopping' });
              hanging.add(release);
              call.on('cancelled', () => hanging.delete(release));
              return;
            }
            if ('error' in reply) {
              const metadata = new grpc.Metadata();
              if (reply.error.leader !== undefined)
                metadata.set('raftseq-leader', reply.error.leader);
              callback({ code: reply.error.code, details: reply.error.details, metadata });
              return;
            }
            callback(null, reply.response);
          },
          (err: unknown) => callback({ code: grpc.status.INTERNAL, details: String(err) }),
        );
      };
    }
    return impl;
  };

  const sequencer = implement(SEQUENCER_METHODS);
  sequencer['NextStream'] = (call: grpc.ServerDuplexStream<Record<string, unknown>, object>) => {
    const record = (method: Method, request: Record<string, unknown>): RecordedCall => {
      const r: RecordedCall = {
        method,
        request,
        deadline: null,
        at: performance.now(),
        allowedMs: null,
      };
      calls.push(r);
      return r;
    };
    const endWith = (e: { code: grpc.status; details: string; leader?: string }): void => {
      const metadata = new grpc.Metadata();
      if (e.leader !== undefined) metadata.set('raftseq-leader', e.leader);
      call.emit('error', { code: e.code, details: e.details, metadata });
    };
    let pending = 0;
    let halfClosed = false;
    const finish = (): void => {
      if (halfClosed && pending === 0 && !call.writableEnded) call.end();
    };
    const onRequest = (req: Record<string, unknown>): void => {
      const recorded = record('NextStreamRequest', req);
      const handler = table.get('Next');
      if (handler === undefined) {
        call.write({
          id: req.id,
          code: grpc.status.UNIMPLEMENTED,
          message: 'fake: Next not scripted',
        });
        return;
      }
      pending++;
      const done = (answer: object | null): void => {
        pending--;
        if (answer !== null && !call.cancelled && !call.writableEnded) call.write(answer);
        finish();
      };
      void Promise.resolve(handler(req, recorded)).then(
        (reply) => {
          if ('hang' in reply) {
            const release = (): void => done(null);
            hanging.add(release);
            call.on('cancelled', () => hanging.delete(release));
            return;
          }
          if ('error' in reply) {
            done({
              id: req.id,
              code: reply.error.code,
              message: reply.error.details,
              leader: reply.error.leader ?? '',
            });
            return;
          }
          done({ id: req.id, code: 0, ...reply.response });
        },
        (err: unknown) => done({ id: req.id, code: grpc.status.INTERNAL, message: String(err) }),
      );
    };
    const opened = record('NextStream', {});
    const opener = table.get('NextStream');
    void Promise.resolve(opener ? opener({}, opened) : ({ response: {} } as Reply)).then(
      (reply) => {
        if ('error' in reply) {
          endWith(reply.error);
          return;
        }
        call.on('data', onRequest);
        call.on('end', () => {
          halfClosed = true;
          finish();
        });
      },
    );
    call.on('error', () => undefined);
  };
  server.addService(services.Sequencer.service, sequencer);
  server.addService(services.Cluster.service, implement(CLUSTER_METHODS));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    address: `127.0.0.1:${port}`,
    calls,
    on(method, handler) {
      table.set(method, handler);
    },
    callsOf(method) {
      return calls.filter((c) => c.method === method);
    },
    stop() {
      for (const release of hanging) release();
      hanging.clear();
      return new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      });
    },
  };
}

// ------------------------------------------------------------- scripted answers

/** A leader's Next: consecutive values from `start` (a bigint, so any range works). */
export function servingNext(start = 1n): Handler {
  let next = start;
  return (req) => {
    const count = Number(req.count) || 1;
    const first = next;
    next += BigInt(count);
    return { response: { first: first.toString(), count } };
  };
}

/** UNAVAILABLE with `raftseq-leader` = `leader` (a follower that knows the leader). */
export function redirectTo(leader: string): Handler {
  return () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'not the leader', leader } });
}

/** UNAVAILABLE without a leader hint (election in progress). */
export function noLeader(): Handler {
  return () => ({ error: { code: grpc.status.UNAVAILABLE, details: 'no leader known' } });
}

export function failWith(code: grpc.status, details: string): Handler {
  return () => ({ error: { code, details } });
}

/** Fails with `first` `times` times, then hands over to `then`. */
export function failTimes(times: number, first: Handler, then: Handler): Handler {
  let n = 0;
  return (req, call) => (n++ < times ? first(req, call) : then(req, call));
}

export function hang(): Handler {
  return () => ({ hang: true });
}

/** A StatusResponse (snake_case, 64-bit values as strings). */
export function statusResponse(fields: {
  nodeId: string;
  role: string;
  leader?: string;
  leaderAddress?: string;
  term?: number;
  commitIndex?: number;
  leaseRemainingMs?: number;
  members?: {
    id: string;
    address: string;
    role: string;
    matchIndex?: number;
    lastContactMs?: number;
  }[];
}): object {
  return {
    node_id: fields.nodeId,
    role: fields.role,
    leader: fields.leader ?? '',
    leader_address: fields.leaderAddress ?? '',
    term: String(fields.term ?? 1),
    commit_index: String(fields.commitIndex ?? 0),
    applied_index: String(fields.commitIndex ?? 0),
    lease_remaining_ms: String(fields.leaseRemainingMs ?? 0),
    values_served: '0',
    values_skipped: '0',
    first_index: '1',
    last_index: String(fields.commitIndex ?? 0),
    members: (fields.members ?? []).map((m) => ({
      id: m.id,
      address: m.address,
      advertise: m.address,
      role: m.role,
      match_index: String(m.matchIndex ?? 0),
      last_contact_ms: String(m.lastContactMs ?? 0),
    })),
  };
}
