// The status page of a node (`/` and `/status.json` on --metrics-listen):
// one self-contained HTML page that polls the JSON every second. Any node
// serves it: a follower asks the leader for the leader's view (Ops/Overview
// over the admin port) and falls back to its own view, saying so, when the
// leader does not answer.

import type * as grpc from '@grpc/grpc-js';
import type { HealthVerdict } from '../../node/health.js';
import type { NodeEvents } from '../../node/events.js';
import { Activity } from './activity.js';
import { MemberStatusClient } from './member-status.js';
import { OverviewClient, addOpsService } from './ops-service.js';
import { STATUS_PAGE_HTML } from './page.js';
import { OverviewBuilder, type Overview, type PageSource } from './view.js';

/** How long the leader may take to send its view before this node shows its own. */
const LEADER_DEADLINE_MS = 700;

/** What /status.json answers: a view, which node's it is, and which node served the page. */
export type PageData = Overview & {
  /** The node whose HTTP endpoint answered. */
  servedBy: string;
  /** Why this is not the leader's view, when it is not. */
  note: string | null;
};

export interface StatusPageNode extends PageSource {
  leaderAddress(): string | null;
}

export class StatusPage {
  readonly html = STATUS_PAGE_HTML;
  readonly activity: Activity;
  private readonly builder: OverviewBuilder;
  private readonly peers: MemberStatusClient;
  private readonly leaderClient: OverviewClient;

  constructor(
    private readonly node: StatusPageNode,
    health: () => HealthVerdict,
    credentials?: grpc.ChannelCredentials,
  ) {
    this.activity = new Activity(node);
    this.peers = new MemberStatusClient(credentials);
    this.leaderClient = new OverviewClient(credentials);
    this.builder = new OverviewBuilder(node, this.activity, health, this.peers);
  }

  /** The hooks to add to the node's events. */
  get events(): Partial<NodeEvents> {
    return this.activity;
  }

  /** Serves this node's view to the pages of other nodes. */
  addToServer(server: grpc.Server): void {
    addOpsService(server, () => this.builder.view());
  }

  start(): void {
    this.activity.start();
  }

  close(): void {
    this.activity.stop();
    this.peers.close();
    this.leaderClient.close();
  }

  /** /status.json: the leader's view if this node can get it, else its own. */
  async json(): Promise<PageData> {
    const st = this.node.status();
    const servedBy = this.node.id;
    const address = this.node.leaderAddress();
    if (st.role === 'leader' || st.leader === null || address === null) {
      const note = st.role === 'leader' ? null : 'no leader known: this is the node’s own view';
      return { ...(await this.builder.view()), servedBy, note };
    }
    try {
      return {
        ...(await this.leaderClient.ask(address, LEADER_DEADLINE_MS)),
        servedBy,
        note: null,
      };
    } catch (e) {
      const note = `leader ${st.leader} did not answer (${(e as Error).message}): this is the node’s own view`;
      return { ...(await this.builder.view()), servedBy, note };
    }
  }
}
