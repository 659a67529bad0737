import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Message, SnapshotRequest } from '../../src/raft/types.js';
import {
  CodecError,
  SnapshotAssembler,
  decodeMessage,
  encodeBatch,
  formatVersionError,
  snapshotChunks,
} from '../../src/transport/codec.js';
import {
  FORMAT_VERSION,
  loadPackageDefinition,
  raftServices,
  serviceDefinitions,
  type RaftBatchPb,
  type SnapshotChunkPb,
} from '../../src/transport/proto.js';
import { findPackageRoot } from '../../src/proto/package-root.js';

const raft = raftServices().Raft;
const send = raft.Send!;
const install = raft.InstallSnapshot!;

/** Through the real wire: serialise as the client does, deserialise as the server does. */
function wire(messages: Message[]): Message[] {
  const bytes = send.requestSerialize(encodeBatch('n1', messages));
  const batch = send.requestDeserialize(bytes) as RaftBatchPb;
  expect(batch.formatVersion).toBe(FORMAT_VERSION);
  expect(batch.from).toBe('n1');
  return batch.messages.map(decodeMessage);
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const big = 2 ** 52 + 7; // uint64 values beyond 32 bits survive as numbers

const samples: Message[] = [
  {
    type: 'vote',
    from: 'n1',
    to: 'n2',
    term: 5,
    lastLogIndex: big,
    lastLogTerm: 4,
    transfer: false,
  },
  {
    type: 'pre-vote',
    from: 'n1',
    to: 'n2',
    term: 6,
    lastLogIndex: 0,
    lastLogTerm: 0,
    transfer: true,
  },
  { type: 'vote-resp', from: 'n2', to: 'n1', term: 5, granted: true },
  { type: 'pre-vote-resp', from: 'n2', to: 'n1', term: 6, granted: false },
  {
    type: 'append',
    from: 'n1',
    to: 'n3',
    term: 7,
    prevLogIndex: 41,
    prevLogTerm: 6,
    commit: 40,
    sentTick: 1234,
    entries: [
      { index: 42, term: 7, type: 'normal', data: new Uint8Array(0) },
      { index: 43, term: 7, type: 'normal', data: bytes(0, 1, 2, 255) },
      {
        index: 44,
        term: 7,
        type: 'conf',
        data: new Uint8Array(0),
        change: {
          type: 'add-learner',
          id: 'n4',
          context: new TextEncoder().encode('10.0.0.4:7004'),
        },
      },
      {
        index: 45,
        term: 7,
        type: 'conf',
        data: bytes(9),
        change: { type: 'promote', id: 'n4', context: new Uint8Array(0) },
      },
      {
        index: big,
        term: 7,
        type: 'conf',
        data: new Uint8Array(0),
        change: { type: 'remove', id: 'n2', context: bytes(1) },
      },
    ],
  },
  {
    type: 'append',
    from: 'n1',
    to: 'n3',
    term: 7,
    prevLogIndex: 0,
    prevLogTerm: 0,
    commit: 0,
    sentTick: 0,
    entries: [],
  },
  {
    type: 'append-resp',
    from: 'n3',
    to: 'n1',
    term: 7,
    success: true,
    index: 45,
    hintIndex: 0,
    hintTerm: 0,
    sentTick: 1234,
  },
  {
    type: 'append-resp',
    from: 'n3',
    to: 'n1',
    term: 7,
    success: false,
    index: 41,
    hintIndex: 30,
    hintTerm: 5,
    sentTick: 1235,
  },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 7, commit: 45, sentTick: 99 },
  { type: 'heartbeat-resp', from: 'n2', to: 'n1', term: 7, sentTick: 99 },
  { type: 'timeout-now', from: 'n1', to: 'n2', term: 7 },
];

describe('codec', () => {
  it('round-trips every message type through the protobuf wire format', () => {
    const out = wire(samples);
    expect(out).toStrictEqual(samples);
    // Decoded bytes are Uint8Arrays (Buffer views into the received message).
    const e = (out[4] as Extract<Message, { type: 'append' }>).entries[1]!;
    expect(e.data).toBeInstanceOf(Uint8Array);
  });

  it('round-trips each type on its own, covering all of them', () => {
    const types = new Set(samples.map((m) => m.type));
    expect(types.size).toBe(9); // every type but snapshot, which has its own test
    for (const m of samples) expect(wire([m])).toStrictEqual([m]);
  });

  it('is a protobuf encoding, not JSON', () => {
    const buf = send.requestSerialize(encodeBatch('n1', [samples[8]!]));
    expect(buf.includes(Buffer.from('"type"'))).toBe(false);
    expect(buf.length).toBeLessThan(30);
  });

  it('refuses to put a snapshot in a RaftMessage', () => {
    expect(() => encodeBatch('n1', [snapshot(10)])).toThrow(CodecError);
  });

  it('rejects unknown message, entry and conf change types', () => {
    expect(() => decodeMessage({ type: 0, from: 'a', to: 'b', term: 1 })).toThrow(
      /unknown message type/,
    );
    expect(() => decodeMessage({ type: 42, from: 'a', to: 'b', term: 1 })).toThrow(CodecError);
    const withEntry = (e: object) =>
      decodeMessage({ type: 5, from: 'a', to: 'b', term: 1, entries: [e as never] });
    expect(() => withEntry({ index: 1, term: 1, type: 0, data: bytes() })).toThrow(
      /unknown entry type/,
    );
    expect(() => withEntry({ index: 1, term: 1, type: 2, data: bytes() })).toThrow(
      /without a change/,
    );
    expect(() =>
      withEntry({
        index: 1,
        term: 1,
        type: 2,
        data: bytes(),
        change: { type: 7, id: 'x', context: bytes() },
      }),
    ).toThrow(/conf change type/);
  });

  it('explains format versions it refuses', () => {
    expect(formatVersionError(1, 'batch')).toBeNull();
    expect(formatVersionError(2, 'batch')).toBeNull();
    expect(formatVersionError(3, 'batch')).toMatch(
      /format_version 3, newer than this node understands \(1..2\)/,
    );
    expect(formatVersionError(0, 'batch')).toMatch(/format_version 0/);
  });
});

