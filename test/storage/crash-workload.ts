// The crash conformance workload: a fixed sequence of writes whose state
// after any prefix is known, so a store killed in the middle of it can be
// checked against what it reported durable. Runs in the test process (for
// MemoryStorage, crashed in-process) or in child.ts (for LevelStorage,
// killed with kill -9). No vitest here: child.ts imports it.
//
// Persist j (j = 1, 2, ...) appends entries ends[j-1]+1 .. ends[j] (one to
// four of them, so a torn batch would show), sets the hard state's commit to
// ends[j], and every 20th one also compacts the log. After every 10th
// persist, setMeta(META_KEY) records j.

import type { RaftStorage } from '../../src/storage/storage.js';
import { batch, entries, hs, snap } from './fixtures.js';

export const MAX_PERSISTS = 5000;
export const META_KEY = 'crash-workload';

/** ends[j]: the last log index after persist j (ends[0] = 0). */
export const ends: readonly number[] = (() => {
  const out = [0];
  for (let j = 1; j <= MAX_PERSISTS; j++) out.push(out[j - 1]! + 1 + (j % 4));
  return out;
})();

/** The snapshot index after persist j: the latest compaction so far, or 0. */
export function compactedAt(j: number): number {
  const c = j - (j % 20);
  return c === 0 ? 0 : ends[c - 1]! - 5;
}

/** The write of persist j. */
export function persistCall(j: number) {
  const c = j % 20 === 0 ? snap(compactedAt(j), 1) : null;
  return [
    batch({
      compacted: c,
      entries: entries(ends[j - 1]! + 1, ends[j]!, 1),
      hardState: hs(1, 'n1', ends[j]!),
    }),
  ];
}

export function encodeMeta(j: number): Uint8Array {
  return new TextEncoder().encode(String(j));
}

export function decodeMeta(v: Uint8Array | null): number {
  return v === null ? 0 : Number(new TextDecoder().decode(v));
}

/** What the writer reported durable: the last persist and the last setMeta. */
export interface Durable {
  persists: number;
  meta: number;
}

/** One report line of the writer: "persist <j>" or "meta <j>". */
export type Report = `persist ${number}` | `meta ${number}`;

/** Applies a report line to `d`; false if the line is not one. */
export function noteReport(d: Durable, line: string): boolean {
  const m = /^(persist|meta) (\d+)$/.exec(line);
  if (m === null) return false;
  if (m[1] === 'persist') d.persists = Number(m[2]);
  else d.meta = Number(m[2]);
  return true;
}

/**
 * Runs the workload on a fresh store, reporting each write once it
 * resolved. Stops after MAX_PERSISTS, or never returns if the store is
 * crashed under it (its write then never settles).
 */
export async function runWorkload(s: RaftStorage, report: (r: Report) => void): Promise<void> {
  for (let j = 1; j <= MAX_PERSISTS; j++) {
    await s.persist(persistCall(j));
    report(`persist ${j}`);
    if (j % 10 === 0) {
      await s.setMeta(META_KEY, encodeMeta(j));
      report(`meta ${j}`);
    }
  }
}
