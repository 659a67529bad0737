// One gRPC channel per node, opened on first use, and the one way the client
// sends a unary RPC: with a deadline, cancellable by an AbortSignal.
import * as grpc from '@grpc/grpc-js';
import { raftseqApi } from '../proto/load.js';

export type ServiceName = 'Sequencer' | 'Cluster';

/** A NextStream bidi stream, as the client's loader decodes it. */
export type NextStreamCall = grpc.ClientDuplexStream<object, Record<string, unknown>>;

interface Stubs {
  Sequencer: grpc.Client;
  Cluster: grpc.Client;
}

type UnaryFn = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

export class Channels {
  private readonly stubs = new Map<string, Stubs>();

  constructor(
    private readonly credentials: grpc.ChannelCredentials,
    private readonly channelOptions: grpc.ChannelOptions,
  ) {}

  /** One attempt: a unary RPC to `address` with a gRPC deadline of `timeoutMs`. */
  unary(
    address: string,
    service: ServiceName,
    method: string,
    request: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const stub = this.stubsFor(address)[service];
    const fn = (stub as unknown as Record<string, UnaryFn | undefined>)[method];
    if (typeof fn !== 'function') {
      return Promise.reject(new Error(`raftseq.v1.${service} has no method ${method}`));
    }
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | null = null;
      const call = fn.call(
        stub,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + Math.max(1, Math.floor(timeoutMs)) },
        (err, response) => {
          if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(response);
        },
      );
      if (signal !== undefined) {
        onAbort = () => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /**
   * One attempt: a server-streaming RPC to `address`, each message handed to
   * `onMessage`; resolves when the server ends the stream, rejects with its
   * ServiceError.
   */
  serverStream(
    address: string,
    service: ServiceName,
    method: string,
    request: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onMessage: (message: Record<string, unknown>) => void,
  ): Promise<void> {
    const stub = this.stubsFor(address)[service] as unknown as Record<
      string,
      | ((request: unknown, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>)
      | undefined
    >;
    const fn = stub[method];
    if (typeof fn !== 'function') {
      return Promise.reject(new Error(`raftseq.v1.${service} has no method ${method}`));
    }
    return new Promise((resolve, reject) => {
      const call = fn.call(stub, request, {
        deadline: Date.now() + Math.max(1, Math.floor(timeoutMs)),
      });
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      call.on('data', (m: Record<string, unknown>) => {
        try {
          onMessage(m);
        } catch (e) {
          call.cancel();
          done();
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      call.on('error', (e) => {
        done();
        reject(e);
      });
      // 'status', not 'end': a stream that failed also ends; only OK resolves.
      call.on('status', (st: grpc.StatusObject) => {
        if (st.code !== grpc.status.OK) return; // 'error' carries it
        done();
        resolve();
      });
    });
  }

  /** A function that opens NextStreams to `address`, over its channel (opened now if need be). */
  nextStreamOpener(address: string): () => NextStreamCall {
    const stub = this.stubsFor(address).Sequencer as unknown as { NextStream(): NextStreamCall };
    return () => stub.NextStream();
  }

  /** Closes every channel. */
  close(): void {
    for (const s of this.stubs.values()) {
      s.Sequencer.close();
      s.Cluster.close();
    }
    this.stubs.clear();
  }

  private stubsFor(address: string): Stubs {
    let s = this.stubs.get(address);
    if (s === undefined) {
      const services = raftseqApi();
      s = {
        Sequencer: new services.Sequencer(address, this.credentials, this.channelOptions),
        Cluster: new services.Cluster(address, this.credentials, this.channelOptions),
      };
      this.stubs.set(address, s);
    }
    return s;
  }
}
