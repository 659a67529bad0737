// Wire-format compatibility: a node talks to a peer one format older (as a
// rolling upgrade needs), each link carries the lower format of its two
// sides, and a feature of the newer format (deflated snapshots) turns on
// only once every member speaks it.

import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotRequest } from '../../src/raft/types.js';
import {
  COMPRESSION_DEFLATE,
  SnapshotAssembler,
  snapshotChunks,
} from '../../src/transport/codec.js';
import {
  FORMAT_METADATA_KEY,
  MIN_WIRE_FORMAT,
  WIRE_FORMAT,
  announcedFormat,
  clusterFormat,
  formatVersionError,
  linkFormat,
} from '../../src/transport/formats.js';
import { raftServices, type RaftBatchPb, type SnapshotChunkPb } from '../../src/transport/proto.js';
import { deflateSnapshot, inflateSnapshot } from '../../src/transport/snapshot-deflate.js';
import { waitUntil } from '../support/wait.js';
import { bind, closeAll, heartbeat, peersOf, sendAsFormat1, startNode } from './helpers.js';

afterEach(closeAll);

/** Compressible, like a real snapshot (names and counters), and large enough to deflate. */
function snapshotMsg(from: string, to: string, size = 256 * 1024): SnapshotRequest {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = 'orders:'.charCodeAt(i % 7) ^ ((i >> 12) & 1);
  return {
    type: 'snapshot',
    from,
    to,
    term: 3,
    sentTick: 9,
    snapshot: { meta: { index: 700, term: 3, conf: { voters: [from, to], learners: [] } }, data },
  };
}

/**
 * A peer of another release: it announces `announce` (null: nothing, as
 * releases before format 2 did), accepts only `accepts`, and records the
 * format of every batch and snapshot header it is sent.
 */
async function fakePeer(announce: number | null, accepts: readonly number[]) {
  const seen = {
    batches: [] as number[],
    snapshots: [] as { format: number; compression: number }[],
  };
  const server = new grpc.Server();
  const raft = raftServices().Raft;
  const answer = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    if (announce !== null) md.set(FORMAT_METADATA_KEY, String(announce));
    return md;
  };
  server.addService(raft, {
    Send: (
      call: grpc.ServerReadableStream<RaftBatchPb, object>,
      cb: grpc.sendUnaryData<object>,
    ) => {
      call.sendMetadata(answer());
      call.on('data', (b: RaftBatchPb) => {
        seen.batches.push(b.formatVersion);
        if (!accepts.includes(b.formatVersion)) {
          cb({
            code: grpc.status.FAILED_PRECONDITION,
            details: `format_version ${b.formatVersion}`,
          });
        }
      });
      call.on('end', () => cb(null, {}));
      call.on('error', () => undefined);
    },
    InstallSnapshot: (
      call: grpc.ServerReadableStream<SnapshotChunkPb, object>,
      cb: grpc.sendUnaryData<object>,
    ) => {
      call.on('data', (c: SnapshotChunkPb) => {
        if (c.header)
          seen.snapshots.push({ format: c.formatVersion, compression: c.header.compression ?? 0 });
      });
      call.on('end', () => cb(null, {}));
      call.on('error', () => undefined);
    },
  });
  const port = await bind(server);
  const close = (): void => server.forceShutdown();
  return { seen, address: `127.0.0.1:${port}`, close };
}

