// Interned sequence names: a million names in a few typed arrays instead of a
// million JS strings and Map entries.
//
// Each name gets a dense id (0, 1, 2, ... in the order names are first seen,
// so walking ids walks insertion order, as a Map would). Its UTF-8 bytes live
// in one growing arena; an open-addressing hash table (linear probing, at most
// half full) maps bytes to ids. Per name that is the bytes themselves plus
// about 18 bytes of index, where a string key in a Map costs some 80 bytes on
// a 64-bit V8 heap. Names are never removed (sequences are never deleted).
//
// Lookups by JS string encode the string into a scratch buffer first; the
// last string looked up is remembered, because the allocator asks several
// questions about the same name in a row.

const utf8 = new TextEncoder();
// ignoreBOM: a name that starts with U+FEFF keeps it (the bytes are the name).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The largest name in bytes (the codecs store a u16 length). */
export const MAX_NAME_BYTES = 0xffff;

/** FNV-1a over bytes[from, from + len). */
function hashBytes(bytes: Uint8Array, from: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + len; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export class NameTable {
  private arena: Uint8Array;
  private arenaUsed = 0;
  private offsets: Uint32Array;
  private lengths: Uint16Array;
  private hashes: Uint32Array;
  /** id + 1 per slot, 0 = empty. Length is a power of two. */
  private slots: Int32Array;
  private count = 0;
  private scratch = new Uint8Array(256);
  private lastName: string | null = null;
  private lastId = -1;

  /** Room for `capacity` names and `arenaBytes` bytes of them before the first growth. */
  constructor(capacity = 64, arenaBytes = 4096) {
    const n = Math.max(16, capacity);
    this.arena = new Uint8Array(Math.max(64, arenaBytes));
    this.offsets = new Uint32Array(n);
    this.lengths = new Uint16Array(n);
    this.hashes = new Uint32Array(n);
    let slots = 32;
    while (slots < n * 2) slots *= 2;
    this.slots = new Int32Array(slots);
  }

  /** Number of names. */
  get size(): number {
    return this.count;
  }

  /** Bytes of UTF-8 held (for size estimates). */
  get byteLength(): number {
    return this.arenaUsed;
  }

  /** The id of `name`, or -1 if it was never interned. */
  find(name: string): number {
    if (name === this.lastName) return this.lastId;
    const len = this.encode(name);
    const id = this.lookup(this.scratch, 0, len, hashBytes(this.scratch, 0, len));
    if (id >= 0) this.remember(name, id);
    return id;
  }

  /** The id of `name`, adding it if new. Throws RangeError past MAX_NAME_BYTES. */
  intern(name: string): number {
    if (name === this.lastName) return this.lastId;
    const len = this.encode(name);
    const id = this.internRange(this.scratch, 0, len);
    this.remember(name, id);
    return id;
  }

  /** The id of the name whose UTF-8 bytes are `bytes` (the caller checked they are UTF-8). */
  internBytes(bytes: Uint8Array): number {
    return this.internRange(bytes, 0, bytes.length);
  }

  /** internBytes of bytes[from, from + len), without making a view of them. */
  internAt(bytes: Uint8Array, from: number, len: number): number {
    return this.internRange(bytes, from, len);
  }

  /** The name of `id` as a string (a new string on each call). */
  name(id: number): string {
    const off = this.offsets[id]!;
    return utf8Decoder.decode(this.arena.subarray(off, off + this.lengths[id]!));
  }

  /** The UTF-8 bytes of `id`: a view, valid until the next name is added. */
  bytes(id: number): Uint8Array {
    const off = this.offsets[id]!;
    return this.arena.subarray(off, off + this.lengths[id]!);
  }

  private remember(name: string, id: number): void {
    this.lastName = name;
    this.lastId = id;
  }

  /** UTF-8 of `name` into the scratch buffer; its length. */
  private encode(name: string): number {
    if (this.scratch.length < name.length * 3) {
      this.scratch = new Uint8Array(Math.max(name.length * 3, this.scratch.length * 2));
    }
    const { written } = utf8.encodeInto(name, this.scratch);
    if (written > MAX_NAME_BYTES) {
      throw new RangeError(`name is ${written} bytes; at most ${MAX_NAME_BYTES} fit`);
    }
    return written;
  }

  private lookup(bytes: Uint8Array, from: number, len: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      const id = v - 1;
      if (this.hashes[id] === hash && this.equal(id, bytes, from, len)) return id;
    }
  }

  private equal(id: number, bytes: Uint8Array, from: number, len: number): boolean {
    if (this.lengths[id] !== len) return false;
    const off = this.offsets[id]!;
    const a = this.arena;
    for (let i = 0; i < len; i++) if (a[off + i] !== bytes[from + i]) return false;
    return true;
  }

  private internRange(bytes: Uint8Array, from: number, len: number): number {
    const hash = hashBytes(bytes, from, len);
    const found = this.lookup(bytes, from, len, hash);
    if (found >= 0) return found;
    const id = this.count;
    if (id === this.offsets.length) this.growIndex();
    if (this.arenaUsed + len > this.arena.length) this.growArena(len);
    const arena = this.arena;
    const at = this.arenaUsed;
    // A loop beats a native set() for the short names sequences have.
    if (len <= 64) for (let i = 0; i < len; i++) arena[at + i] = bytes[from + i]!;
    else arena.set(bytes.subarray(from, from + len), at);
    this.offsets[id] = this.arenaUsed;
    this.lengths[id] = len;
    this.hashes[id] = hash;
    this.arenaUsed += len;
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(id);
    return id;
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashes[id]! & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = id + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let id = 0; id < this.count; id++) this.place(id);
  }

  private growIndex(): void {
    const n = this.offsets.length * 2;
    const grow = <T extends Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.offsets = grow(this.offsets, (k) => new Uint32Array(k));
    this.lengths = grow(this.lengths, (k) => new Uint16Array(k));
    this.hashes = grow(this.hashes, (k) => new Uint32Array(k));
  }

  private growArena(need: number): void {
    let n = this.arena.length * 2;
    while (n < this.arenaUsed + need) n *= 2;
    const b = new Uint8Array(n);
    b.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = b;
  }
}
