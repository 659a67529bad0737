// Loopback ports for tests, the benchmark and jepsen-lite: chosen by the
// kernel, never guessed.
//
// The old helper listened on port 0, read the port, closed the socket and
// handed the number out, one port at a time. That can hand out the same port
// twice (the kernel may give a just-closed port to the next listen), and any
// other process may take the port before the process meant to bind it does.
// Each user now gets its ports in the most robust way that works for it:
//
// 1. The server binds port 0 itself and reports what it got. Nothing can come
//    in between. Used wherever the port need not be known in advance: the
//    transport tests' and the fake node's gRPC servers (bindAsync on
//    127.0.0.1:0), and --metrics-listen 127.0.0.1:0.
// 2. reservePorts(n): where the port must be known before the process
//    starts. A raftseq member's address goes into every member's
//    --initial-cluster and into the replicated member list, and must stay the
//    same across restarts (so `serve --listen 127.0.0.1:0` cannot serve a
//    cluster, although the node supports it and logs the port it bound); a
//    container's published port is its --advertise; etcd, PostgreSQL and
//    Redis take a port flag. The reservation listens on port 0 n times and
//    keeps all n sockets open, so the n ports are distinct and no one else
//    can take one while it is held. Each port is released just before the
//    process that binds it starts (release(port)), and that process's own
//    signal (raftseq's "serving" log line, see proc-cluster.ts) confirms it
//    got it. What is left: the milliseconds between release and bind, and a
//    killed member's downtime before its restart, when its port is free
//    (holding it then would make the dead member accept connections instead
//    of refusing them, which is not what a crash looks like to its peers).
// 3. DEAD_ADDRESS (and DEAD_ADDRESSES, where a test needs several): where
//    nothing listens (connection refused), without reserving anything.

import { createServer, type Server } from 'node:net';

/**
 * Where nothing listens: port 1 (tcpmux) on loopback addresses. The kernel
 * never hands out a port below 1024 to a port-0 listen or to an outgoing
 * connection, and nothing listens on it on a test machine, so a dial is
 * refused. Distinct addresses, for tests that need more than one endpoint.
 */
export const DEAD_ADDRESSES: readonly string[] = ['127.0.0.1:1', '127.0.0.2:1', '127.0.0.3:1'];
export const DEAD_ADDRESS = '127.0.0.1:1';

/** Ports the kernel chose, each held by a listening socket until released (see reservePorts). */
export class PortReservation {
  constructor(
    /** The reserved ports, in the order the kernel chose them (released ones included). */
    readonly ports: readonly number[],
    private readonly held: Map<number, Server>,
  ) {}

  /** The `i`-th reserved port. */
  port(i: number): number {
    const p = this.ports[i];
    if (p === undefined) throw new Error(`only ${this.ports.length} ports are reserved`);
    return p;
  }

  /**
   * Closes the socket holding `port`: call it right before starting what
   * binds the port. Throws if the port is not (or no longer) held here.
   */
  async release(port: number): Promise<void> {
    const server = this.held.get(port);
    if (server === undefined) throw new Error(`port ${port} is not held by this reservation`);
    this.held.delete(port);
    await close(server);
  }

  /** Releases every port still held (when done, or on failure). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((p) => this.release(p)));
  }
}

/**
 * Listens on port 0 of `host` `n` times, keeping every socket open, so the
 * `n` ports are distinct and stay taken until released.
 */
export async function reservePorts(n: number, host = '127.0.0.1'): Promise<PortReservation> {
  const held = new Map<number, Server>();
  try {
    for (let i = 0; i < n; i++) {
      const server = await listen(host);
      held.set(boundPort(server), server);
    }
  } catch (e) {
    await Promise.all([...held.values()].map(close));
    throw e;
  }
  return new PortReservation([...held.keys()], held);
}

/**
 * A listener that closes every connection at once: a peer that dials a held
 * port early (a node started before the next one binds) sees the link fail
 * and retries, as it would on a refusal, and close() need not wait for it.
 */
function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function boundPort(server: Server): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('a TCP listener has no port');
  return a.port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
