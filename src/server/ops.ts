// Everything a node shows operators, assembled for the composition root
// (start.ts): honest gRPC health and HTTP probes (health.ts), the status page
// (status-page/) and the plaintext HTTP listener that serves them with the
// Prometheus metrics (http.ts).

import type * as grpc from '@grpc/grpc-js';
import type { NodeHost } from '../node/host.js';
import { combineEvents, type NodeEvents } from '../node/events.js';
import type { NodeMetrics } from '../node/metrics.js';
import { NodeHealth, type HealthSink } from './health.js';
import { startOpsHttp, type OpsHttp } from './http.js';
import { StatusPage } from './status-page/index.js';

export class NodeOps {
  readonly health: NodeHealth;
  readonly page: StatusPage;
  /** The node's events: metrics, the health's leader watch, the page's activity. */
  readonly events: NodeEvents;
  private http: OpsHttp | null = null;

  constructor(
    node: NodeHost,
    private readonly metrics: NodeMetrics,
    credentials?: grpc.ChannelCredentials,
  ) {
    this.health = new NodeHealth(node);
    this.page = new StatusPage(
      {
        id: node.id,
        clock: node.clock,
        status: () => node.status(),
        members: () => node.members(),
        appliedIndex: () => node.appliedIndex(),
        leaseRemainingMs: () => node.leaseRemainingMs(),
        versions: () => node.versions(),
        clusterId: () => node.clusterId(),
        sequenceStats: () => node.allocator.stats().sequences,
        totals: () => node.totals(),
        leaderAddress: () => node.leaderAddress(),
      },
      () => this.health.verdict(),
      credentials,
    );
    this.events = combineEvents(metrics, this.health.watch, this.page.events);
  }

  /** The bound HTTP port, or null without --metrics-listen. */
  get httpPort(): number | null {
    return this.http?.port ?? null;
  }

  /** Adds the Ops service (the page's view, for other nodes' pages) to the node's gRPC server. */
  addToServer(server: grpc.Server): void {
    this.page.addToServer(server);
  }

  /** Serves /metrics, /livez, /readyz and the page on `address`. */
  async listen(address: string): Promise<void> {
    this.metrics.collectProcessMetrics();
    this.http = await startOpsHttp({
      listen: address,
      metrics: this.metrics.registry,
      health: this.health,
      page: { html: this.page.html, json: () => this.page.json() },
    });
  }

  /** Starts judging health and sampling rates (after node.start()). */
  start(healthSink: HealthSink): void {
    this.health.start(healthSink);
    this.page.start();
  }

  /** NOT_SERVING everywhere: the node is about to stop (balancers drain it first). */
  stopServing(): void {
    this.health.stop();
  }

  async close(): Promise<void> {
    this.health.stop();
    this.page.close();
    await this.http?.close();
    this.http = null;
  }
}