function snapshot(size: number): SnapshotRequest {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
  return {
    type: 'snapshot',
    from: 'n1',
    to: 'n2',
    term: 9,
    sentTick: 77,
    snapshot: {
      meta: { index: 1000, term: 8, conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } },
      data,
    },
  };
}

function viaWire(chunks: Iterable<SnapshotChunkPb>): SnapshotChunkPb[] {
  return [...chunks].map(
    (c) => install.requestDeserialize(install.requestSerialize(c)) as SnapshotChunkPb,
  );
}

describe('snapshot chunks', () => {
  it('round-trip through the wire in chunks, header first', () => {
    const m = snapshot(2.5 * 4096);
    const chunks = viaWire(snapshotChunks(m, 4096));
    expect(chunks).toHaveLength(3);
    expect(chunks[0]!.header).not.toBeNull();
    expect(chunks[1]!.header).toBeNull();
    const a = new SnapshotAssembler();
    for (const c of chunks) a.push(c);
    expect(a.finish()).toStrictEqual(m);
  });

  it('round-trip an empty snapshot (one chunk with the header)', () => {
    const m = snapshot(0);
    const chunks = viaWire(snapshotChunks(m, 4096));
    expect(chunks).toHaveLength(1);
    const a = new SnapshotAssembler();
    a.push(chunks[0]!);
    expect(a.finish()).toStrictEqual(m);
  });

  it('catch missing, reordered, oversized and truncated chunks, and future versions', () => {
    const chunks = viaWire(snapshotChunks(snapshot(3000), 1000));
    expect(() => new SnapshotAssembler().push(chunks[1]!)).toThrow(/no header/);
    const reordered = new SnapshotAssembler();
    reordered.push(chunks[0]!);
    expect(() => reordered.push(chunks[2]!)).toThrow(/offset 2000, expected 1000/);
    const truncated = new SnapshotAssembler();
    truncated.push(chunks[0]!);
    expect(() => truncated.finish()).toThrow(/ended at 1000 of 3000/);
    expect(() => new SnapshotAssembler(100).push(chunks[0]!)).toThrow(/exceeds the limit/);
    expect(() => new SnapshotAssembler().push({ ...chunks[0]!, formatVersion: 3 })).toThrow(
      /format_version 3/,
    );
    expect(() => new SnapshotAssembler().finish()).toThrow(/before any chunk/);
  });
});

describe('proto loader', () => {
  it('finds the package root from src/ and from dist/src/', () => {
    const root = findPackageRoot();
    expect(root).toBe(fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, ''));
    expect(findPackageRoot(join(root, 'dist', 'src', 'proto', 'package-root.js'))).toBe(root);
  });

  it('the fast Raft codec and proto-loader clients speak the same wire format', () => {
    const shared = serviceDefinitions().Raft.Send!;
    // fast -> proto-loader
    const bytesOut = send.requestSerialize(encodeBatch('n1', [samples[4]!]));
    const viaLoader = shared.requestDeserialize(bytesOut) as {
      formatVersion: number;
      messages: {
        type: string;
        logIndex: string;
        entries: { type: string; change: { id: string } | null }[];
      }[];
    };
    expect(viaLoader.formatVersion).toBe(FORMAT_VERSION);
    expect(viaLoader.messages[0]!.type).toBe('MESSAGE_TYPE_APPEND');
    expect(viaLoader.messages[0]!.logIndex).toBe('41');
    expect(viaLoader.messages[0]!.entries[2]!.type).toBe('ENTRY_TYPE_CONF');
    expect(viaLoader.messages[0]!.entries[2]!.change!.id).toBe('n4');
    // proto-loader -> fast
    const back = send.requestDeserialize(shared.requestSerialize(viaLoader)) as RaftBatchPb;
    expect(back.messages.map(decodeMessage)).toStrictEqual([samples[4]]);
  });

  it('loads every raftseq.v1 proto, for reflection and clients', () => {
    const pkg = loadPackageDefinition();
    for (const name of ['Sequencer', 'Cluster', 'Raft', 'FaultInjection']) {
      expect(pkg[`raftseq.v1.${name}`]).toBeDefined();
    }
    const defs = serviceDefinitions(pkg);
    expect(defs.Sequencer.Next!.path).toBe('/raftseq.v1.Sequencer/Next');
    expect(defs.Raft.Send!.requestStream).toBe(true);
    // The shared definition keeps 64-bit values exact (sequence values reach 2^63-1).
    const next = defs.Sequencer.Next!;
    const res = next.responseDeserialize(
      next.responseSerialize({ first: '9223372036854775807', count: 1 }),
    ) as { first: string };
    expect(res.first).toBe('9223372036854775807');
  });
});
