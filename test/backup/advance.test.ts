// The safe floor: reserved + 1 + the operator's advance, at least a block.
import { describe, expect, it } from 'vitest';
import {
  ADVANCE_REQUIRED,
  MIN_BLOCK,
  parseAdvance,
  recoveredNext,
  skipFor,
} from '../../src/backup/advance.js';
import { parseDuration } from '../../src/common/validate.js';

const MAX = 9223372036854775807n;

describe('recovery advance', () => {
  it('refuses to guess: no advance, both, zero, or nonsense', () => {
    expect(parseAdvance({})).toEqual({ ok: false, problem: ADVANCE_REQUIRED });
    expect(parseAdvance({ advanceBy: '5', advanceFor: '1h' }).ok).toBe(false);
    expect(parseAdvance({ advanceBy: '0' }).ok).toBe(false);
    expect(parseAdvance({ advanceBy: '-3' }).ok).toBe(false);
    expect(parseAdvance({ advanceFor: '5' }).ok).toBe(false); // unit required
    expect(parseAdvance({ advanceFor: '0s' }).ok).toBe(false);
  });

  it('--advance-by skips exactly N in every sequence', () => {
    const a = parseAdvance({ advanceBy: '1000' });
    expect(a).toEqual({ ok: true, value: { by: 1000n } });
    if (!a.ok) return;
    expect(recoveredNext(41n, skipFor(a.value, 0))).toBe(1042n);
    expect(recoveredNext(41n, skipFor(a.value, 1e6))).toBe(1042n);
  });

  it('--advance-for uses rate x duration, never less than one block', () => {
    const a = parseAdvance({ advanceFor: '2h' });
    expect(a).toEqual({ ok: true, value: { forMs: 7_200_000 } });
    if (!a.ok) return;
    expect(skipFor(a.value, 100)).toBe(720_000n);
    expect(skipFor(a.value, 0.0001)).toBe(BigInt(MIN_BLOCK)); // 0.72 values: one block instead
    expect(skipFor(a.value, 0)).toBe(BigInt(MIN_BLOCK));
    const short = parseAdvance({ advanceFor: '1s' });
    if (!short.ok) return;
    // 1 s at 10,000/s is 10,000, but one block at that rate is 2 s of it.
    expect(skipFor(short.value, 10_000)).toBe(20_000n);
  });

  it('caps at 2^63 (the sequence is then exhausted, never wraps)', () => {
    expect(recoveredNext(MAX - 5n, 100n)).toBe(MAX + 1n);
    expect(recoveredNext(MAX, 1n)).toBe(MAX + 1n);
  });

  it('durations: units, sums, bounds', () => {
    expect(parseDuration('90s', 1, 1e12)).toEqual({ ok: true, value: 90_000 });
    expect(parseDuration('1h30m', 1, 1e12)).toEqual({ ok: true, value: 5_400_000 });
    expect(parseDuration('500ms', 1, 1e12)).toEqual({ ok: true, value: 500 });
    expect(parseDuration('1.5h', 1, 1e12)).toEqual({ ok: true, value: 5_400_000 });
    expect(parseDuration('2d', 1, 1e12)).toEqual({ ok: true, value: 172_800_000 });
    expect(parseDuration('h', 1, 1e12).ok).toBe(false);
    expect(parseDuration('10x', 1, 1e12).ok).toBe(false);
    expect(parseDuration('1s', 60_000, 1e12).ok).toBe(false);
  });
});
