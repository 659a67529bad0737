// The replicated sequence state machine.
//
// Every node applies the same committed Raft entries in the same order to its
// own SequenceStateMachine and therefore holds the same state. Deterministic,
// no I/O, no clock; apply() is idempotent per index.
//
// ## Why no value is served twice across leader changes
//
// A leader serves a sequence only from values it reserved through the log
// ("durable before served"), starting at the *start* the state machine computes
// for its term. Leaders are separated by their no-op entries (the Raft core
// writes an empty normal entry at the start of every term); each no-op with a
// higher term than the previous one opens a new *epoch*. For a sequence S:
//
//   start(S, epoch e) = exactNext_e(S)  if the previous leader handed S over,
//                     = reserved(S) + 1 otherwise,
//   both evaluated as of the no-op that opened epoch e.
//
// * Crash (no handover). Every value an earlier leader served came from a
//   reservation that was committed before that leader served it, and every
//   committed entry precedes the new leader's no-op in the log (Leader
//   Completeness, §5.4). So reserved(S) at the no-op bounds everything ever
//   served, and starting at reserved + 1 overlaps nothing. The unserved rest
//   of the old leader's block is skipped: a gap, never an overlap.
// * Handover. A leader that stops serving (graceful stop, leadership transfer)
//   first stops answering, then proposes `handover` with the exact next value
//   of each sequence, and never serves again in that term unless a `resume`
//   commits first. If the handover is committed before the next no-op, the
//   next epoch inherits it (`exactNext`) and continues without a gap. If it is
//   lost, the next epoch falls back to reserved + 1. If a `resume` commits, the
//   handover is cancelled and the leader may serve again. The leader lists
//   every sequence it served; sequences it inherited a handover value for and
//   did not list keep that value (carried forward), others get reserved + 1.
// * Reservations committed *during* epoch e do not move epoch e's start: they
//   are the current leader's own blocks. Hence the start is fixed per sequence
//   the first time any command touches the sequence in the epoch (lazily, so a
//   leader change costs O(1), not O(number of sequences)), before the command
//   changes `reserved`. A sequence untouched in the epoch still has its
//   start-of-epoch `reserved`, so its start is computed on demand.
// * Handover and resume are only honoured in the term of the epoch they belong
//   to (entry term === the last no-op's term). Anything else cannot come from
//   a correct leader; it is ignored (a gap at worst), deterministically.
// * A handover value below the sequence's start in its epoch cannot come from
//   a correct leader either; it is raised to the start (gap, not overlap).
// * `advance` moves a sequence forward: reserved = max(reserved, to - 1) and
//   this epoch's start = max(start, to) (the leader's allocator follows it at
//   once), and a pending handover of the sequence is raised to >= to.
//
// ## Snapshot format (version 3, big-endian; version 1 lacks member info,
// version 2 the cluster id; a machine without a cluster id still writes
// version 2, so a release before ids reads the snapshots of a cluster that
// has not adopted one yet)
//
//   4  magic "RSQS"          u8  version
//   u64 lastApplied          u64 lastNoopTerm       u64 epoch
//   u32 n, n x { name id, name address }                  members
//   u8 present, u32 n, n x { name sequence, u64 next }    pendingHandover
//   u8 present, u32 n, n x { name sequence, u64 next }    exactNext
//   u32 n, n x { name sequence, u64 reserved, u8 flags, [u64 base if flags & 1] }
//   u32 n, n x { name id, name incarnation, name advertise }   member info (v2)
//   name clusterId                                              (v3)
//   u32 crc32 (node:zlib) of every byte before it
//
// name = u16 length + UTF-8. Flag bit 0: the start was fixed in the current
// epoch and `base` follows (an older fixed base is dead state and not kept).

import { crc32 } from 'node:zlib';
import { DecodeError, Reader, Writer } from './binary.js';
import { MAX_VALUE, decodeCommand, decodeMemberContext } from './commands.js';
import type { Command } from './commands.js';
import { SeqColumns, readSequenceRows } from './columns.js';
import type { NameTable } from './names.js';

