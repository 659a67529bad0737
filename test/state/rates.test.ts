// The reservation growth rate every node measures for recovery.
import { describe, expect, it } from 'vitest';
import { ReservationRates } from '../../src/state/rates.js';

describe('ReservationRates', () => {
  it('follows the growth of the reservation, in values per second', () => {
    let now = 0;
    const r = new ReservationRates(() => now, 60_000);
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
    const r = new ReservationRates(() => now, 60_000);
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
    const r = new ReservationRates(() => now, 60_000);
    r.observe('a', 0n);
    now += 1000;
    r.observe('a', 100n); // 100/s
    now += 60_000;
    r.observe('a', 100n + 600_000n); // 10,000/s over one time constant
    const alpha = 1 - Math.exp(-1);
    expect(r.rate('a')).toBeCloseTo(100 + alpha * (10_000 - 100), 6);
  });
});
