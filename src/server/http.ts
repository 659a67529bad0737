// The node's plaintext HTTP listener (--metrics-listen): what operators and
// orchestrators read, with no client certificates (kubelet probes cannot
// present one). It serves
//   /metrics      Prometheus text format
//   /livez        200 while the node does its job at all, else 503 (JSON body)
//   /readyz       200 while gRPC health "" is SERVING, else 503; the JSON body says why
//   /             the status page (one self-contained HTML page)
//   /status.json  what the page shows, refreshed by it every second
// Nothing here changes the node.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeHealth } from './health.js';

export interface OpsHttpOptions {
  /** host:port to bind (port 0 picks a free one). */
  listen: string;
  metrics: { metrics(): Promise<string>; readonly contentType: string };
  health: NodeHealth;
  /** The status page and its data. */
  page: { html: string; json(): Promise<unknown> };
}

export interface OpsHttp {
  port: number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export async function startOpsHttp(opts: OpsHttpOptions): Promise<OpsHttp> {
  const server = createServer((req, res) => {
    route(opts, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${(err as Error)?.message ?? String(err)}\n`);
    });
  });
  const { host, port } = splitHostPort(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot serve metrics on ${opts.listen}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}

async function route(
  opts: OpsHttpOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const head = req.method === 'HEAD';
  const send = (code: number, type: string, body: string): void => {
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  switch ((req.url ?? '/').split('?')[0]) {
    case '/metrics':
      return send(200, opts.metrics.contentType, await opts.metrics.metrics());
    case '/livez': {
      const l = opts.health.liveness();
      return send(l.ok ? 200 : 503, JSON_TYPE, JSON.stringify({ live: l.ok, ...l }) + '\n');
    }
    case '/readyz': {
      const v = opts.health.verdict();
      const body = {
        ready: v.ready.ok,
        reason: v.ready.reason,
        leaderWithLease: v.sequencer.ok,
      };
      return send(v.ready.ok ? 200 : 503, JSON_TYPE, JSON.stringify(body) + '\n');
    }
    case '/':
      return send(200, 'text/html; charset=utf-8', opts.page.html);
    case '/status.json':
      return send(200, JSON_TYPE, JSON.stringify(await opts.page.json()));
    default:
      return send(404, 'text/plain', 'not found; try /, /metrics, /livez or /readyz\n');
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** "127.0.0.1:9464" or "[::1]:0" -> host and port. */
function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(i + 1)) };
}
