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