export type ConfChangeType = 'add-learner' | 'promote' | 'remove';

/** Structurally the Raft core's Entry (src/raft/types.ts). */
export interface ApplyEntry {
  index: number;
  term: number;
  type: 'normal' | 'conf';
  /** Empty normal data: a new leader's no-op. Otherwise one encoded Command. */
  data: Uint8Array;
  /** Present exactly when type === 'conf'. Context: encodeMemberContext(), may be empty. */
  change?: { type: ConfChangeType; id: string; context: Uint8Array };
}

export type ApplyResult =
  /** index <= lastApplied: already applied, nothing changed. */
  | { kind: 'stale' }
  /** A no-op. newEpoch: it opened a new epoch (a term with a new leader). */
  | { kind: 'noop'; newEpoch: boolean; epoch: number }
  /** A command; `ignored` says why a handover/resume was deliberately not honoured. */
  | { kind: 'command'; command: Command; ignored?: string }
  | { kind: 'conf'; change: ConfChangeType; id: string };

/** An entry that no correct node could have written, or applied out of order. Fail-stop. */
export class StateMachineError extends Error {
  override name = 'StateMachineError';
}

/**
 * Version 2 added member info (incarnation, advertise), version 3 the cluster
 * id; versions 1 and 2 are still read (and 2 still written, see above).
 */
export const SNAPSHOT_FORMAT_VERSION = 3;
/** The last version without a cluster id. */
const SNAPSHOT_VERSION_WITHOUT_ID = 2;
const MAGIC = [0x52, 0x53, 0x51, 0x53]; // "RSQS"

export interface MemberInfo {
  incarnation: string;
  advertise: string;
}

export interface SequenceInfo {
  sequence: string;
  reserved: bigint;
  /** startFor(sequence): where the current epoch's leader started (or starts) it. */
  start: bigint;
}

export class SequenceStateMachine {
  private seqs = new SeqColumns();
  private _generation = 0;
  private memberMap = new Map<string, string>();
  /** Incarnation and advertised address per member (see MemberCommand). */
  private memberInfo = new Map<string, MemberInfo>();
  private _lastApplied = 0;
  private _lastNoopTerm = 0;
  private _epoch = 0;
  private pending: Map<string, bigint> | null = null;
  private exactNext: Map<string, bigint> | null = null;
  /** The cluster's id ('' until one was applied; see ClusterCommand). */
  private _clusterId = '';
  /** Sequences of exactNext touched in this epoch (they are not carried on). */
  private touchedInherited: string[] = [];

  /** Whether a command of the current epoch touched the sequence (fixed its start). */
  touchedInEpoch(sequence: string): boolean {
    const id = this.seqs.names.find(sequence);
    return id >= 0 && this.seqs.baseEpoch[id] === this._epoch;
  }

  /**
   * A dense id of the sequence (0 .. sequenceCount - 1, in the order
   * sequences were created), or -1 if it does not exist. Stable until the
   * next load() (see generation); lets the leader keep per-sequence state in
   * arrays instead of maps.
   */
  sequenceId(sequence: string): number {
    return this.seqs.names.find(sequence);
  }

  /** The name of the sequence with id `id` (0 <= id < sequenceCount). */
  sequenceName(id: number): string {
    return this.seqs.names.name(id);
  }

  /**
   * The names by id (read only): the object of this generation, which the
   * next load() replaces. Lets a holder of per-id state move it by name.
   */
  sequenceNames(): Pick<NameTable, 'find' | 'name' | 'size'> {
    return this.seqs.names;
  }

  /** Counts load()s: sequence ids of an earlier generation mean nothing now. */
  get generation(): number {
    return this._generation;
  }

  /** What the cluster recorded of a member's data directory and client address. */
  member(id: string): MemberInfo | undefined {
    return this.memberInfo.get(id);
  }

  /** The cluster's id, or '' while it has none (see ClusterCommand). */
  get clusterId(): string {
    return this._clusterId;
  }

  /** Index of the last applied entry (or of the snapshot this state came from). */
  get lastApplied(): number {
    return this._lastApplied;
  }

