// The simulated application: a tiny reservation state machine. Each normal
// entry with a payload reserves the next block of BLOCK values; the state is
// (applied index, running hash of everything applied, reservations, next value).
// Idempotent by index: the node refuses to apply an index twice.

import type { Entry, Snapshot } from '../../src/raft/types.js';
import { entryHash, mix } from './hash.js';

export const BLOCK = 10;

export interface AppState {
  applied: number;
  hash: number;
  reservations: number;
  next: number;
}

export function initialApp(): AppState {
  return { applied: 0, hash: 0, reservations: 0, next: 1 };
}

export function applyEntry(app: AppState, e: Entry): void {
  app.applied = e.index;
  app.hash = mix(mix(app.hash, e.index), entryHash(e));
  if (e.type === 'normal' && e.data.length > 0) {
    app.reservations++;
    app.next += BLOCK;
  }
}

export function encodeApp(app: AppState): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, app.applied, true);
  v.setUint32(4, app.hash, true);
  v.setUint32(8, app.reservations, true);
  v.setUint32(12, app.next, true);
  return out;
}

/** The app state a snapshot holds. An empty payload is the pristine state. */
export function decodeApp(s: Snapshot): AppState {
  const d = s.data;
  if (d.length === 0) return { ...initialApp(), applied: s.meta.index };
  if (d.length !== 16) throw new Error(`snapshot data of ${d.length} bytes`);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return {
    // The bootstrap snapshot's payload was encoded before its index was known.
    applied: s.meta.index,
    hash: v.getUint32(4, true),
    reservations: v.getUint32(8, true),
    next: v.getUint32(12, true),
  };
}

/** A client payload: 4 bytes of a counter. */
export function clientPayload(n: number): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = n & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = (n >>> 16) & 0xff;
  out[3] = n >>> 24;
  return out;
}

export function payloadValue(d: Uint8Array): number {
  return d.length === 4 ? new DataView(d.buffer, d.byteOffset, 4).getUint32(0, true) : -1;
}
