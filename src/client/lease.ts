// Client leasing: ranges taken through Next, values handed out in-process.

import { GrpcStatus, RaftseqError } from './errors.js';

export interface LeaseOptions {
  /** Values taken per Next call (1 .. the server's max count). Default 1000. */
  blockSize?: number;
}

/** Counters of a lease. */
export interface LeaseStats {
  /** Values handed out by next()/tryNext(). */
  served: bigint;
  /** Values taken from the cluster but never handed out (counted on close). */
  skipped: bigint;
  /** Next calls made to the cluster. */
  ranges: number;
}

interface Range {
  next: bigint;
  end: bigint; // inclusive
}

/**
 * Values of one sequence handed out in-process from ranges this client took
 * with `Next(blockSize)`; obtained with `client.lease(name, { blockSize })`.
 *
 * **Weaker ordering, by design.** Every value is still unique across all
 * clients and the whole cluster (each comes from a range no one else
 * received). But real-time order across clients no longer holds: a value
 * handed out later by this lease may be smaller than one another client (or
 * another lease) already received, because this lease holds a range taken
 * earlier. Within one lease, values increase. Use `client.next()` where
 * values must increase in real time across clients.
 *
 * Values taken but not handed out when the lease closes are skipped (gaps,
 * never reissued) and counted in {@link LeaseStats.skipped}. The next range
 * is taken in the background once half of the current one is used, so
 * next() rarely waits for the network.
 */
export class SequenceLease {
  private readonly ranges: Range[] = [];
  private readonly waiters: { resolve: (v: bigint) => void; reject: (e: unknown) => void }[] = [];
  private fetching: Promise<void> | null = null;
  private closedFlag = false;
  /** Values of the ranges taken while open (served = received - held - dropped). */
  private received = 0n;
  /** Held values dropped by close(). */
  private dropped = 0n;
  private skipped = 0n;
  private rangesTaken = 0;
  /**
   * Values held, as a number: tryNext() is the hot path (a bigint operation
   * allocates), and at most two ranges of blockSize values are ever held.
   */
  private held = 0;

  /** @internal Use SequenceClient.lease(). */
  constructor(
    readonly sequence: string,
    readonly blockSize: number,
    private readonly take: (count: number) => Promise<{ first: bigint; count: number }>,
    private readonly onClose: (lease: SequenceLease) => void,
  ) {}

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  get stats(): LeaseStats {
    return {
      served: this.received - BigInt(this.held) - this.dropped,
      skipped: this.skipped,
      ranges: this.rangesTaken,
    };
  }

  /** Values held right now, not yet handed out. */
  get available(): bigint {
    return BigInt(this.held);
  }

  /**
   * The next value: at once while the lease holds values, otherwise after
   * the next range arrives. Rejects with the client's error if taking a
   * range fails, or CANCELLED once the lease is closed.
   */
  next(): Promise<bigint> {
    const v = this.tryNext();
    if (v !== undefined) return Promise.resolve(v);
    if (this.closedFlag) return Promise.reject(closedError());
    return new Promise<bigint>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.refill();
    });
  }

  /**
   * A value if the lease holds one right now (synchronous, no allocation of
   * a promise), else undefined — and a range is being taken in the background.
   */
  tryNext(): bigint | undefined {
    const r = this.ranges[0];
    if (r === undefined || this.closedFlag) {
      if (!this.closedFlag) this.refill();
      return undefined;
    }
    const v = r.next;
    if (v === r.end) this.ranges.shift();
    else r.next = v + 1n;
    this.held--;
    if (this.held * 2 < this.blockSize) this.refill();
    return v;
  }

  /**
   * Closes the lease: values held are skipped (and counted); waiters fail
   * with CANCELLED. Resolves to the number of values skipped by this lease.
   */
  async close(): Promise<bigint> {
    if (!this.closedFlag) {
      this.closedFlag = true;
      this.dropHeld();
      for (const w of this.waiters.splice(0)) w.reject(closedError());
      this.onClose(this);
    }
    if (this.fetching !== null) await this.fetching.catch(() => undefined); // its caller saw it
    return this.skipped;
  }

  private dropHeld(): void {
    this.dropped += BigInt(this.held);
    this.skipped += BigInt(this.held);
    this.held = 0;
    this.ranges.length = 0;
  }

  private refill(): void {
    if (this.fetching !== null || this.closedFlag) return;
    this.fetching = this.take(this.blockSize).then(
      (r) => {
        this.fetching = null;
        this.rangesTaken++;
        const count = BigInt(r.count);
        if (this.closedFlag) {
          this.skipped += count; // arrived after close: never handed out
          return;
        }
        this.ranges.push({ next: r.first, end: r.first + count - 1n });
        this.received += count;
        this.held += r.count;
        while (this.waiters.length > 0) {
          const v = this.tryNext();
          if (v === undefined) break;
          this.waiters.shift()!.resolve(v);
        }
        if (this.waiters.length > 0 || this.held * 2 < this.blockSize) this.refill();
      },
      (e: unknown) => {
        this.fetching = null;
        for (const w of this.waiters.splice(0)) w.reject(e);
      },
    );
  }
}

function closedError(): RaftseqError {
  return new RaftseqError(GrpcStatus.CANCELLED, 'the lease is closed');
}
