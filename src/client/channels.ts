// One gRPC channel per node, opened on first use, and the one way the client
// sends a unary RPC: with a deadline, cancellable by an AbortSignal.
import * as grpc from '@grpc/grpc-js';
import type { ClusterClient } from '../proto/generated/raftseq/v1/Cluster.js';
import type { NextStreamRequest } from '../proto/generated/raftseq/v1/NextStreamRequest.js';
import type { NextStreamResponse__Output } from '../proto/generated/raftseq/v1/NextStreamResponse.js';
import type { SequencerClient } from '../proto/generated/raftseq/v1/Sequencer.js';
import { raftseqApi } from '../proto/load.js';
import type {
  AnswerOf,
  ApiService,
  RequestOf,
  UnaryDefinition,
  UnaryMethod,
} from '../proto/methods.js';

export type ServiceName = ApiService;

/** A NextStream bidi stream, as the client's loader decodes it. */
export type NextStreamCall = grpc.ClientDuplexStream<NextStreamRequest, NextStreamResponse__Output>;

interface Stubs {
  Sequencer: SequencerClient;
  Cluster: ClusterClient;
}

export class Channels {
  private readonly stubs = new Map<string, Stubs>();

  constructor(
    private readonly credentials: grpc.ChannelCredentials,
    private readonly channelOptions: grpc.ChannelOptions,
  ) {}

  /** One attempt: a unary RPC to `address` with a gRPC deadline of `timeoutMs`. */
  unary<S extends ServiceName, M extends UnaryMethod<S>>(
    address: string,
    service: S,
    method: M,
    request: RequestOf<S, M>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<AnswerOf<S, M>> {
    const stub = this.stubsFor(address)[service];
    // The compiler cannot index the generated definitions with generic keys;
    // the result is the definition of exactly (S, M), so this is its type.
    const definition = raftseqApi()[service].service[method] as UnaryDefinition<S, M>;
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | null = null;
      const call = stub.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + Math.max(1, Math.floor(timeoutMs)) },
        (err, response) => {
          if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else if (response === undefined) reject(new Error(`${method}: an empty answer`));
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
    const stub = this.stubsFor(address).Sequencer;
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
