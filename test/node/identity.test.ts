// Cluster identity in the node runtime (src/node/identity.ts), on real
// NodeHosts in the simulator's cluster: a new cluster gets one id that every
// member holds and keeps across restarts; the state machine's first id
// wins; a data directory whose meta and snapshot disagree is refused.

import { describe, expect, it } from 'vitest';
import { StartupError } from '../../src/node/bootstrap.js';
import { ClusterIdentity, loadClusterId } from '../../src/node/identity.js';
import type { Logger } from '../../src/node/logger.js';
import type { Status } from '../../src/raft/index.js';
import { encodeCommand } from '../../src/state/commands.js';
import { SequenceStateMachine, bootstrapData } from '../../src/state/machine.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { SimCluster } from '../sim/node/cluster.js';
import { SimTransport } from '../sim/node/transport.js';

const IDS = ['n1', 'n2', 'n3'];

/** A ClusterIdentity over `sm`, its directory holding `stored`; failures collected. */
function identity(
  sm: SequenceStateMachine,
  stored: string,
  failures: Error[] = [],
): ClusterIdentity {
  const quiet = { info: () => {}, debug: () => {}, warn: () => {} } as unknown as Logger;
  return new ClusterIdentity(
    {
      id: 'n1',
      dataDir: '/data/n1',
      sm,
      storage: MemoryStorage.create(),
      transport: new SimTransport('n1', { carry: () => {} }, () => {}),
      entropy: { int: () => 0, hex: () => 'ffff' },
      status: () => ({}) as Status,
      propose: () => Promise.resolve(),
      fail: (err) => failures.push(err),
      log: quiet,
    },
    stored,
  );
}

function ids(c: SimCluster): string[] {
  return IDS.map((id) => c.host(id)?.clusterId() ?? '?');
}

describe('cluster identity', () => {
  it('a new cluster gets one id, held by every member, in its data directory, across restarts', async () => {
    const c = new SimCluster({ seed: 11, ids: IDS, drift: 0 });
    c.start();
    await c.runUntil(
      () => ids(c).every((id) => id !== '' && id !== '?'),
      30_000,
      'every member knows the cluster id',
    );
    const [first] = ids(c);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(ids(c))).toEqual(new Set([first]));
    await c.runFor(200); // the fsynced copies are written
    for (const id of IDS) expect(await loadClusterId(c.slots.get(id)!.storage)).toBe(first);

    c.crash('n2');
    c.boot(c.slots.get('n2')!);
    await c.runUntil(() => c.host('n2') !== null, 5_000, 'n2 restarted');
    // Known at once, from the data directory, before it replayed anything.
    expect(c.host('n2')!.clusterId()).toBe(first);
    c.stopEverything();
  });

  it('the first id applied wins; snapshots carry it', () => {
    const sm = SequenceStateMachine.bootstrap(new Map([['n1', 'a:1']]), 1);
    expect(sm.clusterId).toBe('');
    const cmd = (id: string, index: number) => ({
      index,
      term: 1,
      type: 'normal' as const,
      data: encodeCommand({ type: 'cluster', id }),
    });
    expect(sm.apply(cmd('aaaa', 2)).kind).toBe('command');
    const second = sm.apply(cmd('bbbb', 3));
    expect(second).toMatchObject({ ignored: 'the cluster already has an id' });
    expect(sm.clusterId).toBe('aaaa');
    expect(SequenceStateMachine.restore(sm.snapshot()).clusterId).toBe('aaaa');
    // Without an id the snapshot stays in the version a release before ids reads.
    expect(bootstrapData(new Map([['n1', 'a:1']]))[4]).toBe(2);
    expect(bootstrapData(new Map([['n1', 'a:1']]), 0, 'cc')[4]).toBe(3);
  });

  it('refuses a data directory whose meta and snapshot name different clusters', () => {
    const sm = SequenceStateMachine.bootstrap(new Map([['n1', 'a:1']]), 1, 'aaaa');
    expect(() => identity(sm, 'dddd')).toThrow(StartupError);
    expect(() => identity(sm, 'dddd')).toThrow(
      /belongs to cluster dddd but its snapshot to cluster aaaa/,
    );
    expect(identity(sm, 'aaaa').id).toBe('aaaa');
    expect(identity(sm, '').id).toBe('aaaa');
  });

  it("a member that applies another cluster's id stops instead of mixing them", () => {
    const sm = SequenceStateMachine.bootstrap(new Map([['n1', 'a:1']]), 1);
    const failures: Error[] = [];
    const ident = identity(sm, 'dddd', failures);
    sm.apply({
      index: 2,
      term: 1,
      type: 'normal',
      data: encodeCommand({ type: 'cluster', id: 'aaaa' }),
    });
    ident.sync();
    expect(failures.map((e) => e.name)).toEqual(['ClusterIdMismatchError']);
    expect(ident.id).toBe('dddd');
  });
});

describe('a stored snapshot that fails the state machine checksum', () => {
  it('is refused at start naming the data directory and the snapshot index', async () => {
    const c = new SimCluster({ seed: 13, ids: ['n1'], drift: 0 });
    const slot = c.slots.get('n1')!;
    const data = bootstrapData(new Map([['n1', 'a:1']]), 5, 'aaaa');
    data[data.length - 1]! ^= 0x01; // the state machine's own CRC
    slot.storage.persistSync([
      {
        snapshot: { meta: { index: 5, term: 1, conf: { voters: ['n1'], learners: [] } }, data },
        compacted: null,
        entries: [],
        hardState: { term: 1, vote: null, commit: 5 },
      },
    ]);
    c.start();
    await c.runUntil(() => slot.state === 'refused', 5_000, 'the refusal');
    expect(c.trace.lines().join('\n')).toMatch(
      /n1 refuses to run: data directory \S+ is corrupt at log index 5: state machine snapshot: checksum mismatch/,
    );
    c.stopEverything();
  });
});
