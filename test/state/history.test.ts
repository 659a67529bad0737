import { describe, expect, it } from 'vitest';
import { HistoryTable } from '../../src/state/history.js';

describe('HistoryTable', () => {
  it('keeps at most its limit, and keeps what is used often', () => {
    const t = new HistoryTable(10);
    const hot = t.use('hot');
    hot.requests = 7;
    for (let i = 0; i < 1000; i++) {
      t.use(`cold-${i}`);
      if (i % 3 === 0) expect(t.use('hot')).toBe(hot);
      expect(t.size).toBeLessThanOrEqual(10);
    }
    expect(t.get('hot')!.requests).toBe(7);
    expect(t.get('cold-0')).toBeUndefined();
    expect(t.get('cold-999')).toBeDefined();
    const names = [...t.entries()].map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
  });
});
