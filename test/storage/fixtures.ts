// Small builders for storage tests.

import type { Entry, HardState, Snapshot } from '../../src/raft/types.js';
import type { PersistBatch } from '../../src/storage/storage.js';

export const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

export function entry(index: number, term: number, data: Uint8Array = bytes(index & 0xff)): Entry {
  return { index, term, type: 'normal', data };
}

export function confEntry(index: number, term: number, id: string, addr: string): Entry {
  return {
    index,
    term,
    type: 'conf',
    data: new Uint8Array(0),
    change: { type: 'add-learner', id, context: new TextEncoder().encode(addr) },
  };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export const hs = (term: number, vote: string | null, commit: number): HardState => ({
  term,
  vote,
  commit,
});

export function snap(
  index: number,
  term: number,
  data: Uint8Array = bytes(0xaa, index & 0xff),
): Snapshot {
  return { meta: { index, term, conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } }, data };
}

export function batch(part: Partial<PersistBatch>): PersistBatch {
  return { snapshot: null, compacted: null, entries: [], hardState: null, ...part };
}

export const indexes = (es: readonly Entry[]): number[] => es.map((e) => e.index);
