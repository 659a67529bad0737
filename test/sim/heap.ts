// A binary min-heap of timed events, ordered by (time, insertion sequence) so
// that events at the same simulated instant run in the order they were
// scheduled: the simulation stays deterministic.

export interface Timed {
  time: number;
  seq: number;
}

/** Omit that distributes over a union of event types. */
export type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

export class EventHeap<T extends Timed> {
  private readonly items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(ev: Unsequenced<T>): void {
    const e = ev as unknown as T;
    e.seq = this.nextSeq++;
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i] as T, a[p] as T)) break;
      const t = a[i] as T;
      a[i] = a[p] as T;
      a[p] = t;
      i = p;
    }
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0] as T;
    const last = a.pop() as T;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && less(a[l] as T, a[m] as T)) m = l;
        if (r < n && less(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        const t = a[i] as T;
        a[i] = a[m] as T;
        a[m] = t;
        i = m;
      }
    }
    return top;
  }
}

function less(a: Timed, b: Timed): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
