import { describe, expect, it } from 'vitest';
import { MAX_NAME_BYTES, NameTable } from '../../src/state/names.js';

describe('NameTable', () => {
  it('gives dense ids in first-seen order and finds them again', () => {
    const t = new NameTable();
    expect(t.find('a')).toBe(-1);
    expect(t.intern('a')).toBe(0);
    expect(t.intern('b')).toBe(1);
    expect(t.intern('a')).toBe(0);
    expect(t.find('b')).toBe(1);
    expect(t.find('c')).toBe(-1);
    expect(t.size).toBe(2);
    expect(t.name(1)).toBe('b');
  });

  it('keeps every name through many growths of the index, arena and hash table', () => {
    const t = new NameTable(1, 1);
    const names = Array.from({ length: 50_000 }, (_, i) => `tenant-${i % 7}/s-${i}`);
    names.forEach((n, i) => expect(t.intern(n)).toBe(i));
    expect(t.size).toBe(names.length);
    for (let i = 0; i < names.length; i += 997) {
      expect(t.find(names[i]!)).toBe(i);
      expect(t.name(i)).toBe(names[i]);
    }
    expect(t.find('tenant-0/s-50000')).toBe(-1);
  });

  it('holds names byte-exactly: non-ASCII, a leading BOM, the empty name', () => {
    const t = new NameTable();
    const names = ['zürich', '\uFEFFbom', '', '日本/順序', '😀'];
    for (const n of names) t.intern(n);
    names.forEach((n, i) => {
      expect(t.name(i)).toBe(n);
      expect(Buffer.from(t.bytes(i))).toEqual(Buffer.from(n, 'utf8'));
      expect(t.find(n)).toBe(i);
    });
    // A name given as bytes is the same name as its string.
    expect(t.internBytes(new TextEncoder().encode('zürich'))).toBe(0);
    expect(t.internBytes(new TextEncoder().encode('new'))).toBe(names.length);
    expect(t.find('new')).toBe(names.length);
  });

  it('refuses a name longer than the codecs can store', () => {
    const t = new NameTable();
    expect(() => t.intern('x'.repeat(MAX_NAME_BYTES + 1))).toThrow(RangeError);
    expect(t.size).toBe(0);
    expect(t.intern('x'.repeat(MAX_NAME_BYTES))).toBe(0);
  });
});
