// The unary methods of the public API, with their request and decoded answer
// types read off the generated service definitions: a caller that names
// ('Cluster', 'Status') gets a StatusRequest to fill in and a
// StatusResponse__Output back, checked by the compiler.

import type { MethodDefinition } from '@grpc/proto-loader';
import type { ClusterDefinition } from './generated/raftseq/v1/Cluster.js';
import type { SequencerDefinition } from './generated/raftseq/v1/Sequencer.js';

export interface ApiDefinitions {
  Sequencer: SequencerDefinition;
  Cluster: ClusterDefinition;
}

export type ApiService = keyof ApiDefinitions;

/** The unary methods of a service (NextStream is the one streaming method). */
export type UnaryMethod<S extends ApiService> = Exclude<keyof ApiDefinitions[S], 'NextStream'> &
  string;

type Definition<S extends ApiService, M extends UnaryMethod<S>> = ApiDefinitions[S][M];

/** What a caller passes to the method. */
export type RequestOf<S extends ApiService, M extends UnaryMethod<S>> =
  Definition<S, M> extends MethodDefinition<infer Req, infer _Res, infer _ReqOut, infer _ResOut>
    ? Req
    : never;

/** The method's answer as the loader decodes it (every field present). */
export type AnswerOf<S extends ApiService, M extends UnaryMethod<S>> =
  Definition<S, M> extends MethodDefinition<infer _Req, infer _Res, infer _ReqOut, infer ResOut>
    ? ResOut
    : never;

/** The typed definition of one unary method. */
export type UnaryDefinition<S extends ApiService, M extends UnaryMethod<S>> = MethodDefinition<
  RequestOf<S, M>,
  unknown,
  unknown,
  AnswerOf<S, M>
>;
