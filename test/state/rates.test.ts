// The reservation growth rate every node measures for recovery.
import { describe, expect, it } from 'vitest';
import { NameTable } from '../../src/state/names.js';
import { ReservationRates } from '../../src/state/rates.js';

/** A stand-in for the state machine's names: every name asked about exists. */
function namesOf(...names: string[]): { table: NameTable; sequenceNames: () => NameTable } {
  const src = { table: new NameTable(), sequenceNames: () => src.table };
  for (const n of names) src.table.intern(n);
  return src;
}

describe('ReservationRates', () => {
  it('follows the growth of the reservation, in values per second', () => {
    let now = 0;
    const r = new ReservationRates(namesOf('a'), () => now, 60_000);
    r.observe('a', 100n); // first sight: no rate yet
    expect(r.rate('a')).toBe(0);
    for (let i = 1; i <= 100; i++) {
      now += 2000;
      r.observe('a', 100n + BigInt(i) * 2000n); // 2,000 values every 2 s
    }
    expect(r.rate('a')).toBeCloseTo(1000, 6);
  });

  it('never decays while idle, and ignores a reservation that did not grow', () => {
    let now = 0;
    const r = new ReservationRates(namesOf('a'), () => now, 60_000);
    r.observe('a', 0n);
    now += 1000;
    r.observe('a', 500n);
    now += 3_600_000;
    r.observe('a', 500n);
    expect(r.rate('a')).toBe(500);
    expect(r.rate('never-seen')).toBe(0);
  });

  it('moves toward a new rate with the time constant', () => {
    let now = 0;
    const r = new ReservationRates(namesOf('a'), () => now, 60_000);
    r.observe('a', 0n);
    now += 1000;
    r.observe('a', 100n); // 100/s
    now += 60_000;
    r.observe('a', 100n + 600_000n); // 10,000/s over one time constant
    const alpha = 1 - Math.exp(-1);
    expect(r.rate('a')).toBeCloseTo(100 + alpha * (10_000 - 100), 6);
  });

  it('keeps each rate with its name when a load() gives the names other ids', () => {
    let now = 0;
    const src = namesOf('a', 'b', 'c');
    const r = new ReservationRates(src, () => now, 60_000);
    r.observe('a', 10n);
    r.observe('c', 10n);
    now += 1000;
    r.observe('a', 110n); // 100/s
    r.observe('c', 1010n); // 1,000/s
    // A snapshot installed: the same names and a new one, in another order.
    src.table = new NameTable();
    for (const n of ['d', 'c', 'b', 'a']) src.table.intern(n);
    expect(r.rate('a')).toBe(100);
    expect(r.rate('c')).toBe(1000);
    expect(r.rate('b')).toBe(0);
    expect(r.rate('d')).toBe(0);
    expect(r.size).toBe(2);
    // Growth after the load continues from what was seen before it.
    now += 1000;
    r.observe('a', 210n);
    expect(r.rate('a')).toBeCloseTo(100, 9);
    r.observe('d', 5n); // first sight of a new one
    now += 1000;
    r.observe('d', 505n);
    expect(r.rate('d')).toBe(500);
    expect([...r.entries()].map((e) => [e.name, e.rate])).toEqual([
      ['d', 500],
      ['c', 1000],
      ['a', expect.closeTo(100, 9) as number],
    ]);
  });

  it('ignores a name the state machine does not have', () => {
    const r = new ReservationRates(namesOf('a'), () => 0, 60_000);
    r.observe('zz', 10n);
    expect(r.size).toBe(0);
    expect(r.rate('zz')).toBe(0);
    expect([...r.entries()]).toEqual([]);
  });
});
