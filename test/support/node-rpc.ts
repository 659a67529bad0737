// One-shot RPCs to one given raftseq node, for the multi-process tests and
// jepsen-lite: its own Cluster.Status (SequenceClient would follow the leader
// instead) and its FaultInjection hook (served with --enable-fault-injection).
// Both go through the loaders src/ already has.

import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { raftseqApi } from '../../src/proto/load.js';
import type { FaultRule } from '../../src/transport/grpc-options.js';
import { clientConstructor } from '../../src/transport/proto.js';

/** The fields of a StatusResponse the tests read (snake_case, 64-bit as strings). */
export interface StatusReply {
  node_id: string;
  role: string;
  leader: string;
  term: string;
  commit_index: string;
  /** '' while the node knows none (or from a release before cluster ids). */
  cluster_id?: string;
}

type Callback<T> = (err: grpc.ServiceError | null, reply: T) => void;
type Unary<T> = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<T>) => void;

function unary<T>(
  Ctor: new (addr: string, credentials: grpc.ChannelCredentials) => grpc.Client,
  method: string,
  addr: string,
  req: object,
  timeoutMs: number,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): Promise<T> {
  const client = new Ctor(addr, credentials);
  const call = (client as unknown as Record<string, Unary<T>>)[method];
  if (call === undefined) throw new Error(`no method ${method}`);
  return new Promise<T>((resolve, reject) => {
    call.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, r) => {
      client.close();
      if (err) reject(err);
      else resolve(r);
    });
  });
}

/** This node's own status (role, leader, term, commit index). */
export function nodeStatus(
  addr: string,
  timeoutMs = 500,
  credentials?: grpc.ChannelCredentials,
): Promise<StatusReply> {
  return unary<StatusReply>(raftseqApi().Cluster, 'Status', addr, {}, timeoutMs, credentials);
}

/** Sets (or, with `{}`, clears) the fault rule of the node at `addr` towards `peer`. */
export async function setFault(
  addr: string,
  peer: string,
  rule: FaultRule,
  timeoutMs = 2000,
  credentials?: grpc.ChannelCredentials,
): Promise<void> {
  await unary(
    clientConstructor('FaultInjection'),
    'SetFault',
    addr,
    { peer, ...rule },
    timeoutMs,
    credentials,
  );
}

/** grpc.health.v1.Health/Check of `service` on the node at `addr`: SERVING, NOT_SERVING, ... */
export async function healthStatus(addr: string, service = '', timeoutMs = 1000): Promise<string> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const method = healthService['Check'];
  if (method === undefined) throw new Error('grpc-health-check has no Check method');
  try {
    const reply = await new Promise<{ status: string }>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize as (b: Buffer) => { status: string },
        { service },
        { deadline: Date.now() + timeoutMs },
        (err, r) => (err ? reject(err) : resolve(r!)),
      );
    });
    return reply.status;
  } finally {
    client.close();
  }
}
