// The backup file: round trip, and every kind of damage refused with one line.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSnapshotFile, writeFileAtomic } from '../../src/backup/file.js';
import {
  SnapshotFileError,
  decodeSnapshotFile,
  encodeSnapshotFile,
  type SnapshotSequence,
} from '../../src/backup/format.js';
import { runCli } from '../support/cli-run.js';

const header = {
  clusterId: 'c0ffee',
  index: 1234,
  term: 7,
  savedAt: '2026-12-01T08:00:00.000Z',
  member: 'n1',
  version: '0.1.0',
};
const sequences: SnapshotSequence[] = [
  { name: 'orders', reserved: 9223372036854775807n, rate: 1234.5 },
  { name: 'invoices/2026', reserved: 17n, rate: 0 },
  { name: 'ü-not-ascii', reserved: 1n, rate: 0.25 },
];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'raftseq-snap-'));
}

describe('snapshot file format', () => {
  it('round-trips the header and every sequence exactly', () => {
    const data = encodeSnapshotFile(header, sequences);
    const back = decodeSnapshotFile(data);
    expect(back.header).toEqual({ ...header, format: 1, sequences: 3 });
    expect(back.sequences).toEqual(sequences);
  });

  it('refuses a flipped bit anywhere, a truncated file and a foreign file', () => {
    const data = encodeSnapshotFile(header, sequences);
    for (const at of [0, 9, 20, data.length - 40, data.length - 1]) {
      const bad = data.slice();
      bad[at]! ^= 0x10;
      expect(() => decodeSnapshotFile(bad)).toThrow(SnapshotFileError);
    }
    expect(() => decodeSnapshotFile(data.subarray(0, data.length - 1))).toThrow(/checksum/);
    expect(() => decodeSnapshotFile(data.subarray(0, 20))).toThrow(/truncated/);
    expect(() => decodeSnapshotFile(new TextEncoder().encode('x'.repeat(100)))).toThrow(/magic/);
  });

  it('writes atomically: no temporary file is left, the content is whole', async () => {
    const dir = tmp();
    const path = join(dir, 'b.snap');
    await writeFileAtomic(path, encodeSnapshotFile(header, sequences));
    await writeFileAtomic(path, encodeSnapshotFile({ ...header, index: 99 }, []));
    const { contents } = await readSnapshotFile(path);
    expect(contents.header.index).toBe(99);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).toEqual(['b.snap']);
  });
});

describe('raftseq snapshot status', () => {
  it('prints what the file holds, as text and as JSON', async () => {
    const path = join(tmp(), 'b.snap');
    await writeFileAtomic(path, encodeSnapshotFile(header, sequences));
    const text = await runCli(['snapshot', 'status', path]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/checksum\s+ok/);
    expect(text.stdout).toMatch(/index\s+1234/);
    const json = await runCli(['snapshot', 'status', path, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      clusterId: 'c0ffee',
      index: 1234,
      term: 7,
      savedAt: header.savedAt,
      sequences: 3,
      checksum: 'ok',
    });
  });

  it('refuses a corrupt or truncated file with one line naming it, exit 1', async () => {
    const path = join(tmp(), 'b.snap');
    await writeFileAtomic(path, encodeSnapshotFile(header, sequences));
    const data = readFileSync(path);
    data[30]! ^= 1;
    writeFileSync(path, data);
    const corrupt = await runCli(['snapshot', 'status', path]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);
    expect(corrupt.stderr).toContain(path);
    expect(corrupt.stderr).toMatch(/checksum mismatch/);
    writeFileSync(path, data.subarray(0, 25));
    const short = await runCli(['snapshot', 'status', path, '--json']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/truncated/);
    const missing = await runCli(['snapshot', 'status', path + '.nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  });
});
