// Cheap 32-bit hashing for the simulator's checkers: entry contents, log
// prefixes (for log matching in O(1) per entry) and application state.

import type { Entry } from '../../src/raft/types.js';

export function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x | 0), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

export function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, s.length);
}

/** Hash of an entry's contents (term, type, payload, membership change), not its index. */
export function entryHash(e: Entry): number {
  let h = mix(0x2545f491, e.term);
  h = mix(h, e.type === 'conf' ? 1 : 0);
  const d = e.data;
  for (let i = 0; i < d.length; i++) h = mix(h, d[i] as number);
  h = mix(h, d.length);
  if (e.change !== undefined) {
    h = mixString(h, e.change.type);
    h = mixString(h, e.change.id);
  }
  return h;
}

/** Hash of a log prefix ending at `e`, given the hash of the prefix before it. */
export function prefixHash(prev: number, e: Entry, eh: number): number {
  return mix(mix(prev, e.index), eh);
}