describe('wire formats', () => {
  it('reads its own format and the one before, and refuses the rest with the reason', () => {
    expect(WIRE_FORMAT - MIN_WIRE_FORMAT).toBe(1);
    expect(formatVersionError(WIRE_FORMAT, 'batch')).toBeNull();
    expect(formatVersionError(MIN_WIRE_FORMAT, 'batch')).toBeNull();
    expect(formatVersionError(WIRE_FORMAT + 1, 'batch')).toMatch(
      /newer than this node understands.*upgrade this node/,
    );
    expect(formatVersionError(MIN_WIRE_FORMAT - 1, 'batch')).toMatch(
      /older than this node accepts/,
    );
  });

  it('a link carries the lower format; the cluster the lowest of its voters', () => {
    expect(announcedFormat(undefined)).toBe(1);
    expect(announcedFormat('2')).toBe(2);
    expect(announcedFormat('x')).toBe(1);
    expect(linkFormat(1)).toBe(1);
    expect(linkFormat(WIRE_FORMAT + 5)).toBe(WIRE_FORMAT);
    const known = new Map([
      ['n2', 2],
      ['n3', 1],
    ]);
    expect(clusterFormat('n1', ['n1', 'n2'], (id) => known.get(id))).toBe(2);
    expect(clusterFormat('n1', ['n1', 'n2', 'n3'], (id) => known.get(id))).toBe(1);
    // A voter not heard from yet counts as the oldest format accepted.
    expect(clusterFormat('n1', ['n1', 'n2', 'n4'], (id) => known.get(id))).toBe(MIN_WIRE_FORMAT);
  });

  it('deflated snapshot chunks reassemble and inflate to the same bytes; never in format 1', async () => {
    const m = snapshotMsg('n1', 'n2');
    const deflated = await deflateSnapshot(m.snapshot.data);
    expect(deflated.byteLength).toBeLessThan(m.snapshot.data.byteLength / 4);
    const asm = new SnapshotAssembler();
    for (const c of snapshotChunks(m, 10_000, { format: 2, deflated })) asm.push(c);
    expect(asm.deflatedRawSize).toBe(m.snapshot.data.byteLength);
    const back = await inflateSnapshot(asm.finish(), asm.deflatedRawSize!);
    expect(Buffer.compare(back.snapshot.data, m.snapshot.data)).toBe(0);

    expect(() => [...snapshotChunks(m, 10_000, { format: 1, deflated })]).toThrow(
      /needs wire format 2/,
    );
    const [first] = [...snapshotChunks(m, 10_000, { format: 2, deflated })];
    expect(() => new SnapshotAssembler().push({ ...first!, formatVersion: 1 })).toThrow(
      /wire format 1/,
    );
    const lying = { ...first!, header: { ...first!.header!, rawSize: 5 } };
    const asm2 = new SnapshotAssembler();
    for (const c of [lying, ...[...snapshotChunks(m, 10_000, { format: 2, deflated })].slice(1)])
      asm2.push(c);
    await expect(inflateSnapshot(asm2.finish(), 5)).rejects.toThrow(/does not inflate|announced 5/);
  });

  it('speaks format 1 to a peer of the previous release, and deflates for nobody while it is a member', async () => {
    const a = await startNode('n1');
    const old = await fakePeer(null, [1]);
    const current = await fakePeer(WIRE_FORMAT, [1, 2]);
    try {
      a.transport.setPeers(
        new Map([
          ['n2', old.address],
          ['n3', current.address],
        ]),
      );
      await waitUntil(
        () =>
          a.transport.stats()['n2']?.connected === true &&
          a.transport.stats()['n3']?.connected === true,
        'links',
      );
      expect(a.transport.stats()['n2']!.format).toBe(1);
      expect(a.transport.stats()['n3']!.format).toBe(WIRE_FORMAT);
      a.transport.send([heartbeat('n1', 'n2', 1), heartbeat('n1', 'n3', 1)]);
      await waitUntil(
        () => old.seen.batches.length > 0 && current.seen.batches.length > 0,
        'batches',
      );
      expect(new Set(old.seen.batches)).toEqual(new Set([1]));
      expect(new Set(current.seen.batches)).toEqual(new Set([WIRE_FORMAT]));

      // n2 (old) is a member: no snapshot is deflated, not even to n3.
      a.transport.send([snapshotMsg('n1', 'n2'), snapshotMsg('n1', 'n3')]);
      await waitUntil(
        () => old.seen.snapshots.length === 1 && current.seen.snapshots.length === 1,
        'snapshots',
      );
      expect(old.seen.snapshots[0]).toEqual({ format: 1, compression: 0 });
      expect(current.seen.snapshots[0]).toEqual({ format: WIRE_FORMAT, compression: 0 });

      // Once n2 is upgraded away (only members of the newer format remain), the feature turns on.
      a.transport.setPeers(new Map([['n3', current.address]]));
      await waitUntil(
        () => a.transport.stats()['n3']?.snapshotsSent === 1,
        'first snapshot acknowledged',
      );
      a.transport.send([snapshotMsg('n1', 'n3')]);
      await waitUntil(() => current.seen.snapshots.length === 2, 'second snapshot');
      expect(current.seen.snapshots[1]).toEqual({
        format: WIRE_FORMAT,
        compression: COMPRESSION_DEFLATE,
      });
    } finally {
      old.close();
      current.close();
    }
  });

  it('accepts a format-1 sender and tells it which format it speaks', async () => {
    const b = await startNode('n2');
    const { client, answer } = sendAsFormat1(b.address, 'n1', [heartbeat('n1', 'n2', 4)]);
    expect((await answer).get(FORMAT_METADATA_KEY)[0]).toBe(String(WIRE_FORMAT));
    await waitUntil(() => b.received.length === 1, 'the format-1 heartbeat');
    client.close();
  });

  it('deflated snapshots between two nodes of this release arrive intact', async () => {
    const a = await startNode('n1');
    const b = await startNode('n2');
    a.transport.setPeers(peersOf(b));
    await waitUntil(() => a.transport.stats()['n2']!.connected, 'link');
    const m = snapshotMsg('n1', 'n2', 1 << 20);
    a.transport.send([m]);
    await waitUntil(() => b.received.some((x) => x.type === 'snapshot'), 'snapshot');
    const got = b.received.find((x) => x.type === 'snapshot') as SnapshotRequest;
    expect(Buffer.compare(got.snapshot.data, m.snapshot.data)).toBe(0);
    await waitUntil(() => a.transport.stats()['n2']!.snapshotsSent === 1, 'the acknowledgement');
    const line = a.logs.find((l) => /snapshot delivered/.test(l.msg));
    expect((line?.fields as { deflatedBytes?: number }).deflatedBytes).toBeLessThan(
      m.snapshot.data.byteLength / 4,
    );
  });
});
