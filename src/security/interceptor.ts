// The per-call authorization hook: a grpc-js server interceptor that decides
// (policy.ts) on every call's headers, before any handler runs, and refuses
// with UNAUTHENTICATED or PERMISSION_DENIED. Pass it to the server once:
//   new grpc.Server({ interceptors: [authorizationInterceptor({...})] })
// so that no service can be added without being covered.
//
// The `authorization` header is removed before the call reaches a handler:
// the token has done its job here, and no handler can log it by accident.
import * as grpc from '@grpc/grpc-js';
import { callIdentity, type Identity } from './identity.js';
import { authorize, type Decision, type TokenVerdict } from './policy.js';
import { AUTHORIZATION_KEY, tokenVerdict, type TokenChecker } from './tokens.js';

export interface AuthorizationEvent {
  /** Full method path, e.g. "/raftseq.v1.Cluster/AddMember". */
  path: string;
  /** The caller's address as grpc-js reports it (e.g. "127.0.0.1:53122"). */
  peer: string;
  identity: Identity | null;
  token: TokenVerdict;
  decision: Decision;
}

export interface AuthorizationConfig {
  /** The server serves TLS (--cert/--key/--ca). */
  tls: boolean;
  /** serve --client-cert-auth. */
  clientCertAuth: boolean;
  /** serve --admin-token-file; null without one. */
  tokens: TokenChecker | null;
  /** Called for every decision (refusals are to be logged; allowed admin calls audited). */
  onDecision?: (event: AuthorizationEvent) => void;
}

export function authorizationInterceptor(config: AuthorizationConfig): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const identity = callIdentity(call);
            const token = tokenVerdict(metadata, config.tokens);
            const decision = authorize({
              path: method.path,
              tls: config.tls,
              clientCertAuth: config.clientCertAuth,
              identity,
              token,
            });
            config.onDecision?.({
              path: method.path,
              peer: call.getPeer(),
              identity,
              token,
              decision,
            });
            if (decision.allow) {
              metadata.remove(AUTHORIZATION_KEY);
              pass(metadata);
            } else {
              call.sendStatus({ code: decision.code, details: decision.message });
            }
          },
        });
      },
    });
}
