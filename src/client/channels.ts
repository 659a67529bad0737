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