  /** Term of the no-op that opened the current epoch (0 before any). */
  get lastNoopTerm(): number {
    return this._lastNoopTerm;
  }

  /** Number of leader terms seen (no-ops with a rising term). */
  get epoch(): number {
    return this._epoch;
  }

  get sequenceCount(): number {
    return this.seqs.size;
  }

  /** Member id -> address, from the bootstrap snapshot and conf entries. */
  members(): Map<string, string> {
    return new Map(this.memberMap);
  }

  /** The handover written in the current epoch and not (yet) resumed, or null. */
  pendingHandover(): ReadonlyMap<string, bigint> | null {
    return this.pending;
  }

  /** The handover the current epoch inherited from the previous leader, or null. */
  inheritedHandover(): ReadonlyMap<string, bigint> | null {
    return this.exactNext;
  }

  has(sequence: string): boolean {
    return this.seqs.names.find(sequence) >= 0;
  }

  /** Highest committed reservation of the sequence, 0n if none. */
  reservedUpTo(sequence: string): bigint {
    const id = this.seqs.names.find(sequence);
    return id < 0 ? 0n : this.seqs.reserved[id]!;
  }

  /**
   * The first value the current epoch's leader may serve for this sequence
   * (1n for a sequence never seen). May be MAX_VALUE + 1n: exhausted.
   */
  startFor(sequence: string): bigint {
    return this.startOf(this.seqs.names.find(sequence), sequence);
  }

  /** startFor(sequence) when its id (or -1) is known. */
  private startOf(id: number, sequence: string): bigint {
    const c = this.seqs;
    if (id >= 0 && c.baseEpoch[id] === this._epoch) return c.base[id]!;
    return this.exactNext?.get(sequence) ?? (id < 0 ? 1n : c.reserved[id]! + 1n);
  }

  /** Every sequence in creation order (each name is a new string: O(N) allocation). */
  *sequences(): IterableIterator<SequenceInfo> {
    const c = this.seqs;
    for (let id = 0; id < c.size; id++) {
      const sequence = c.names.name(id);
      yield { sequence, reserved: c.reserved[id]!, start: this.startOf(id, sequence) };
    }
  }

  apply(entry: ApplyEntry): ApplyResult {
    if (entry.index <= this._lastApplied) return { kind: 'stale' };
    if (entry.index !== this._lastApplied + 1) {
      throw new StateMachineError(
        `entry ${entry.index} applied after ${this._lastApplied}: entries must be applied in order`,
      );
    }
    let result: ApplyResult;
    if (entry.type === 'conf') {
      result = this.applyConf(entry);
    } else if (entry.data.length === 0) {
      result = this.applyNoop(entry.term);
    } else {
      result = this.applyCommand(decodeCommand(entry.data), entry.term);
    }
    this._lastApplied = entry.index;
    return result;
  }

  private applyNoop(term: number): ApplyResult {
    if (term <= this._lastNoopTerm) return { kind: 'noop', newEpoch: false, epoch: this._epoch };
    // A sequence no command touched in the ending epoch was not served in it
    // (the allocator serves a sequence only after its first reservation of
    // the term commits), so an exact value it inherited still holds: carry
    // it on, even though this epoch's leader left without a hand-over.
    let next: Map<string, bigint> | null = null;
    if (this.pending !== null && (this.exactNext === null || this.touchedInherited.length === 0)) {
      // The handover lists every inherited sequence first, in their order
      // (see applyCommand), and none was touched since, so the merge below
      // would rebuild it entry by entry, in the same order: take it as it
      // is. A million-entry handover (a graceful stop) otherwise costs a
      // second of apply, on every member at once, right after the election.
      next = this.pending;
    } else if (this.exactNext !== null && this.pending === null) {
      // The common case (a leader change without a hand-over) in
      // O(sequences touched), not O(inherited): after a hand-over of a
      // million sequences every election would otherwise walk them all,
      // stalling the new leader long enough to lose its lease.
      for (const sequence of this.touchedInherited) this.exactNext.delete(sequence);
      next = this.exactNext.size > 0 ? this.exactNext : null;
    } else {
      if (this.exactNext !== null) {
        for (const [sequence, value] of this.exactNext) {
          // (touchedInEpoch() is the allocator's side of this rule; it is read
          // here directly so a test mutant can break the allocator side alone.)
          const id = this.seqs.names.find(sequence);
          if (id >= 0 && this.seqs.baseEpoch[id] === this._epoch) continue;
          (next ??= new Map()).set(sequence, value);
        }
      }
      if (this.pending !== null) {
        for (const [sequence, value] of this.pending) (next ??= new Map()).set(sequence, value);
      }
    }
    this.exactNext = next;
    this.pending = null;
    this.touchedInherited = [];
    this._epoch++;
    this._lastNoopTerm = term;
    return { kind: 'noop', newEpoch: true, epoch: this._epoch };
  }

