import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  decodeBlob,
  decodeEntry,
  decodeHardState,
  decodeSnapshot,
  encodeBlob,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
} from '../../src/storage/codec.js';
import { RECORD_FORMAT } from '../../src/storage/formats.js';
import { bytes, confEntry, entry, hs, snap } from './fixtures.js';

function codecError(f: () => unknown): CodecError {
  try {
    f();
  } catch (e) {
    if (e instanceof CodecError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

/** Rewrites the version byte and fixes the checksum, as a newer writer would. */
function withVersion(record: Uint8Array, version: number): Uint8Array {
  const r = new Uint8Array(record);
  r[0] = version;
  new DataView(r.buffer).setUint32(1, crc32(r.subarray(5)) >>> 0);
  return r;
}

describe('record codec', () => {
  it('round-trips entries, including conf changes with context bytes', () => {
    for (const e of [
      entry(1, 1),
      entry(Number.MAX_SAFE_INTEGER, 2 ** 40, new Uint8Array(0)),
      entry(7, 3, new Uint8Array(7_000).fill(5)),
      confEntry(9, 4, 'n4', '10.0.0.4:7004'),
      {
        ...confEntry(10, 4, 'n2', ''),
        change: { type: 'remove' as const, id: 'n2', context: bytes(0, 1, 2) },
      },
    ]) {
      expect(decodeEntry(encodeEntry(e))).toEqual(e);
    }
  });

  it('round-trips hard states, keeping a null vote distinct from an empty one', () => {
    for (const h of [hs(0, null, 0), hs(5, '', 3), hs(2 ** 50, 'node-ü', 2 ** 49)]) {
      expect(decodeHardState(encodeHardState(h))).toEqual(h);
    }
  });

  it('round-trips snapshots with their conf state', () => {
    const s = snap(100, 7, new Uint8Array(1000).fill(3));
    expect(decodeSnapshot(encodeSnapshot(s))).toEqual(s);
    const empty = {
      meta: { index: 0, term: 0, conf: { voters: [], learners: [] } },
      data: new Uint8Array(0),
    };
    expect(decodeSnapshot(encodeSnapshot(empty))).toEqual(empty);
    expect(decodeBlob(encodeBlob(bytes(1, 2, 3)))).toEqual(bytes(1, 2, 3));
  });

  it('starts every record with the format version and a CRC-32 of the payload', () => {
    const r = encodeEntry(entry(1, 1));
    expect(r[0]).toBe(RECORD_FORMAT);
    expect(new DataView(r.buffer).getUint32(1)).toBe(crc32(r.subarray(5)) >>> 0);
  });

  it('catches a mutated byte anywhere in a record', () => {
    const records = [
      encodeEntry(confEntry(42, 3, 'n4', 'x:1')),
      encodeHardState(hs(3, 'n1', 2)),
      encodeSnapshot(snap(9, 2)),
    ];
    const decoders = [decodeEntry, decodeHardState, decodeSnapshot] as const;
    records.forEach((record, which) => {
      for (let i = 0; i < record.length; i++) {
        for (const flip of [0x01, 0x80]) {
          const bad = new Uint8Array(record);
          bad[i]! ^= flip;
          expect(codecError(() => decoders[which]!(bad)).kind, `byte ${i}`).toMatch(
            /checksum|version|malformed/,
          );
        }
      }
    });
    const bad = new Uint8Array(records[0]!);
    bad[bad.length - 1]! ^= 1;
    expect(() => decodeEntry(bad)).toThrow('checksum mismatch');
  });

  it('refuses records of a newer format, saying so', () => {
    const r = withVersion(encodeEntry(entry(1, 1)), RECORD_FORMAT + 1);
    const err = codecError(() => decodeEntry(r));
    expect(err.kind).toBe('version');
    expect(err.version).toBe(RECORD_FORMAT + 1);
    expect(err.message).toBe(`written by a newer raftseq (record format ${RECORD_FORMAT + 1})`);
  });

  it('refuses truncated records and records of the wrong kind', () => {
    const r = encodeEntry(entry(1, 1));
    expect(codecError(() => decodeEntry(r.subarray(0, 3))).kind).toBe('truncated');
    expect(codecError(() => decodeEntry(new Uint8Array(0))).kind).toBe('truncated');
    // A short payload whose checksum was recomputed (a torn write cannot do
    // that, but a buggy writer could): the field framing still catches it.
    const short = r.slice(0, r.length - 2);
    new DataView(short.buffer).setUint32(1, crc32(short.subarray(5)) >>> 0);
    expect(codecError(() => decodeEntry(short)).kind).toBe('truncated');
    expect(() => decodeHardState(r)).toThrow(/expected hard state, found entry/);
  });
});
