// The per-call authorization hook: a grpc-js server interceptor that decides
// (policy.ts) on every call's headers, before any handler runs, and refuses
// with UNAUTHENTICATED or PERMISSION_DENIED. Pass it to the server once:
//   new grpc.Server({ interceptors: [authorizationInterceptor({...})] })
// so that no service can be added without being covered.
//
// The `authorization` header is removed before the call reaches a handler:
// the token has done its job here, and no handler can log it by accident.
import * as grpc from '@grpc/grpc-js';
import { isRefusedRequest } from './decode-guard.js';
import { callIdentity, type Identity } from './identity.js';
import {
  authorize,
  authorizeSender,
  callerOf,
  classifyRpc,
  type Decision,
  type TokenVerdict,
} from './policy.js';

const REGISTER_MEMBER_PATH = '/raftseq.v1.Cluster/RegisterMember';
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

/** One admin mutation, as the audit log records it (never a token). */
export interface AuditRecord {
  /** e.g. "AddMember". */
  rpc: string;
  /** The caller's certificate identity, "token", or "anonymous" (plaintext). */
  caller: string;
  peer: string;
  /** The request message as received. */
  args: unknown;
  /** gRPC status code name of the answer, e.g. "OK", "PERMISSION_DENIED". */
  outcome: string;
  details: string;
}

export interface AuthorizationConfig {
  /** The server serves TLS (--cert/--key/--ca). */
  tls: boolean;
  /** serve --client-cert-auth. */
  clientCertAuth: boolean;
  /** serve --admin-token-file; null without one. */
  tokens: TokenChecker | null;
  /** Called for every decision (refusals are to be logged). */
  onDecision?: (event: AuthorizationEvent) => void;
  /** Called once per admin mutation (allowed or refused) when it is answered. */
  onAudit?: (record: AuditRecord) => void;
}

export function authorizationInterceptor(config: AuthorizationConfig): grpc.ServerInterceptor {
  return (method, call) => {
    // Filled in as the call goes, for the audit record of an admin mutation.
    let audit: Omit<AuditRecord, 'outcome' | 'details'> | null = null;
    const finish = (code: grpc.status, details: string): void => {
      if (audit === null) return;
      config.onAudit?.({ ...audit, outcome: grpc.status[code] ?? String(code), details });
      audit = null;
    };
    return new grpc.ServerInterceptingCall(call, {
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
            if (classifyRpc(method.path) === 'admin-mutation') {
              audit = {
                rpc: method.path.slice(method.path.lastIndexOf('/') + 1),
                caller: callerOf(identity, token),
                peer: call.getPeer(),
                args: null,
              };
            }
            if (decision.allow) {
              metadata.remove(AUTHORIZATION_KEY);
              pass(metadata);
            } else {
              finish(decision.code, decision.message);
              call.sendStatus({ code: decision.code, details: decision.message });
            }
          },
          onReceiveMessage: (message, pass) => {
            // Undecodable: the decode guard (outside this interceptor) answers it.
            if (isRefusedRequest(message)) return pass(message);
            if (audit !== null) audit.args = message;
            // A member may register only itself (its certificate names it).
            if (method.path === REGISTER_MEMBER_PATH) {
              const id = (message as { id?: unknown } | null)?.id;
              const verdict = authorizeSender(config.tls, callIdentity(call), String(id ?? ''));
              if (!verdict.allow) {
                config.onDecision?.({
                  path: method.path,
                  peer: call.getPeer(),
                  identity: callIdentity(call),
                  token: 'absent',
                  decision: {
                    allow: false,
                    rpc: 'peer',
                    code: verdict.code,
                    message: verdict.message,
                  },
                });
                call.sendStatus({ code: verdict.code, details: verdict.message });
                return;
              }
            }
            pass(message);
          },
        });
      },
      sendStatus: (status, next) => {
        finish(status.code, status.details);
        next(status);
      },
    });
  };
}