  private applyConf(entry: ApplyEntry): ApplyResult {
    const change = entry.change;
    if (change === undefined)
      throw new StateMachineError(`conf entry ${entry.index} has no change`);
    if (change.type === 'remove') {
      this.memberMap.delete(change.id);
      this.memberInfo.delete(change.id);
    } else {
      const address =
        change.context.length > 0
          ? decodeMemberContext(change.context).address
          : (this.memberMap.get(change.id) ?? '');
      this.memberMap.set(change.id, address);
    }
    return { kind: 'conf', change: change.type, id: change.id };
  }

  /** Fix the sequence's start for the current epoch (before anything changes it); its id. */
  private touch(sequence: string): number {
    const c = this.seqs;
    const known = c.size;
    const id = c.names.intern(sequence);
    if (id === known || c.baseEpoch[id] !== this._epoch) {
      const inherited = this.exactNext?.get(sequence);
      if (inherited !== undefined) this.touchedInherited.push(sequence);
      if (id === known) c.add(id, inherited ?? 1n, this._epoch);
      else {
        c.base[id] = inherited ?? c.reserved[id]! + 1n;
        c.baseEpoch[id] = this._epoch;
      }
    }
    return id;
  }

  private applyCommand(cmd: Command, term: number): ApplyResult {
    switch (cmd.type) {
      case 'reserve': {
        // Validate everything first so a refused entry changes nothing.
        for (const it of cmd.items) {
          if (it.upTo < 1n || it.upTo > MAX_VALUE) {
            throw new StateMachineError(
              `reserve ${JSON.stringify(it.sequence)} upTo ${it.upTo} is outside 1..${MAX_VALUE}: ` +
                'the proposer must cap reservations',
            );
          }
        }
        for (const it of cmd.items) {
          const id = this.touch(it.sequence);
          if (it.upTo > this.seqs.reserved[id]!) this.seqs.reserved[id] = it.upTo;
        }
        return { kind: 'command', command: cmd };
      }
      case 'handover': {
        for (const it of cmd.items) {
          if (it.next < 1n || it.next > MAX_VALUE + 1n) {
            throw new StateMachineError(
              `handover ${JSON.stringify(it.sequence)} next ${it.next} is outside 1..${MAX_VALUE + 1n}`,
            );
          }
        }
        if (term !== this._lastNoopTerm) {
          return { kind: 'command', command: cmd, ignored: this.foreignTerm(term) };
        }
        // Carry the inherited values forward: a sequence the leader did not list
        // is one it never served (it lists every sequence it served), so its
        // start is still exact. This keeps a chain of transfers gap-free even
        // when a leader hands over before it could serve anything.
        const pending = new Map<string, bigint>();
        if (this.exactNext !== null) {
          for (const seq of this.exactNext.keys()) pending.set(seq, this.startFor(seq));
        }
        for (const it of cmd.items) {
          const start = this.startFor(it.sequence);
          pending.set(it.sequence, it.next < start ? start : it.next);
        }
        this.pending = pending;
        return { kind: 'command', command: cmd };
      }
      case 'resume':
        if (term !== this._lastNoopTerm) {
          return { kind: 'command', command: cmd, ignored: this.foreignTerm(term) };
        }
        this.pending = null;
        return { kind: 'command', command: cmd };
      case 'member': {
        // Only for current members; a record for a removed one is stale.
        if (this.memberMap.has(cmd.id)) {
          this.memberInfo.set(cmd.id, { incarnation: cmd.incarnation, advertise: cmd.advertise });
        }
        return { kind: 'command', command: cmd };
      }
      case 'cluster':
        // The first id wins: members that already adopted it must never see it change.
        if (this._clusterId !== '') {
          return { kind: 'command', command: cmd, ignored: 'the cluster already has an id' };
        }
        this._clusterId = cmd.id;
        return { kind: 'command', command: cmd };
      case 'advance': {
        const to = cmd.to;
        if (to < 1n || to > MAX_VALUE) {
          throw new StateMachineError(`advance to ${to} is outside 1..${MAX_VALUE}`);
        }
        const id = this.touch(cmd.sequence);
        const c = this.seqs;
        if (to - 1n > c.reserved[id]!) c.reserved[id] = to - 1n;
        if (to > c.base[id]!) c.base[id] = to;
        const handed = this.pending?.get(cmd.sequence);
        if (handed !== undefined && handed < to) this.pending!.set(cmd.sequence, to);
        return { kind: 'command', command: cmd };
      }
    }
  }

