// A consistent capture of the sequences for a backup, on the leader.
//
// Consistency is the read-index rule (Raft thesis §6.4, with the lease of
// §6.4.1, as etcd's linearizable reads): at the moment of the call this node
// leads, holds a valid lease (so no newer leader exists) and has applied its
// own term's no-op (so its commit index covers every entry committed by any
// earlier leader). Its commit index at that moment therefore covers every
// reservation committed before the call; the capture waits until the state
// machine has applied at least that far, then copies every sequence.
//
// The copy yields to the event loop every CHUNK sequences: a million of
// them take seconds to copy on a loaded machine, longer than an election
// timeout, and a leader that stops sending heartbeats that long is deposed.
// Entries applied meanwhile can only raise a sequence's reservation (it
// never shrinks), so each sequence is copied as of the read index or later:
// what a recovery needs, a bound on everything served before the call.
// `index` and `savedAtMs` are taken when the copy starts, the earlier, safe
// ends (an advance counts from savedAt).
//
// Values served after the copy come from reservations it may not hold;
// that is what a recovery's advance covers (src/backup/advance.ts).

import type { SnapshotSequence } from '../backup/format.js';
import type { Status } from '../raft/index.js';
import { NotLeaderError } from '../state/allocator.js';
import type { SequenceStateMachine } from '../state/machine.js';
import { sleepOn, TimeoutError, type Clock } from './runtime.js';

export interface SnapshotCapture {
  /** The applied index the copy was taken at (>= the commit index at the call). */
  index: number;
  /** The leader's term. */
  term: number;
  /** Wall-clock time of the copy, ms since the epoch. */
  savedAtMs: number;
  member: string;
  sequences: SnapshotSequence[];
}

export interface CaptureDeps {
  status(): Status;
  sm: SequenceStateMachine;
  leaseValid(): boolean;
  /** Values per second a sequence's reservation grows at (the best this node knows). */
  rate(sequence: string): number;
  clock: Clock;
}

/** How long the capture waits for the state machine to apply up to the read index. */
const APPLY_WAIT_MS = 5_000;
/** Sequences copied between two yields to the event loop. */
const CHUNK = 20_000;

export async function captureSnapshot(d: CaptureDeps): Promise<SnapshotCapture> {
  const st = d.status();
  if (st.role !== 'leader') throw new NotLeaderError('not-leader');
  if (d.sm.lastNoopTerm !== st.term) throw new NotLeaderError('not-leader'); // no-op not applied yet
  if (!d.leaseValid()) throw new NotLeaderError('not-leader');
  const readIndex = st.commit;
  const deadline = d.clock.now() + APPLY_WAIT_MS;
  while (d.sm.lastApplied < readIndex) {
    if (d.clock.now() > deadline)
      throw new TimeoutError('applying up to the read index', APPLY_WAIT_MS);
    await sleepOn(d.clock, 1);
  }
  const index = d.sm.lastApplied;
  const savedAtMs = d.clock.wallNow();
  const sequences: SnapshotSequence[] = [];
  let i = 0;
  for (const s of d.sm.sequences()) {
    if (++i % CHUNK === 0) await sleepOn(d.clock, 0);
    // start - 1 <= reserved always holds (an advance raises both); the max
    // keeps the file safe even if that rule ever changed.
    const top = s.start - 1n > s.reserved ? s.start - 1n : s.reserved;
    sequences.push({ name: s.sequence, reserved: top, rate: d.rate(s.sequence) });
  }
  return {
    index,
    term: st.term,
    savedAtMs,
    member: st.id,
    sequences,
  };
}
