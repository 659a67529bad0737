// Who may call what: the authorization decision as a pure function.
//
// RPCs fall in five classes:
// - open: health checking, so that load balancers and `serve`'s readiness
//   probes work without credentials;
// - peer: the Raft service and Cluster/RegisterMember, for members only (a
//   member certificate; the transport also checks every message's sender);
// - admin-mutation: the Cluster RPCs that change the cluster or a sequence,
//   for an admin certificate or an admin token;
// - admin-read and client: Status, ListSequences, GetSequence, Ops/Overview; Next,
//   NextStream and server reflection. TLS suffices, unless --client-cert-auth
//   asks for a member or admin certificate (or an admin token).
// A Cluster RPC not listed as read-only is a mutation, and a service not
// listed at all is treated as one too: a new RPC is closed until classified.
//
// Without TLS nothing is checked: the node serves plaintext as before (and
// says so in its log); credentials would travel in clear anyway.
import { status } from '@grpc/grpc-js';
import { describeIdentity, type Identity } from './identity.js';

export type RpcClass = 'open' | 'peer' | 'admin-mutation' | 'admin-read' | 'client';

const SERVICES: Record<string, { default: RpcClass; methods?: Record<string, RpcClass> }> = {
  'grpc.health.v1.Health': { default: 'open' },
  'grpc.reflection.v1.ServerReflection': { default: 'client' },
  'grpc.reflection.v1alpha.ServerReflection': { default: 'client' },
  'raftseq.v1.Sequencer': { default: 'client' },
  'raftseq.v1.Raft': { default: 'peer' },
  'raftseq.v1.Ops': { default: 'admin-read' },
  'raftseq.v1.Cluster': {
    default: 'admin-mutation',
    methods: {
      RegisterMember: 'peer',
      Status: 'admin-read',
      ListSequences: 'admin-read',
      GetSequence: 'admin-read',
    },
  },
};

/** The class of an RPC given its full path, e.g. "/raftseq.v1.Cluster/AddMember". */
export function classifyRpc(path: string): RpcClass {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  const service = m ? SERVICES[m[1] ?? ''] : undefined;
  if (m === null || service === undefined) return 'admin-mutation';
  return service.methods?.[m[2] ?? ''] ?? service.default;
}

/**
 * What became of the bearer token of a call (src/security/tokens.ts):
 * absent, valid, invalid (not listed, or not a well-formed Bearer value), or
 * not-accepted (the server has no --admin-token-file).
 */
export type TokenVerdict = 'absent' | 'valid' | 'invalid' | 'not-accepted';

export interface AuthzRequest {
  /** Full method path, e.g. "/raftseq.v1.Cluster/AddMember". */
  path: string;
  /** The server serves TLS (--cert/--key/--ca). */
  tls: boolean;
  /** serve --client-cert-auth. */
  clientCertAuth: boolean;
  /** From the verified client certificate; null without one. */
  identity: Identity | null;
  token: TokenVerdict;
}

export type Decision =
  | {
      allow: true;
      rpc: RpcClass;
      /** Who the caller is, for logs and the audit line: a URI, "token", or "anonymous". */
      caller: string;
    }
  | { allow: false; rpc: RpcClass; code: status; message: string };

const ADMIN_CREDENTIAL =
  'an admin certificate (SAN raftseq://admin/<name>) or an admin token (authorization: Bearer <token>)';
const MEMBER_CREDENTIAL = 'a member certificate (SAN raftseq://member/<id>) verified by --ca';

function rpcName(path: string): string {
  return path.replace(/^\//, '');
}

/** Who a caller is, for logs and the audit line: a URI, "token", or "anonymous". */
export function callerOf(identity: Identity | null, token: TokenVerdict): string {
  if (identity?.kind === 'member' || identity?.kind === 'admin') return describeIdentity(identity);
  return token === 'valid' ? 'token' : 'anonymous';
}

function tokenProblem(token: TokenVerdict): string | null {
  if (token === 'invalid') return 'its bearer token is not one of --admin-token-file';
  if (token === 'not-accepted')
    return 'this server accepts no bearer tokens (no --admin-token-file)';
  return null;
}

/** Allow, or the status that refuses the call and why (one line, no secrets). */
export function authorize(req: AuthzRequest): Decision {
  const rpc = classifyRpc(req.path);
  const { identity, token } = req;
  const allow = (caller = callerOf(identity, token)): Decision => ({ allow: true, rpc, caller });
  if (rpc === 'open' || !req.tls) return allow();

  const deny = (code: status, needs: string, problem: string): Decision => ({
    allow: false,
    rpc,
    code,
    message: `${rpcName(req.path)} needs ${needs}; ${problem}`,
  });
  const caller = `the caller presented ${describeIdentity(identity)}`;

  switch (rpc) {
    case 'peer':
      // Tokens are for people; a peer proves its member id by certificate.
      if (identity?.kind === 'member') return allow();
      return identity === null
        ? deny(status.UNAUTHENTICATED, MEMBER_CREDENTIAL, caller)
        : deny(status.PERMISSION_DENIED, MEMBER_CREDENTIAL, caller);

    case 'admin-mutation': {
      if (identity?.kind === 'admin') return allow();
      // The token granted the call, whatever certificate came with it.
      if (token === 'valid') return allow('token');
      // A token was offered and failed: the credential meant for this call is bad.
      const bad = tokenProblem(token);
      if (bad !== null)
        return deny(status.UNAUTHENTICATED, ADMIN_CREDENTIAL, `the call was refused: ${bad}`);
      return identity === null
        ? deny(status.UNAUTHENTICATED, ADMIN_CREDENTIAL, caller)
        : deny(status.PERMISSION_DENIED, ADMIN_CREDENTIAL, caller);
    }

    case 'admin-read':
    case 'client': {
      if (!req.clientCertAuth) return allow();
      // An admin token stands for an admin, who may read and take values.
      if (identity?.kind === 'member' || identity?.kind === 'admin' || token === 'valid') {
        return allow();
      }
      const needs = 'a member or admin certificate (--client-cert-auth is set)';
      const bad = tokenProblem(token);
      if (identity === null && bad !== null) {
        return deny(status.UNAUTHENTICATED, needs, `the call was refused: ${bad}`);
      }
      return identity === null
        ? deny(status.UNAUTHENTICATED, needs, caller)
        : deny(status.PERMISSION_DENIED, needs, caller);
    }
  }
}

/**
 * Whether a peer may send a Raft message as `sender` (the id in the message,
 * or in its batch): over TLS only the member its certificate names may. Called
 * by the transport for every batch/stream it receives, after authorize().
 */
export function authorizeSender(
  tls: boolean,
  identity: Identity | null,
  sender: string,
): { allow: true } | { allow: false; code: status; message: string } {
  if (!tls) return { allow: true };
  if (identity?.kind === 'member' && identity.id === sender) return { allow: true };
  if (identity === null) {
    return {
      allow: false,
      code: status.UNAUTHENTICATED,
      message: `a message from ${JSON.stringify(sender)} needs ${MEMBER_CREDENTIAL}; the caller presented none`,
    };
  }
  return {
    allow: false,
    code: status.PERMISSION_DENIED,
    message: `a message from ${JSON.stringify(sender)} needs the certificate of member ${JSON.stringify(sender)}; the caller presented ${describeIdentity(identity)}`,
  };
}
