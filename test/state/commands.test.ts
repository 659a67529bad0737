import { describe, expect, it } from 'vitest';
import {
  COMMAND_FORMAT_VERSION,
  DecodeError,
  MAX_VALUE,
  decodeCommand,
  decodeMemberContext,
  encodeCommand,
  encodeMemberContext,
} from '../../src/state/commands.js';
import type { Command } from '../../src/state/commands.js';

describe('command codec', () => {
  const samples: Command[] = [
    {
      type: 'reserve',
      items: [
        { sequence: 'orders', upTo: 16n },
        { sequence: 'invoices/2024:eu-west.1', upTo: MAX_VALUE },
      ],
    },
    { type: 'handover', items: [{ sequence: 'orders', next: MAX_VALUE + 1n }] },
    { type: 'handover', items: [] },
    { type: 'resume' },
    { type: 'advance', sequence: 'ünïcode-ok-in-codec', to: 1000n },
  ];

  for (const cmd of samples) {
    it(`round-trips ${cmd.type}`, () => {
      const bytes = encodeCommand(cmd);
      expect(bytes[0]).toBe(COMMAND_FORMAT_VERSION);
      expect(decodeCommand(bytes)).toEqual(cmd);
    });
  }

  it('frames values as u64 big-endian and names as u16 length + UTF-8', () => {
    const bytes = encodeCommand({ type: 'advance', sequence: 'ab', to: 258n });
    expect([...bytes]).toEqual([1, 4, 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 1, 2]);
  });

  it('refuses an unknown format version with a clear error', () => {
    const bytes = encodeCommand({ type: 'resume' });
    bytes[0] = 9;
    expect(() => decodeCommand(bytes)).toThrow(DecodeError);
    expect(() => decodeCommand(bytes)).toThrow(/format version 9 is not supported/);
  });

  it('refuses empty data, unknown tags, truncation and trailing bytes', () => {
    expect(() => decodeCommand(new Uint8Array())).toThrow(/no-op/);
    expect(() => decodeCommand(new Uint8Array([1, 77]))).toThrow(/unknown command tag 77/);
    const ok = encodeCommand({ type: 'advance', sequence: 'abc', to: 5n });
    expect(() => decodeCommand(ok.subarray(0, ok.length - 1))).toThrow(/truncated/);
    const long = new Uint8Array(ok.length + 1);
    long.set(ok);
    expect(() => decodeCommand(long)).toThrow(/trailing/);
    // A huge item count with no data behind it is refused before allocating.
    expect(() => decodeCommand(new Uint8Array([1, 1, 0xff, 0xff, 0xff, 0xff]))).toThrow(/count/);
    // Invalid UTF-8 in a name.
    expect(() => decodeCommand(new Uint8Array([1, 4, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 1]))).toThrow(
      /UTF-8/,
    );
  });

  it('refuses to encode values the state machine would refuse', () => {
    expect(() =>
      encodeCommand({ type: 'reserve', items: [{ sequence: 'a', upTo: MAX_VALUE + 1n }] }),
    ).toThrow(RangeError);
    expect(() => encodeCommand({ type: 'reserve', items: [{ sequence: 'a', upTo: 0n }] })).toThrow(
      RangeError,
    );
    expect(() => encodeCommand({ type: 'reserve', items: [] })).toThrow(RangeError);
    expect(() => encodeCommand({ type: 'advance', sequence: 'a', to: 0n })).toThrow(RangeError);
    expect(() =>
      encodeCommand({ type: 'handover', items: [{ sequence: 'a', next: MAX_VALUE + 2n }] }),
    ).toThrow(RangeError);
    expect(() => encodeCommand({ type: 'advance', sequence: 'x'.repeat(70_000), to: 1n })).toThrow(
      /at most 65535/,
    );
  });

  it('member context round-trips and is versioned', () => {
    const bytes = encodeMemberContext({ address: '10.0.0.7:7001' });
    expect(decodeMemberContext(bytes)).toEqual({ address: '10.0.0.7:7001' });
    bytes[0] = 2;
    expect(() => decodeMemberContext(bytes)).toThrow(/member context version 2/);
  });
});
