import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallest } from '../../src/state/select.js';

const less = (a: string, b: string): boolean => a < b;

describe('smallest (a page of sequence names without sorting them all)', () => {
  it('equals sort-then-slice for any input and page size', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string()), fc.integer({ min: 0, max: 40 }), (names, k) => {
        const expected = [...names].sort().slice(0, k);
        expect(smallest(names, k, less)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('handles input in ascending and descending order', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `s${String(i).padStart(4, '0')}`);
    expect(smallest(names, 3, less)).toEqual(['s0000', 's0001', 's0002']);
    expect(smallest([...names].reverse(), 3, less)).toEqual(['s0000', 's0001', 's0002']);
  });
});
