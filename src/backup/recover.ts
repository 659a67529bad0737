// The state a recovered cluster starts from, shared by `snapshot restore`
// (from a backup file) and `serve --force-new-cluster` (from a survivor's
// own data directory): every sequence advanced past everything the lost
// cluster may have handed out (advance.ts), a new cluster id, new members,
// and nothing else of the old cluster (members, hand-overs, epochs).
//
// How it is built: a fresh state machine of the new members applies one
// `reserve` entry (index 1, the bootstrap index) that reserves every
// sequence up to its recovered start - 1. The first leader's no-op then
// opens an epoch that starts each sequence at reserved + 1: exactly the
// recovered start, by the same rule as after any crash (machine.ts).

import { encodeCommand, type ReserveItem } from '../state/commands.js';
import { SequenceStateMachine } from '../state/machine.js';
import { BOOTSTRAP_INDEX } from '../raft/index.js';
import { recoveredNext, skipFor, type Advance } from './advance.js';

export interface RecoverInput {
  name: string;
  /** Highest reservation known: every value served from what is being recovered is <= it. */
  reserved: bigint;
  /** Values per second the reservation grew at (0 unknown). */
  rate: number;
}

export interface SkipSummary {
  sequences: number;
  /** Values skipped over all sequences (beyond reserved + 1), and the smallest and largest per sequence. */
  total: bigint;
  min: bigint;
  max: bigint;
}

export interface RecoveredState {
  /** The state machine snapshot of the new cluster (bootstrap data). */
  data: Uint8Array;
  skipped: SkipSummary;
}

export function recoveredState(
  sequences: Iterable<RecoverInput>,
  advance: Advance,
  members: ReadonlyMap<string, string>,
  clusterId: string,
): RecoveredState {
  const items: ReserveItem[] = [];
  const skipped: SkipSummary = { sequences: 0, total: 0n, min: -1n, max: 0n };
  for (const s of sequences) {
    const next = recoveredNext(s.reserved, skipFor(advance, s.rate));
    const skip = next - 1n - s.reserved;
    skipped.sequences++;
    skipped.total += skip;
    if (skipped.min < 0n || skip < skipped.min) skipped.min = skip;
    if (skip > skipped.max) skipped.max = skip;
    if (next > 1n) items.push({ sequence: s.name, upTo: next - 1n });
  }
  if (skipped.min < 0n) skipped.min = 0n;
  if (items.length === 0) {
    return {
      data: SequenceStateMachine.bootstrap(members, BOOTSTRAP_INDEX, clusterId).snapshot(),
      skipped,
    };
  }
  const sm = SequenceStateMachine.bootstrap(members, BOOTSTRAP_INDEX - 1, clusterId);
  sm.apply({
    index: BOOTSTRAP_INDEX,
    term: 1,
    type: 'normal',
    data: encodeCommand({ type: 'reserve', items }),
  });
  return { data: sm.snapshot(), skipped };
}
