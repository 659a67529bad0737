// The one validation module: each rule at its edges, and the messages the
// server, the client, the CLI and the config all show.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SEQUENCE_NAME_BYTES,
  MAX_SEQUENCE_VALUE,
  MAX_WIRE_COUNT,
  countFromWire,
  countProblem,
  hostPortProblem,
  listenAddressProblem,
  memberIdProblem,
  parseInteger,
  parseMilliseconds,
  parseSequenceValue,
  sequenceNameProblem,
  utf8Length,
} from '../../src/common/validate.js';
import { MAX_VALUE } from '../../src/state/commands.js';

describe('sequence names', () => {
  it('accepts 1..200 bytes of A-Z a-z 0-9 . _ : / -', () => {
    for (const name of ['a', 'orders', 'invoices/2024', 'a-Z.0_:/b', 'x'.repeat(200)]) {
      expect(sequenceNameProblem(name)).toBeNull();
    }
  });

  it.each([
    ['', 'sequence name is empty'],
    ['x'.repeat(201), 'sequence name is 201 bytes; at most 200 are allowed'],
    ['a b', 'sequence name "a b" contains " "; allowed are A-Z a-z 0-9 . _ : / -'],
    ['é', 'sequence name "é" contains "é"; allowed are A-Z a-z 0-9 . _ : / -'],
    [42, 'sequence name must be a string, got 42'],
    [undefined, 'sequence name must be a string, got undefined'],
  ])('refuses %j: %s', (name, message) => {
    expect(sequenceNameProblem(name)).toBe(message);
  });

  it('measures the limit in UTF-8 bytes, not characters', () => {
    // 101 characters would be well within a limit counted in characters.
    expect(sequenceNameProblem('é'.repeat(101))).toMatch(/^sequence name is 202 bytes/);
    expect(MAX_SEQUENCE_NAME_BYTES).toBe(200);
  });

  it('counts UTF-8 bytes exactly as Node does', () => {
    // Code points from each UTF-8 length class alike (1, 2, 3 and 4 bytes; lone
    // surrogates included): a uniform pick would almost never draw 2-byte ones.
    const codePoint = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x7ff }),
      fc.integer({ min: 0x800, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    );
    fc.assert(
      fc.property(fc.string({ unit: codePoint.map((cp) => String.fromCodePoint(cp)) }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
    );
    // A lone surrogate is encoded as U+FFFD (3 bytes).
    expect(utf8Length('\ud800')).toBe(Buffer.byteLength('\ud800', 'utf8'));
  });
});

describe('counts', () => {
  it('accepts integers from 1 to the maximum', () => {
    expect(countProblem(1)).toBeNull();
    expect(countProblem(MAX_WIRE_COUNT)).toBeNull();
    expect(countProblem(100_000, 100_000)).toBeNull();
  });

  it.each([
    [0, 'count must be an integer from 1 to 4294967295, got 0'],
    [1.5, 'count must be an integer from 1 to 4294967295, got 1.5'],
    [-1, 'count must be an integer from 1 to 4294967295, got -1'],
    [2 ** 32, 'count must be an integer from 1 to 4294967295, got 4294967296'],
    ['3', 'count must be an integer from 1 to 4294967295, got 3'],
    [null, 'count must be an integer from 1 to 4294967295, got null'],
  ])('refuses %j', (count, message) => {
    expect(countProblem(count)).toBe(message);
  });

  it('names where a lower limit is configured', () => {
    expect(countProblem(100_001, 100_000, "the server's --max-count")).toBe(
      "count must be an integer from 1 to 100000 (the server's --max-count), got 100001",
    );
  });

  it('reads 0 on the wire as 1 (proto3 default), every other count as itself', () => {
    expect(countFromWire(0)).toBe(1);
    expect(countFromWire(1)).toBe(1);
    expect(countFromWire(7)).toBe(7);
  });
});

describe('sequence values', () => {
  it('is the state machine bound: 2^63-1', () => {
    expect(MAX_SEQUENCE_VALUE).toBe(9223372036854775807n);
    expect(MAX_SEQUENCE_VALUE).toBe(MAX_VALUE);
  });

  it.each([
    [1n, 1n],
    [1, 1n],
    ['42', 42n],
    [' 7 ', 7n],
    ['9223372036854775807', MAX_SEQUENCE_VALUE],
    [MAX_SEQUENCE_VALUE, MAX_SEQUENCE_VALUE],
  ])('parses %s exactly', (input, value) => {
    expect(parseSequenceValue(input)).toEqual({ ok: true, value });
  });

  it.each([
    [0n, '0'],
    ['0', '0'],
    ['9223372036854775808', '9223372036854775808'],
    [-3, '-3'],
    [2 ** 60, '1152921504606846976'], // not a safe integer: would not be exact
    ['1e3', '"1e3"'],
    ['', '""'],
    [null, 'null'],
  ])('refuses %s', (input, got) => {
    expect(parseSequenceValue(input)).toEqual({
      ok: false,
      problem: `value must be an integer from 1 to 9223372036854775807, got ${got}`,
    });
  });
});

describe('integers written as text', () => {
  it('parses decimal integers within the range', () => {
    expect(parseInteger('5', 'n', 1, 10)).toEqual({ ok: true, value: 5 });
    expect(parseInteger(' 10 ', 'n', 1, 10)).toEqual({ ok: true, value: 10 });
  });

  it.each([
    ['0', 'n must be an integer from 1 to 10, got 0'],
    ['11', 'n must be an integer from 1 to 10, got 11'],
    ['-5', 'n must be an integer from 1 to 10, got -5'],
    ['ten', 'n must be an integer from 1 to 10, got "ten"'],
    ['1.5', 'n must be an integer from 1 to 10, got 1.5'],
    ['0x5', 'n must be an integer from 1 to 10, got "0x5"'],
    ['', 'n must be an integer from 1 to 10, got ""'],
  ])('refuses %j', (text, problem) => {
    expect(parseInteger(text, 'n', 1, 10)).toEqual({ ok: false, problem });
  });

  it('refuses integers past 2^53 rather than rounding them', () => {
    expect(parseInteger('9007199254740993', 'n', 1, Number.MAX_VALUE).ok).toBe(false);
  });

  it('takes milliseconds from 1 ms to a day', () => {
    expect(parseMilliseconds('86400000')).toEqual({ ok: true, value: 86_400_000 });
    expect(parseMilliseconds('86400001')).toEqual({
      ok: false,
      problem: 'milliseconds must be an integer from 1 to 86400000, got 86400001',
    });
  });
});

describe('host:port', () => {
  it.each(['127.0.0.1:7001', 'localhost:1', 'node-1.example.com:65535', '[::1]:7001', 'h_1:80'])(
    'accepts %s',
    (address) => {
      expect(hostPortProblem(address)).toBeNull();
    },
  );

  it.each([
    ['', 'address is empty; expected host:port'],
    ['localhost', '"localhost" has no port; expected host:port'],
    ['::1:7001', '"::1:7001" is not host:port; write IPv6 addresses as [::1]:7001'],
    ['[::1:7', '"[::1:7" is not host:port'],
    ['h:', '"h:" is not host:port'],
    ['-h:1', '"-h:1" is not host:port'],
    ['h :1', '"h :1" is not host:port'],
    ['h:0', '"h:0": port must be 1..65535'],
    ['h:65536', '"h:65536": port must be 1..65535'],
    [7001, 'address must be a string, got 7001'],
  ])('refuses %j', (address, message) => {
    expect(hostPortProblem(address)).toBe(message);
  });

  it('allows port 0 (any free port) only in an address to listen on', () => {
    expect(listenAddressProblem('127.0.0.1:0')).toBeNull();
    expect(listenAddressProblem('[::1]:0')).toBeNull();
    expect(listenAddressProblem('127.0.0.1:7001')).toBeNull();
    expect(listenAddressProblem('h:65536')).toBe('"h:65536": port must be 0..65535');
    expect(listenAddressProblem('localhost')).toBe('"localhost" has no port; expected host:port');
  });
});

describe('member ids', () => {
  it.each(['n1', 'N', '0', 'node-1.eu_west', 'a'.repeat(64)])('accepts %s', (id) => {
    expect(memberIdProblem(id)).toBeNull();
  });

  it.each([
    ['', 'member id is empty'],
    [
      'n 1',
      'member id "n 1" must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
    ],
    [
      '-n1',
      'member id "-n1" must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit',
    ],
    [
      'a'.repeat(65),
      `member id "${'a'.repeat(65)}" must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`,
    ],
    [1, 'member id must be a string, got 1'],
  ])('refuses %j', (id, message) => {
    expect(memberIdProblem(id)).toBe(message);
  });
});
