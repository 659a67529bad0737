// Cluster identity on the Raft wire: a node refuses streams and snapshots
// from a node of another cluster (counted, logged at most once a minute per
// sender), and still takes traffic from a sender that announces no id (a
// release before cluster ids, or a node that knows none yet).

import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotRequest } from '../../src/raft/types.js';
import {
  CLUSTER_METADATA_KEY,
  RefusalLog,
  announcedClusterId,
  clusterIdRefusal,
} from '../../src/transport/cluster-id.js';
import { waitUntil } from '../support/wait.js';
import {
  closeAll,
  heartbeat,
  peersOf,
  sendAsFormat1,
  startNode,
  type TestNode,
} from './helpers.js';

afterEach(closeAll);

function snapshotMsg(from: string, to: string): SnapshotRequest {
  return {
    type: 'snapshot',
    from,
    to,
    term: 3,
    sentTick: 9,
    snapshot: {
      meta: { index: 50, term: 3, conf: { voters: [from, to], learners: [] } },
      data: new Uint8Array(100).fill(7),
    },
  };
}

const refusalLines = (n: TestNode): number =>
  n.logs.filter((l) => l.level === 'warn' && /belongs to cluster/.test(l.msg)).length;

describe('cluster id checks (pure)', () => {
  it('refuses only two known, different ids', () => {
    expect(clusterIdRefusal('aa', 'bb', 'n1')).toMatch(
      /n1 belongs to cluster bb, this node to cluster aa/,
    );
    expect(clusterIdRefusal('aa', 'aa', 'n1')).toBeNull();
    expect(clusterIdRefusal('aa', '', 'n1')).toBeNull(); // the sender knows none yet
    expect(clusterIdRefusal('aa', undefined, 'n1')).toBeNull(); // a release before ids
    expect(clusterIdRefusal('', 'bb', 'n1')).toBeNull(); // we know none yet (joining)
  });

  it('reads what a peer announced', () => {
    expect(announcedClusterId('none')).toBe('');
    expect(announcedClusterId('ab12')).toBe('ab12');
    expect(announcedClusterId(undefined)).toBeUndefined();
  });

  it('logs a refused sender once per interval', () => {
    let now = 0;
    const log = new RefusalLog(60_000, () => now);
    expect(log.shouldLog('n1/bb')).toBe(true);
    now = 59_999;
    expect(log.shouldLog('n1/bb')).toBe(false);
    expect(log.shouldLog('n3/bb')).toBe(true);
    now = 60_000;
    expect(log.shouldLog('n1/bb')).toBe(true);
  });
});

describe('cluster id on the gRPC transport', () => {
  it('refuses messages and snapshots from a node of another cluster, counts and logs it', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2');
    a.transport.setClusterId('aaaa');
    b.transport.setClusterId('bbbb');
    a.transport.setPeers(peersOf(b));
    // Keep knocking: every refused stream is redialled after a backoff.
    const timer = setInterval(() => a.transport.send([heartbeat('n1', 'n2', 1)]), 5);
    try {
      await waitUntil(
        () => (b.transport.refusals()['cluster-id'] ?? 0) >= 3,
        'three refused streams',
      );
    } finally {
      clearInterval(timer);
    }
    expect(b.received).toEqual([]);
    expect(a.transport.stats()['n2']!.connected).toBe(false);
    expect(a.transport.stats()['n2']!.lastError).toMatch(/belongs to cluster aaaa/);
    expect(refusalLines(b)).toBe(1); // rate-limited, while the counter went on

    const before = b.transport.refusals()['cluster-id']!;
    a.transport.send([snapshotMsg('n1', 'n2')]);
    await waitUntil(() => a.snapshotFailures.includes('n2'), 'the snapshot refused');
    expect(b.received).toEqual([]);
    expect(b.transport.refusals()['cluster-id']!).toBeGreaterThan(before);
  });

  it('delivers between nodes of one cluster, and from a node that knows no id yet', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2');
    const c = await startNode('n3');
    a.transport.setClusterId('aaaa');
    b.transport.setClusterId('aaaa');
    a.transport.setPeers(peersOf(b));
    c.transport.setPeers(peersOf(b)); // c knows no id: a joining node
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitUntil(() => b.received.length === 1, 'the heartbeat from its own cluster');
    await waitUntil(() => c.transport.stats()['n2']!.connected, "c's link");
    c.transport.send([heartbeat('n3', 'n2', 1), snapshotMsg('n3', 'n2')]);
    await waitUntil(() => b.received.length === 3, 'the heartbeat and snapshot from c');
    expect(b.transport.refusals()).toEqual({});
    // Links announce that their ends check ids (the leader's condition to propose one).
    expect(a.transport.stats()['n2']!.announcesClusterId).toBe(true);
  });

  it('refuses a stream opened before this node adopted its id, at its next batch', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2');
    a.transport.setClusterId('aaaa');
    a.transport.setPeers(peersOf(b));
    a.transport.send([heartbeat('n1', 'n2', 1)]);
    await waitUntil(() => b.received.length === 1, 'the first heartbeat');
    b.transport.setClusterId('bbbb');
    a.transport.send([heartbeat('n1', 'n2', 2)]);
    await waitUntil(() => b.transport.refusals()['cluster-id'] === 1, 'the refusal');
    expect(b.received.length).toBe(1);
  });

  it('accepts a sender that announces no cluster id (a release before them)', async () => {
    const b = await startNode('n2');
    b.transport.setClusterId('bbbb');
    const { client, answer } = sendAsFormat1(b.address, 'n1', [heartbeat('n1', 'n2', 4)]);
    expect((await answer).get(CLUSTER_METADATA_KEY)[0]).toBe('bbbb');
    await waitUntil(() => b.received.length === 1, 'the heartbeat of the older release');
    client.close();
  });
});
