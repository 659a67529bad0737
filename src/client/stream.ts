// A pool of raftseq.v1.Sequencer/NextStream bidi streams to one node. Calls
// are pipelined: many requests in flight per stream, matched to answers by
// id. grpc-js writes one syscall per message within a stream but coalesces
// across streams, so calls are spread over several streams (the least busy
// one, opening another while every open one has `perStream` in flight).
import type * as grpc from '@grpc/grpc-js';

/** One answer of NextStream, as decoded by the client's loader. */
export interface StreamAnswer {
  code: number;
  message: string;
  first: unknown;
  count: unknown;
  leader: string;
}

interface Pending {
  resolve: (a: StreamAnswer) => void;
  reject: (e: Error) => void;
}

interface OneStream {
  call: grpc.ClientDuplexStream<object, Record<string, unknown>>;
  pending: Map<string, Pending>;
  dead: boolean;
}

type StreamFactory = () => grpc.ClientDuplexStream<object, Record<string, unknown>>;

export class StreamPool {
  private readonly streams: OneStream[] = [];
  private nextId = 1;

  constructor(
    private readonly open: StreamFactory,
    private readonly maxStreams: number,
    private readonly perStream: number,
  ) {}

  /** Requests in flight over every stream of the pool. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.streams) n += s.pending.size;
    return n;
  }

  /**
   * Sends one request; resolves with its answer (whatever its code), rejects
   * with the stream's error (a grpc ServiceError when the stream ended with a
   * status) if the stream dies first, or on abort.
   */
  send(
    sequence: string,
    count: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamAnswer> {
    const s = this.pick();
    const id = String(this.nextId++);
    return new Promise<StreamAnswer>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      let onAbort: (() => void) | null = null;
      const settle = (): void => {
        s.pending.delete(id);
        if (timer !== null) clearTimeout(timer);
        if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
      };
      s.pending.set(id, {
        resolve: (a) => {
          settle();
          resolve(a);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      // A client-side bound too: a hung node (paused, black-holed) never answers.
      timer = setTimeout(
        () => s.pending.get(id)?.reject(new StreamTimeout(timeoutMs)),
        Math.max(1, timeoutMs) + 50,
      );
      if (signal !== undefined) {
        onAbort = () => s.pending.get(id)?.reject(new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
      }
      s.call.write({ id, sequence, count, timeout_ms: Math.max(1, Math.floor(timeoutMs)) });
    });
  }

  /** Ends every stream; requests in flight fail with `reason`. */
  close(reason: Error = new Error('stream pool closed')): void {
    for (const s of this.streams.splice(0)) this.kill(s, reason);
  }

  private pick(): OneStream {
    let best: OneStream | null = null;
    for (const s of this.streams) {
      if (best === null || s.pending.size < best.pending.size) best = s;
    }
    if (
      best !== null &&
      (best.pending.size < this.perStream || this.streams.length >= this.maxStreams)
    ) {
      return best;
    }
    return this.add();
  }

  private add(): OneStream {
    const call = this.open();
    const s: OneStream = { call, pending: new Map(), dead: false };
    call.on('data', (r: Record<string, unknown>) => {
      const p = s.pending.get(String(r.id));
      if (p === undefined) return; // timed out or aborted: the late answer is dropped
      p.resolve({
        code: Number(r.code ?? 0),
        message: String(r.message ?? ''),
        first: r.first,
        count: r.count,
        leader: String(r.leader ?? ''),
      });
    });
    call.on('error', (e: Error) => this.kill(s, e));
    call.on('end', () => this.kill(s, new Error('the server ended the stream')));
    // 'status' with OK after 'end': nothing more to do.
    this.streams.push(s);
    return s;
  }

  private kill(s: OneStream, reason: Error): void {
    if (!s.dead) {
      s.dead = true;
      const i = this.streams.indexOf(s);
      if (i >= 0) this.streams.splice(i, 1);
      try {
        s.call.cancel();
      } catch {
        // already gone
      }
    }
    for (const p of [...s.pending.values()]) p.reject(reason);
  }
}

/** No answer within the attempt timeout. */
export class StreamTimeout extends Error {
  override name = 'StreamTimeout';
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms)} ms`);
  }
}
