// raftseq.v1.Cluster/SaveSnapshot: the leader streams a backup file.
//
// The file is built whole on the leader (a million sequences make about
// 30 MB) and sent in chunks, honouring the stream's backpressure, so a slow
// client holds the buffer, not the event loop. A follower answers
// UNAVAILABLE with the leader's address, as every leader-only call does.

import * as grpc from '@grpc/grpc-js';
import { AllocatorError } from '../state/allocator.js';
import type { ApiNode } from './node-api.js';
import { notLeaderError, statusError } from './status.js';

/** Bytes of file per chunk: well under the message limit, big enough to be cheap. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

type Call = grpc.ServerWritableStream<object, object>;

export function saveSnapshotHandler(node: ApiNode): (call: Call) => void {
  return (call) => {
    stream(node, call).catch((err: unknown) => {
      call.emit('error', toStatus(node, err));
    });
  };
}

async function stream(node: ApiNode, call: Call): Promise<void> {
  const file = await node.snapshotFile();
  const data = file.data;
  for (let offset = 0; offset === 0 || offset < data.length; offset += SNAPSHOT_CHUNK_BYTES) {
    if (call.cancelled) return;
    const chunk: Record<string, unknown> = {
      data: Buffer.from(
        data.buffer,
        data.byteOffset + offset,
        Math.min(SNAPSHOT_CHUNK_BYTES, data.length - offset),
      ),
    };
    if (offset === 0) {
      Object.assign(chunk, {
        total_bytes: String(data.length),
        index: String(file.index),
        term: String(file.term),
        sequences: String(file.sequences),
      });
    }
    if (!call.write(chunk)) await new Promise<void>((resolve) => call.once('drain', resolve));
  }
  call.end();
}

function toStatus(node: ApiNode, err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof AllocatorError && err.code === 'UNAVAILABLE') {
    return notLeaderError(node.status().role === 'leader' ? null : node.leaderAddress());
  }
  node.log.error({ err: (err as Error)?.message }, 'snapshot save failed');
  return statusError(
    grpc.status.UNAVAILABLE,
    `snapshot failed: ${(err as Error)?.message ?? String(err)}`,
  );
}
