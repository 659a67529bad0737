// Hand-rolled big-endian binary helpers (DataView) shared by the command codec
// and the snapshot codec. Readers check every length against the data and fail
// with DecodeError, never with a RangeError from deep inside DataView.

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MAX_NAME_BYTES = 0xffff;

/** Malformed bytes, or bytes from a format version this build does not know. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(16, initial));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  u64(v: bigint): void {
    if (v < 0n || v > MAX_U64) throw new RangeError(`u64 out of range: ${v}`);
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  /** Raw bytes, as they are. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** u16 byte length + UTF-8. */
  name(s: string): void {
    // At most 3 bytes per UTF-16 code unit.
    this.ensure(2 + s.length * 3);
    const { read, written } = utf8.encodeInto(s, this.buf.subarray(this.pos + 2));
    if (read !== s.length) throw new Error('internal: name buffer too small');
    if (written > MAX_NAME_BYTES) {
      throw new RangeError(`name is ${written} bytes; at most ${MAX_NAME_BYTES} fit`);
    }
    this.view.setUint16(this.pos, written);
    this.pos += 2 + written;
  }

  /** u16 byte length + the bytes of a name already in UTF-8. */
  nameBytes(b: Uint8Array): void {
    if (b.length > MAX_NAME_BYTES) {
      throw new RangeError(`name is ${b.length} bytes; at most ${MAX_NAME_BYTES} fit`);
    }
    this.ensure(2 + b.length);
    this.view.setUint16(this.pos, b.length);
    this.buf.set(b, this.pos + 2);
    this.pos += 2 + b.length;
  }

  /** The bytes written so far (a view, valid until the next write). */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * The bytes written. When the buffer is nearly full (a caller that sized
   * it well, like a snapshot of a million sequences) they are returned as a
   * view instead of copied; the writer must not be used after this.
   */
  finish(): Uint8Array {
    if (this.pos >= this.buf.length - (this.buf.length >> 4)) return this.buf.subarray(0, this.pos);
    return this.buf.slice(0, this.pos);
  }
}

export class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new DecodeError(
        `${this.what}: truncated (need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos})`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** The next `n` bytes (a view into the data). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Passes over `n` bytes read elsewhere. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  name(): string {
    const len = this.u16();
    this.need(len);
    const bytes = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return utf8Strict.decode(bytes);
    } catch {
      throw new DecodeError(`${this.what}: a name is not valid UTF-8`);
    }
  }

  /** A count of items that each take at least `minItemBytes`: refuse absurd counts early. */
  count(minItemBytes: number): number {
    const n = this.u32();
    if (n * minItemBytes > this.buf.length - this.pos) {
      throw new DecodeError(`${this.what}: item count ${n} exceeds the data`);
    }
    return n;
  }

  get offset(): number {
    return this.pos;
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new DecodeError(
        `${this.what}: ${this.buf.length - this.pos} unexpected trailing bytes`,
      );
    }
  }
}
