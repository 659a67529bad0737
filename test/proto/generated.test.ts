// The committed protocol types (src/proto/generated) must be what the
// generator writes for today's .proto files: a field added to a .proto
// without `npm run proto` fails here rather than decoding untyped.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/proto/package-root.js';
import { API_PROTO_FILES, apiPackageDefinition, raftseqApi } from '../../src/proto/load.js';

const root = packageRoot();
const fresh = mkdtempSync(join(tmpdir(), 'raftseq-proto-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('generated protocol types', () => {
  it('are current: a fresh generation equals the committed files', () => {
    execFileSync(process.execPath, [join(root, 'scripts/proto-gen.mjs'), fresh], { cwd: root });
    const committed = files(join(root, 'src/proto/generated'));
    const generated = files(fresh);
    expect([...committed.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) expect(committed.get(name), name).toBe(text);
  });

  it('describe every service the one loader loads', () => {
    const def = apiPackageDefinition();
    // Services are the entries without a message `format`.
    const services = Object.keys(def).filter((k) => !('format' in (def[k] ?? {})));
    expect(services.sort()).toEqual([
      'raftseq.v1.Cluster',
      'raftseq.v1.Ops',
      'raftseq.v1.Sequencer',
    ]);
    const api = raftseqApi();
    expect(Object.keys(api.Sequencer.service).sort()).toEqual(['Next', 'NextStream']);
    expect(API_PROTO_FILES.length).toBe(3);
  });
});