  private foreignTerm(term: number): string {
    return `entry term ${term} is not the current epoch's term ${this._lastNoopTerm}`;
  }

  // -------------------------------------------------------------------------
  // Snapshots

  snapshot(): Uint8Array {
    const c = this.seqs;
    // The size, exact for the sequences (so that a large snapshot is written
    // once, never regrown or copied); the writer grows if the rest is off.
    let size = 64 + c.names.byteLength + c.size * 11;
    for (let id = 0; id < c.size; id++) if (c.baseEpoch[id] === this._epoch) size += 8;
    for (const m of [this.pending, this.exactNext]) {
      if (m !== null) for (const seq of m.keys()) size += 10 + seq.length;
    }
    const w = new Writer(size + (this.memberMap.size + this.memberInfo.size) * 256);
    for (const b of MAGIC) w.u8(b);
    const version = this._clusterId === '' ? SNAPSHOT_VERSION_WITHOUT_ID : SNAPSHOT_FORMAT_VERSION;
    w.u8(version);
    w.u64(BigInt(this._lastApplied));
    w.u64(BigInt(this._lastNoopTerm));
    w.u64(BigInt(this._epoch));
    w.u32(this.memberMap.size);
    for (const [id, address] of this.memberMap) {
      w.name(id);
      w.name(address);
    }
    for (const m of [this.pending, this.exactNext]) {
      w.u8(m === null ? 0 : 1);
      w.u32(m === null ? 0 : m.size);
      if (m !== null) {
        for (const [sequence, next] of m) {
          w.name(sequence);
          w.u64(next);
        }
      }
    }
    w.u32(c.size);
    for (let id = 0; id < c.size; id++) {
      w.nameBytes(c.names.bytes(id));
      w.u64(c.reserved[id]!);
      if (c.baseEpoch[id] === this._epoch) {
        w.u8(1);
        w.u64(c.base[id]!);
      } else {
        w.u8(0);
      }
    }
    w.u32(this.memberInfo.size);
    for (const [id, info] of this.memberInfo) {
      w.name(id);
      w.name(info.incarnation);
      w.name(info.advertise);
    }
    if (version >= 3) w.name(this._clusterId);
    w.u32(crc32(w.peek()));
    return w.finish();
  }

  /**
   * A fresh machine holding only the initial members, as of Raft index
   * `index`, with the cluster id `clusterId` ('' : none yet, the first
   * leader proposes one).
   */
  static bootstrap(
    members: ReadonlyMap<string, string>,
    index = 0,
    clusterId = '',
  ): SequenceStateMachine {
    const sm = new SequenceStateMachine();
    for (const [id, address] of members) sm.memberMap.set(id, address);
    sm._lastApplied = index;
    sm._clusterId = clusterId;
    return sm;
  }

