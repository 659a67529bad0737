// Snapshot compression (wire format 2): a snapshot is mostly sequence names
// and counters, which deflate shrinks several times over, so a new or
// lagging member catches up sooner. zlib runs on libuv's thread pool, off the
// event loop: a large snapshot never stalls heartbeats or the lease.

import { promisify } from 'node:util';
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import type { SnapshotRequest } from '../raft/types.js';
import { CodecError } from './codec.js';

const deflateAsync = promisify(deflateRaw);
const inflateAsync = promisify(inflateRaw);

/** Snapshots smaller than this travel raw: compressing them saves nothing worth a round trip to the pool. */
export const DEFLATE_MIN_BYTES = 64 * 1024;

/** The snapshot data deflated at a fast level (the network, not the CPU, is what it saves). */
export async function deflateSnapshot(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await deflateAsync(data, { level: constants.Z_BEST_SPEED }));
}

/** `m` with its deflated data inflated; exactly `rawSize` bytes, or CodecError. */
export async function inflateSnapshot(
  m: SnapshotRequest,
  rawSize: number,
): Promise<SnapshotRequest> {
  let data: Buffer;
  try {
    data = await inflateAsync(m.snapshot.data, { maxOutputLength: Math.max(1, rawSize) });
  } catch (e) {
    throw new CodecError(`deflated snapshot does not inflate: ${(e as Error).message}`);
  }
  if (data.byteLength !== rawSize) {
    throw new CodecError(`snapshot inflated to ${data.byteLength} bytes, announced ${rawSize}`);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { ...m, snapshot: { ...m.snapshot, data: bytes } };
}
