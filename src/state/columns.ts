// The state machine's per-sequence state as typed-array columns, indexed by
// the id its name has in a NameTable (see docs/architecture.md, "A million
// sequences").

import { isUtf8 } from 'node:buffer';
import { DecodeError } from './binary.js';
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
  /** `reserved` and `base` as 32-bit words (low word first on a little-endian host). */
  private reservedWords: Uint32Array;
  private baseWords: Uint32Array;

  /** Room for `capacity` rows and `nameBytes` bytes of names before the first growth. */
  constructor(capacity = 64, nameBytes = 4096) {
    const n = Math.max(64, capacity);
    this.names = new NameTable(n, nameBytes);
    this.reserved = new BigUint64Array(n);
    this.base = new BigUint64Array(n);
    this.baseEpoch = new Float64Array(n);
    this.reservedWords = new Uint32Array(this.reserved.buffer);
    this.baseWords = new Uint32Array(this.base.buffer);
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
      this.reservedWords = new Uint32Array(this.reserved.buffer);
      this.baseWords = new Uint32Array(this.base.buffer);
    }
    this.reserved[id] = 0n;
    this.base[id] = base;
    this.baseEpoch[id] = epoch;
  }

  /**
   * Sets `reserved` and `base` of an existing row from the 32-bit halves of
   * each, with no BigInt made (a snapshot's million rows). Only for a
   * little-endian host, where a u64's low word comes first in memory.
   */
  setWords(
    id: number,
    reservedHi: number,
    reservedLo: number,
    baseHi: number,
    baseLo: number,
  ): void {
    const w = id * 2;
    this.reservedWords[w] = reservedLo;
    this.reservedWords[w + 1] = reservedHi;
    this.baseWords[w] = baseLo;
    this.baseWords[w + 1] = baseHi;
  }
}

/** Whether typed arrays hold numbers little-endian (every platform Node runs on but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads a snapshot's `count` sequence rows (machine.ts: name, u64 reserved,
 * u8 flags, [u64 base if flags & 1], big-endian) from body[at..] into
 * `seqs`, rows fixed in `epoch`; returns the bytes read. The hot loop of a restart (a million rows): it
 * reads the bytes in place, with no view, string or BigInt per row. A u64
 * is copied as two 32-bit words into the column's memory, so a column
 * written this way holds the same values as one written through BigInts.
 */
export function readSequenceRows(
  body: Uint8Array,
  at: number,
  count: number,
  epoch: number,
  seqs: SeqColumns,
): number {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.length;
  const truncated = (need: number, pos: number): DecodeError =>
    new DecodeError(`snapshot: truncated (need ${need} bytes at offset ${pos}, have ${end - pos})`);
  let pos = at;
  for (let n = count; n > 0; n--) {
    if (pos + 2 > end) throw truncated(2, pos);
    const len = view.getUint16(pos);
    const from = pos + 2;
    // name, u64 reserved, u8 flags
    if (from + len + 9 > end) throw truncated(len + 9, from);
    let ascii = true;
    for (let i = from; i < from + len; i++) {
      if (body[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii && !isUtf8(body.subarray(from, from + len))) {
      throw new DecodeError('snapshot: a name is not valid UTF-8');
    }
    pos = from + len;
    const rHi = view.getUint32(pos);
    const rLo = view.getUint32(pos + 4);
    const fixed = (body[pos + 8]! & 1) === 1;
    pos += 9;
    let bHi = 0;
    let bLo = 0;
    if (fixed) {
      if (pos + 8 > end) throw truncated(8, pos);
      bHi = view.getUint32(pos);
      bLo = view.getUint32(pos + 4);
      pos += 8;
    }
    const known = seqs.size;
    const id = seqs.names.internAt(body, from, len);
    // (A repeated name, which no correct writer produces, keeps its last row, as a Map would.)
    if (id === known) seqs.add(id, 0n, 0);
    if (LITTLE_ENDIAN) {
      seqs.setWords(id, rHi, rLo, bHi, bLo);
    } else {
      seqs.reserved[id] = (BigInt(rHi) << 32n) | BigInt(rLo);
      seqs.base[id] = (BigInt(bHi) << 32n) | BigInt(bLo);
    }
    seqs.baseEpoch[id] = fixed ? epoch : -1;
  }
  return pos - at;
}
