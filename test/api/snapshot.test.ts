// raftseq.v1.Cluster/SaveSnapshot's handler, in process: the file goes out
// in chunks that honour backpressure, the first one carrying what the file
// holds; a node that is not the leader redirects; any other failure is one
// clear UNAVAILABLE, logged.
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ApiNode } from '../../src/api/node-api.js';
import { SNAPSHOT_CHUNK_BYTES, saveSnapshotHandler } from '../../src/api/snapshot.js';
import { NotLeaderError } from '../../src/state/allocator.js';

interface Chunk {
  data: Buffer;
  total_bytes?: string;
  index?: string;
  term?: string;
  sequences?: string;
}

/** A server stream that refuses every other write until 'drain'. */
class FakeCall extends EventEmitter {
  cancelled = false;
  ended = false;
  chunks: Chunk[] = [];
  waitedForDrain = 0;
  write(chunk: Chunk): boolean {
    this.chunks.push(chunk);
    if (this.chunks.length % 2 === 1) {
      this.waitedForDrain++;
      setImmediate(() => this.emit('drain'));
      return false;
    }
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit('finished');
  }
}

function fakeNode(snapshotFile: () => Promise<unknown>, errors: string[] = []): ApiNode {
  return {
    snapshotFile,
    status: () => ({ role: 'follower' }),
    leaderAddress: () => '10.0.0.1:7001',
    log: { error: (_o: object, msg: string) => errors.push(msg) },
  } as unknown as ApiNode;
}

function run(node: ApiNode, call: FakeCall): Promise<grpc.StatusObject | null> {
  return new Promise((resolve) => {
    call.once('finished', () => resolve(null));
    call.once('error', (e: grpc.StatusObject) => resolve(e));
    saveSnapshotHandler(node)(call as unknown as grpc.ServerWritableStream<object, object>);
  });
}

describe('SaveSnapshot handler', () => {
  it('streams the file in chunks, the first saying what it holds, waiting on drain', async () => {
    const data = new Uint8Array(2 * SNAPSHOT_CHUNK_BYTES + 12345).map((_, i) => i % 251);
    const call = new FakeCall();
    const err = await run(
      fakeNode(async () => ({ data, index: 42, term: 3, sequences: 7 })),
      call,
    );
    expect(err).toBeNull();
    expect(call.ended).toBe(true);
    expect(call.chunks).toHaveLength(3);
    expect(call.chunks[0]).toMatchObject({
      total_bytes: String(data.length),
      index: '42',
      term: '3',
      sequences: '7',
    });
    expect(call.chunks[1]!.index).toBeUndefined();
    expect(Buffer.concat(call.chunks.map((c) => c.data)).equals(Buffer.from(data))).toBe(true);
    expect(call.waitedForDrain).toBe(2);
  });

  it('an empty file is still one chunk with its header', async () => {
    const call = new FakeCall();
    await run(
      fakeNode(async () => ({ data: new Uint8Array(0), index: 1, term: 1, sequences: 0 })),
      call,
    );
    expect(call.chunks).toHaveLength(1);
    expect(call.chunks[0]).toMatchObject({ total_bytes: '0', sequences: '0' });
  });

  it('a cancelled call stops sending', async () => {
    const call = new FakeCall();
    call.cancelled = true;
    const data = new Uint8Array(3 * SNAPSHOT_CHUNK_BYTES);
    saveSnapshotHandler(fakeNode(async () => ({ data, index: 1, term: 1, sequences: 0 })))(
      call as unknown as grpc.ServerWritableStream<object, object>,
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(call.chunks).toHaveLength(0);
    expect(call.ended).toBe(false);
  });

  it('a node that is not the leader answers UNAVAILABLE naming the leader', async () => {
    const err = await run(
      fakeNode(async () => {
        throw new NotLeaderError('not-leader');
      }),
      new FakeCall(),
    );
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.metadata?.get('raftseq-leader')).toEqual(['10.0.0.1:7001']);
  });

  it('any other failure is UNAVAILABLE with the reason, and logged', async () => {
    const errors: string[] = [];
    const err = await run(
      fakeNode(async () => {
        throw new Error('disk on fire');
      }, errors),
      new FakeCall(),
    );
    expect(err).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(err?.details).toMatch(/snapshot failed: disk on fire/);
    expect(errors).toEqual(['snapshot save failed']);
  });
});