  /**
   * Gives this machine a new cluster id, replacing any it had: only for
   * tools that write the data directory of a new cluster (restore,
   * force-new-cluster), never for a running member (the log's first id wins).
   */
  replaceClusterId(id: string): void {
    this._clusterId = id;
  }

  static restore(data: Uint8Array): SequenceStateMachine {
    const sm = new SequenceStateMachine();
    sm.load(data);
    return sm;
  }

  /**
   * Replace this machine's whole state with a snapshot's, in place (so that
   * holders of a reference, like the allocator, keep a valid one). Throws
   * DecodeError and leaves the state untouched if the snapshot is bad.
   */
  load(data: Uint8Array): void {
    if (data.length < MAGIC.length + 1 + 4) throw new DecodeError('snapshot: too short');
    for (let i = 0; i < MAGIC.length; i++) {
      if (data[i] !== MAGIC[i])
        throw new DecodeError('snapshot: bad magic (not a raftseq snapshot)');
    }
    const version = data[MAGIC.length]!;
    if (version < 1 || version > SNAPSHOT_FORMAT_VERSION) {
      throw new DecodeError(
        `snapshot format version ${version} is not supported (this build reads version ` +
          `${SNAPSHOT_FORMAT_VERSION})`,
      );
    }
    const body = data.subarray(0, data.length - 4);
    const stored = new DataView(data.buffer, data.byteOffset + data.length - 4, 4).getUint32(0);
    if (crc32(body) !== stored) throw new DecodeError('snapshot: checksum mismatch (corrupt data)');

    const r = new Reader(body, 'snapshot');
    for (let i = 0; i <= MAGIC.length; i++) r.u8();
    const lastApplied = safeNumber(r.u64(), 'lastApplied');
    const lastNoopTerm = safeNumber(r.u64(), 'lastNoopTerm');
    const epoch = safeNumber(r.u64(), 'epoch');
    const members = new Map<string, string>();
    for (let n = r.count(4); n > 0; n--) members.set(r.name(), r.name());
    const handovers: (Map<string, bigint> | null)[] = [];
    for (let k = 0; k < 2; k++) {
      const present = r.u8() === 1;
      const m = new Map<string, bigint>();
      for (let n = r.count(10); n > 0; n--) m.set(r.name(), r.u64());
      handovers.push(present ? m : null);
    }
    // Straight from the bytes into the columns: no string or object per sequence.
    const count = r.count(11);
    const seqs = new SeqColumns(count, body.length);
    r.skip(readSequenceRows(body, r.offset, count, epoch, seqs));
    const memberInfo = new Map<string, MemberInfo>();
    if (version >= 2) {
      for (let n = r.count(6); n > 0; n--) {
        const id = r.name();
        memberInfo.set(id, { incarnation: r.name(), advertise: r.name() });
      }
    }
    const clusterId = version >= 3 ? r.name() : '';
    r.end();

    this.seqs = seqs;
    this._generation++;
    this.memberMap = members;
    this.memberInfo = memberInfo;
    this._lastApplied = lastApplied;
    this._lastNoopTerm = lastNoopTerm;
    this._epoch = epoch;
    this._clusterId = clusterId;
    this.pending = handovers[0]!;
    this.exactNext = handovers[1]!;
    this.touchedInherited = [];
    if (this.exactNext !== null) {
      for (const sequence of this.exactNext.keys()) {
        const id = seqs.names.find(sequence);
        if (id >= 0 && seqs.baseEpoch[id] === epoch) this.touchedInherited.push(sequence);
      }
    }
  }
}

function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new DecodeError(`snapshot: ${what} ${v} too large`);
  return Number(v);
}

/**
 * The snapshot a brand-new cluster starts from: the initial members and
 * nothing else. `index` is the Raft index the bootstrap snapshot stands for
 * (the state machine's lastApplied); the first entry applied must be index + 1.
 */
export function bootstrapData(
  members: ReadonlyMap<string, string>,
  index = 0,
  clusterId = '',
): Uint8Array {
  return SequenceStateMachine.bootstrap(members, index, clusterId).snapshot();
}
