import { describe, expect, it } from 'vitest';
import { Cluster, dec, enc } from './harness.js';

describe('smoke', () => {
  it('elects a leader and replicates an entry', () => {
    const c = new Cluster(['n1', 'n2', 'n3']);
    c.elect('n1');
    const r = c.raft('n1').propose(enc('hello'));
    expect(r.ok).toBe(true);
    c.stabilize();
    c.tickAll(2);
    c.stabilize();
    for (const id of ['n1', 'n2', 'n3']) {
      const data = c
        .node(id)
        .applied.filter((e) => e.data.length > 0)
        .map((e) => dec(e.data));
      expect(data).toEqual(['hello']);
    }
    expect(c.raft('n1').lease()).not.toBeNull();
  });
});
