// Test nodes for the gRPC transport: a GrpcTransport plus its own grpc.Server
// on 127.0.0.1, recording everything delivered to it.

import { createServer, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Entry, Message } from '../../src/raft/types.js';
import {
  RAFT_SERVER_OPTIONS,
  type GrpcTransportOptions,
  type LogLevel,
} from '../../src/transport/grpc-options.js';
import { GrpcTransport } from '../../src/transport/grpc-transport.js';
import { encodeMessage } from '../../src/transport/codec.js';
import { raftServices, type RaftBatchPb } from '../../src/transport/proto.js';

export interface LogLine {
  level: LogLevel;
  msg: string;
  fields?: object;
}

export interface TestNode {
  id: string;
  transport: GrpcTransport;
  server: grpc.Server;
  port: number;
  address: string;
  received: Message[];
  /** performance.now() when each message of `received` arrived. */
  receivedAt: number[];
  snapshotFailures: string[];
  logs: LogLine[];
}

type Closer = () => Promise<void>;
const closers: Closer[] = [];

/** Closes everything created since the last call (for afterEach). */
export async function closeAll(): Promise<void> {
  const list = closers.splice(0).reverse();
  for (const c of list) await c().catch(() => undefined); // cleanup: close what still closes
}

export function bind(server: grpc.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
}

export interface NodeOpts {
  port?: number;
  serverOptions?: grpc.ServerOptions;
  transport?: Partial<GrpcTransportOptions>;
}

export async function startNode(id: string, opts: NodeOpts = {}): Promise<TestNode> {
  const received: Message[] = [];
  const receivedAt: number[] = [];
  const snapshotFailures: string[] = [];
  const logs: LogLine[] = [];
  const transport = new GrpcTransport({
    selfId: id,
    handler: {
      onMessage: (m) => {
        received.push(m);
        receivedAt.push(performance.now());
      },
      onSnapshotFailure: (to) => snapshotFailures.push(to),
    },
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    ...opts.transport,
  });
  const server = new grpc.Server({ ...RAFT_SERVER_OPTIONS, ...opts.serverOptions });
  transport.addToServer(server);
  const port = await bind(server, opts.port ?? 0);
  const node: TestNode = {
    id,
    transport,
    server,
    port,
    address: `127.0.0.1:${port}`,
    received,
    receivedAt,
    snapshotFailures,
    logs,
  };
  closers.push(() => stopNode(node));
  return node;
}

/** Like a killed process: the transport and the server go away. */
export async function stopNode(node: TestNode): Promise<void> {
  await node.transport.close();
  node.server.forceShutdown();
}

/** A TCP listener that accepts connections and never answers (a hung process). */
export async function blackhole(): Promise<{ address: string }> {
  const sockets = new Set<Socket>();
  const srv: NetServer = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  });
  return { address: `127.0.0.1:${addr.port}` };
}

/** Forgets what `node` received so far. */
export function clearReceived(node: TestNode): void {
  node.received.length = 0;
  node.receivedAt.length = 0;
}

export function peersOf(...nodes: (TestNode | [string, string])[]): Map<string, string> {
  return new Map(nodes.map((n) => (Array.isArray(n) ? n : [n.id, n.address])));
}

export function entry(index: number, term: number, data: Uint8Array = new Uint8Array(0)): Entry {
  return { index, term, type: 'normal', data };
}

export function append(from: string, to: string, index: number, entries = 1, bytes = 24): Message {
  const es: Entry[] = [];
  for (let i = 0; i < entries; i++) {
    const data = new Uint8Array(bytes);
    for (let j = 0; j < bytes; j++) data[j] = (index + i + j) & 0xff;
    es.push(entry(index + i, 3, data));
  }
  return {
    type: 'append',
    from,
    to,
    term: 3,
    prevLogIndex: index - 1,
    prevLogTerm: 3,
    entries: es,
    commit: index - 1,
    sentTick: index,
  };
}

export function heartbeat(from: string, to: string, tick: number): Message {
  return { type: 'heartbeat', from, to, term: 3, commit: tick, sentTick: tick };
}

/**
 * Speaks to `address` as a release before format 2 did: opens a Raft stream
 * without announcing a format or a cluster id and sends one format-1 batch
 * of `messages`. Resolves with the metadata the node answered with; the
 * caller closes the returned client.
 */
export function sendAsFormat1(
  address: string,
  from: string,
  messages: Message[],
): { client: grpc.Client; answer: Promise<grpc.Metadata> } {
  const raft = raftServices().Raft;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const answer = new Promise<grpc.Metadata>((resolve) => {
    const call = client.makeClientStreamRequest<RaftBatchPb, object>(
      raft.Send!.path,
      raft.Send!.requestSerialize,
      raft.Send!.responseDeserialize,
      new grpc.Metadata(),
      {},
      () => undefined,
    );
    call.on('metadata', resolve);
    call.write({ formatVersion: 1, from, messages: messages.map(encodeMessage) });
  });
  return { client, answer };
}
