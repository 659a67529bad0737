// The state machine's per-sequence state as typed-array columns, indexed by
// the id its name has in a NameTable (see docs/architecture.md, "A million
// sequences").

import { NameTable } from './names.js';

/**
 * Per-sequence state, as columns indexed by the name's id in a NameTable: no
 * object, Map entry or heap bigint per sequence (about 50 bytes a sequence
 * in all, where an object per sequence in a Map took about 150; see the
 * 1M-sequence test for measurements).
 */
export class SeqColumns {
  readonly names: NameTable;
  /** Highest committed reservation (max of every upTo); 0n if none. */
  reserved: BigUint64Array;
  /** The start of the sequence in epoch `baseEpoch` (only read when baseEpoch === epoch). */
  base: BigUint64Array;
  baseEpoch: Float64Array;

  /** Room for `capacity` rows and `nameBytes` bytes of names before the first growth. */
  constructor(capacity = 64, nameBytes = 4096) {
    const n = Math.max(64, capacity);
    this.names = new NameTable(n, nameBytes);
    this.reserved = new BigUint64Array(n);
    this.base = new BigUint64Array(n);
    this.baseEpoch = new Float64Array(n);
  }

  get size(): number {
    return this.names.size;
  }

  /** Fills the row of a new id (reserved 0, base `base` in `epoch`), growing the columns. */
  add(id: number, base: bigint, epoch: number): void {
    if (id === this.reserved.length) {
      const grow = <T extends BigUint64Array | Float64Array>(a: T, b: T): T => {
        b.set(a as never);
        return b;
      };
      const n = this.reserved.length * 2;
      this.reserved = grow(this.reserved, new BigUint64Array(n));
      this.base = grow(this.base, new BigUint64Array(n));
      this.baseEpoch = grow(this.baseEpoch, new Float64Array(n));
    }
    this.reserved[id] = 0n;
    this.base[id] = base;
    this.baseEpoch[id] = epoch;
  }
}
