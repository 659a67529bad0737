// A leader's next value per sequence for the sequences it served in its term
// and has nothing in flight for ("parked"), by the state machine's sequence
// id: 9 bytes a sequence, where an object and a Map entry per sequence cost
// well over 100. The allocator keeps busy sequences (a reservation in
// flight, requests waiting) in a Map and parks them here when they go idle.

export class CursorColumn {
  private values = new BigUint64Array(0);
  /** 1 where values[id] is a parked cursor. */
  private present = new Uint8Array(0);
  private count = 0;

  /** Number of parked cursors. */
  get size(): number {
    return this.count;
  }

  park(id: number, cursor: bigint): void {
    if (id >= this.values.length) this.grow(id + 1);
    if (this.present[id] === 0) this.count++;
    this.present[id] = 1;
    this.values[id] = cursor;
  }

  /** The parked cursor of `id`, removed from here, or undefined. */
  take(id: number): bigint | undefined {
    if (id < 0 || id >= this.present.length || this.present[id] === 0) return undefined;
    this.present[id] = 0;
    this.count--;
    return this.values[id];
  }

  /** The parked cursor of `id`, left in place, or undefined. */
  get(id: number): bigint | undefined {
    if (id < 0 || id >= this.present.length || this.present[id] === 0) return undefined;
    return this.values[id];
  }

  /** Every parked [id, cursor], in id order. */
  *entries(): IterableIterator<[number, bigint]> {
    for (let id = 0; id < this.present.length; id++) {
      if (this.present[id] === 1) yield [id, this.values[id]!];
    }
  }

  private grow(need: number): void {
    let n = Math.max(1024, this.values.length * 2);
    while (n < need) n *= 2;
    const values = new BigUint64Array(n);
    values.set(this.values);
    const present = new Uint8Array(n);
    present.set(this.present);
    this.values = values;
    this.present = present;
  }
}
