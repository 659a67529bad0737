// `cluster join` and `cluster status` against real nodes started in-process:
// the join waits until the new member is a voter; status shows every
// member's own term, indexes and counters; a join to an address nobody
// answers at times out with a clear error (exit 1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SequenceClient } from '../../src/client/index.js';
import { startNode, type RunningNode } from '../../src/server/index.js';
import { DEFAULTS, type NodeOptions } from '../../src/node/options.js';
import { lines, runCli } from '../support/cli-run.js';
import { reservePorts } from '../support/ports.js';

describe('cluster join / status on real nodes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftseq-join-'));
  const nodes: RunningNode[] = [];
  let ports: number[] = [];
  const options = (id: string, port: number, initial: boolean): NodeOptions => ({
    ...DEFAULTS,
    id,
    listen: `127.0.0.1:${port}`,
    // n1 advertises an address peers cannot dial (127.0.0.2: nothing listens
    // there), as a published or NAT address would be: a joining node must
    // answer the leader at the address the members dial it at, not there.
    advertise: id === 'n1' ? `127.0.0.2:${port}` : `127.0.0.1:${port}`,
    dataDir: join(dir, id),
    initialCluster: initial ? new Map([[id, `127.0.0.1:${port}`]]) : null,
    electionTimeoutMs: 500,
    heartbeatIntervalMs: 50,
    logLevel: 'silent',
  });

  beforeAll(async () => {
    const reserved = await reservePorts(2);
    ports = [...reserved.ports];
    // Each port stays held until just before its node binds it.
    await reserved.release(reserved.port(0));
    nodes.push(await startNode(options('n1', reserved.port(0), true)));
    await reserved.release(reserved.port(1));
    nodes.push(await startNode(options('n2', reserved.port(1), false)));
    const client = new SequenceClient({ endpoints: [`127.0.0.1:${ports[0]}`] });
    for (let i = 0; i < 20; i++) await client.next(`seq${i}`, 3);
    client.close();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.shutdown()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('join waits until the new member caught up and votes', async () => {
    const e = ['-e', `127.0.0.1:${ports[0]}`];
    const r = await runCli([
      'cluster',
      'join',
      '--id',
      'n2',
      '--addr',
      `127.0.0.1:${ports[1]}`,
      ...e,
    ]);
    expect(r.stderr).toMatch(/^added n2 \(127\.0\.0\.1:\d+\) as a learner; catching up\n/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^n2 caught up in .* and is a voter/);
    expect(nodes[0]?.host.status().conf.voters).toEqual(['n1', 'n2']);

    const s = await runCli(['cluster', 'status', ...e]);
    expect(s.code).toBe(0);
    const rows = lines(s.stdout).filter((l) => /^n[12]/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /^n1\*\s+\S+\s+leader\s+\d+\s+\d+\s+\d+\s+0\s+-\s+\d+ ms\s+60\s+0\s+\S+( \([0-9a-f]+\))?$/,
    );
    expect(rows[1]).toMatch(
      /^n2\s+\S+\s+follower\s+\d+\s+\d+\s+\d+\s+0\s+\d+ ms\s+-\s+0\s+0\s+\S+( \([0-9a-f]+\))?$/,
    );

    const j = JSON.parse((await runCli(['cluster', 'status', '--json', ...e])).stdout);
    expect(j.leader).toBe('n1');
    expect(j.sequences).toBe(20);
    expect(j.members[1]).toMatchObject({
      id: 'n2',
      role: 'follower',
      self: { role: 'follower', term: j.term, valuesServed: '0' },
    });
  });

  it('a join to an address nobody answers at times out with a clear error', async () => {
    const r = await runCli([
      'cluster',
      'join',
      '--id',
      'n9',
      '--addr',
      '127.0.0.1:1',
      '--timeout',
      '1500',
      '-e',
      `127.0.0.1:${ports[0]}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const err = lines(r.stderr).filter((l) => l.startsWith('raftseq:'));
    expect(err).toEqual([
      expect.stringMatching(
        /^raftseq: n9 did not catch up within 1\.\d s: the leader never heard from it: the address 127\.0\.0\.1:1 may be unreachable/,
      ),
    ]);
    await runCli(['cluster', 'leave', '--id', 'n9', '-e', `127.0.0.1:${ports[0]}`]);
  });
});
