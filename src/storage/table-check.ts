// Verifies every LevelDB table (*.ldb, *.sst) of a data directory before the
// engine opens it. classic-level does not expose LevelDB's verify_checksums
// or paranoid_checks, so the engine reads table blocks without checking
// their CRCs: a flipped bit in a key or a block's structure surfaces as an
// error without a file name, or aborts the process inside LevelDB (an
// assertion on a malformed key). Values are covered by raftseq's own record
// checksums (codec.ts); this covers the rest of every table file.
//
// A table is a chain of blocks, each followed by a 5-byte trailer (type:
// 0 raw or 1 snappy; masked CRC-32C of the block's bytes and the type), then
// a 48-byte footer naming the metaindex and index blocks (varint offset and
// size) and ending in a magic number. Block boundaries are found from the
// checksums themselves: walking from a block's first byte, the block ends
// where the running CRC matches the trailer that follows (a false match has
// a chance of 2^-32 per byte), so no block needs to be decompressed or
// parsed. The footer must name the last two blocks exactly. Every byte of
// the file is then either checksummed, a trailer, or the checked footer
// (save its padding, which LevelDB never reads).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const FOOTER_BYTES = 48;
const TRAILER_BYTES = 5;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const MASK_DELTA = 0xa282ead8;

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** What LevelDB stores in a trailer for a block whose CRC-32C (finalized) is `crc`. */
function masked(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** A table file that fails the check: where, and why. */
export interface TableProblem {
  file: string;
  offset: number;
  reason: string;
}

interface Block {
  offset: number;
  size: number;
}

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return Number.isSafeInteger(value) ? { value, next: i + 1 } : null;
    scale *= 128;
  }
  return null;
}

/** The blocks of `buf` (a table without its footer), or the offset of the first bad one. */
function blockChain(buf: Uint8Array, end: number): Block[] | number {
  const blocks: Block[] = [];
  let start = 0;
  while (start < end) {
    let c = 0xffffffff;
    let found = -1;
    for (let i = start; i + TRAILER_BYTES <= end; i++) {
      const b = buf[i]!;
      c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
      // buf[i] is a candidate type byte: the block would be buf[start, i).
      if (b > 1) continue;
      const stored =
        (buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24)) >>> 0;
      if (masked((c ^ 0xffffffff) >>> 0) === stored) {
        found = i;
        break;
      }
    }
    if (found < 0) return start;
    blocks.push({ offset: start, size: found - start });
    start = found + TRAILER_BYTES;
  }
  return blocks;
}

/** Null if the table in `buf` is intact, else where and why not. */
export function checkTable(file: string, buf: Uint8Array): TableProblem | null {
  if (buf.length < FOOTER_BYTES) {
    return { file, offset: 0, reason: `${buf.length} bytes is shorter than a table footer` };
  }
  const end = buf.length - FOOTER_BYTES;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (
    dv.getUint32(buf.length - 8, true) !== MAGIC_LO ||
    dv.getUint32(buf.length - 4, true) !== MAGIC_HI
  ) {
    return { file, offset: buf.length - 8, reason: 'the table footer has no magic number' };
  }
  const handles: Block[] = [];
  let at = end;
  for (let k = 0; k < 2; k++) {
    const offset = readVarint(buf, at);
    const size = offset && readVarint(buf, offset.next);
    if (!offset || !size) return { file, offset: at, reason: 'the table footer is unreadable' };
    handles.push({ offset: offset.value, size: size.value });
    at = size.next;
  }
  const chain = blockChain(buf, end);
  if (typeof chain === 'number') {
    return { file, offset: chain, reason: 'the block there fails its checksum' };
  }
  const [metaindex, index] = handles as [Block, Block];
  const last = chain.slice(-2);
  const same = (a: Block | undefined, b: Block): boolean =>
    a?.offset === b.offset && a.size === b.size;
  if (last.length !== 2 || !same(last[0], metaindex) || !same(last[1], index)) {
    return { file, offset: end, reason: 'the table footer does not name its last two blocks' };
  }
  return null;
}

/** The first damaged table in LevelDB directory `levelDir`, or null. */
export function checkTables(levelDir: string): TableProblem | null {
  let names: string[];
  try {
    names = readdirSync(levelDir);
  } catch {
    return null; // no engine directory yet: a new data directory
  }
  for (const name of names.filter((n) => n.endsWith('.ldb') || n.endsWith('.sst')).sort()) {
    const file = join(levelDir, name);
    const problem = checkTable(file, readFileSync(file));
    if (problem !== null) return problem;
  }
  return null;
}
