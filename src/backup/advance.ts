// The safe floor of a recovery: where each sequence starts in a new cluster
// made from a snapshot (restore) or from one surviving member
// (force-new-cluster).
//
// The recovered state knows every reservation up to some point; the lost
// cluster may have reserved (and served) more after it. Starting at
// reserved + 1 would hand those values out again. So every sequence starts
// at reserved + 1 + advance, where the operator chooses the advance:
//
//   --advance-by N        N values for every sequence;
//   --advance-for D       each sequence's recorded rate times D, and never
//                         less than one block (what one reservation of the
//                         sequence would have reserved at that rate), so even
//                         an idle or unmeasured sequence skips a block.
//
// There is deliberately no default: what to skip depends on how long the
// lost cluster ran past the snapshot, which only the operator knows.

import { MAX_SEQUENCE_VALUE, formatDuration, parseDuration } from '../common/validate.js';
import type { Parsed } from '../common/validate.js';

/**
 * `unsafe`: the hidden test-only recovery that skips nothing and (for
 * --force-new-cluster) trusts only the survivor's last snapshot, so that
 * jepsen-lite can show its checker catching what follows.
 */
export type Advance = { by: bigint; unsafe?: true } | { forMs: number };

/** The allocator's block bounds and target (src/state/allocator.ts defaults). */
export const BLOCK_TARGET_SECONDS = 2;
export const MIN_BLOCK = 16;
export const MAX_BLOCK = 1_000_000;

/** Longest --advance-for: a year (values are plentiful; this bounds typos). */
const MAX_ADVANCE_FOR_MS = 366 * 86_400_000;

/** Why there is no advance, and what to pass: the refusal every recovery path prints. */
export const ADVANCE_REQUIRED =
  'an advance is required: pass --advance-by N (values to skip in every sequence) or ' +
  '--advance-for DURATION (e.g. 2h: each sequence skips its recorded rate times that long, at least one block), ' +
  'covering everything the old cluster may have handed out after the state being recovered';

/** Parses the pair of options; exactly one must be given. */
export function parseAdvance(opts: { advanceBy?: string; advanceFor?: string }): Parsed<Advance> {
  if (opts.advanceBy !== undefined && opts.advanceFor !== undefined) {
    return { ok: false, problem: 'pass either --advance-by or --advance-for, not both' };
  }
  if (opts.advanceBy !== undefined) {
    const t = opts.advanceBy.trim();
    // 0 is refused like no advance at all: the old cluster served on after
    // any snapshot of it, and 0 hands those values out again.
    if (!/^[0-9]+$/.test(t) || BigInt(t) < 1n || BigInt(t) > MAX_SEQUENCE_VALUE) {
      return {
        ok: false,
        problem: `--advance-by ${JSON.stringify(opts.advanceBy)} must be an integer 1..${MAX_SEQUENCE_VALUE}`,
      };
    }
    return { ok: true, value: { by: BigInt(t) } };
  }
  if (opts.advanceFor !== undefined) {
    const d = parseDuration(opts.advanceFor, 1, MAX_ADVANCE_FOR_MS);
    if (!d.ok) return { ok: false, problem: `--advance-for: ${d.problem}` };
    return { ok: true, value: { forMs: d.value } };
  }
  return { ok: false, problem: ADVANCE_REQUIRED };
}

/** One block at `rate` values per second, as the allocator would size it. */
export function blockAt(rate: number): bigint {
  const want = Math.ceil(rate * BLOCK_TARGET_SECONDS);
  return BigInt(Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, Number.isFinite(want) ? want : MAX_BLOCK)));
}

/** How many values a sequence skips: the advance for its rate. */
export function skipFor(advance: Advance, rate: number): bigint {
  if ('by' in advance) return advance.by;
  const values = Math.ceil((rate * advance.forMs) / 1000);
  const byRate = Number.isFinite(values) ? BigInt(values) : MAX_SEQUENCE_VALUE;
  const block = blockAt(rate);
  return byRate > block ? byRate : block;
}

/**
 * The first value the new cluster may serve: reserved + 1 + skip, at most
 * MAX + 1 (the sequence is then exhausted: Next answers OUT_OF_RANGE).
 */
export function recoveredNext(reserved: bigint, skip: bigint): bigint {
  const next = reserved + 1n + skip;
  return next > MAX_SEQUENCE_VALUE + 1n ? MAX_SEQUENCE_VALUE + 1n : next;
}

/** How the advance reads in logs and CLI output. */
export function describeAdvance(advance: Advance): string {
  return 'by' in advance
    ? `--advance-by ${advance.by}`
    : `--advance-for ${formatDuration(advance.forMs)}`;
}
