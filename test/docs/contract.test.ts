// docs/contract.md is the repository's copy of the external contract. Where
// the original (../shared/CONTRACT.md beside the checkout) exists, the copy
// must hold it verbatim, so that the two cannot drift apart unnoticed.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const ORIGINAL = join(ROOT, '..', 'shared', 'CONTRACT.md');
const COPY = join(ROOT, 'docs', 'contract.md');

describe('docs/contract.md', () => {
  it('is the contract, with its pinned sections', () => {
    const copy = readFileSync(COPY, 'utf8');
    for (const heading of ['## Guarantees (the product)', '## Security (pinned names)']) {
      expect(copy).toContain(heading);
    }
  });

  it.skipIf(!existsSync(ORIGINAL))('holds ../shared/CONTRACT.md verbatim', () => {
    const copy = readFileSync(COPY, 'utf8');
    const original = readFileSync(ORIGINAL, 'utf8');
    expect(copy.endsWith(original), 'docs/contract.md differs from ../shared/CONTRACT.md').toBe(
      true,
    );
  });
});
