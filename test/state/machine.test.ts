import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  MAX_VALUE,
  encodeCommand,
  encodeMemberContext,
} from '../../src/state/commands.js';
import type { Command } from '../../src/state/commands.js';
import { SequenceStateMachine, StateMachineError, bootstrapData } from '../../src/state/machine.js';
import type { ApplyEntry } from '../../src/state/machine.js';

/** Feeds entries with consecutive indexes. */
class Log {
  index = 0;
  constructor(readonly sm = new SequenceStateMachine()) {}
  noop(term: number) {
    return this.sm.apply({ index: ++this.index, term, type: 'normal', data: new Uint8Array() });
  }
  cmd(term: number, cmd: Command) {
    return this.sm.apply({ index: ++this.index, term, type: 'normal', data: encodeCommand(cmd) });
  }
  reserve(term: number, sequence: string, upTo: bigint) {
    return this.cmd(term, { type: 'reserve', items: [{ sequence, upTo }] });
  }
}

describe('SequenceStateMachine epochs', () => {
  it('a new sequence starts at 1', () => {
    const l = new Log();
    l.noop(1);
    expect(l.sm.startFor('a')).toBe(1n);
    expect(l.sm.reservedUpTo('a')).toBe(0n);
  });

  it('a crash (no handover) starts the next epoch at reserved + 1: a gap, no overlap', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    expect(l.sm.startFor('a')).toBe(1n); // own block does not move this epoch's start
    l.reserve(1, 'a', 40n);
    expect(l.sm.startFor('a')).toBe(1n);
    expect(l.sm.reservedUpTo('a')).toBe(40n);
    expect(l.noop(2)).toEqual({ kind: 'noop', newEpoch: true, epoch: 2 });
    expect(l.sm.startFor('a')).toBe(41n);
  });

  it('a handover gives the next epoch the exact next value: no gap', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 6n }] });
    expect(l.sm.pendingHandover()?.get('a')).toBe(6n);
    l.noop(2);
    expect(l.sm.startFor('a')).toBe(6n);
    expect(l.sm.pendingHandover()).toBeNull();
    // The new leader's own reservations do not move its start.
    l.reserve(2, 'a', 30n);
    expect(l.sm.startFor('a')).toBe(6n);
    // A crash of that leader: reserved + 1.
    l.noop(3);
    expect(l.sm.startFor('a')).toBe(31n);
  });

  it('an untouched inherited sequence keeps its handover value through the epoch', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 3n }] });
    l.noop(2);
    l.reserve(2, 'b', 10n); // other sequences move; 'a' untouched
    expect(l.sm.startFor('a')).toBe(3n);
  });

  it('a handover carries inherited values forward for sequences it does not list', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 3n }] });
    l.noop(2);
    l.cmd(2, { type: 'handover', items: [] }); // leader 2 served nothing
    l.noop(3);
    expect(l.sm.startFor('a')).toBe(3n);
  });

  it('a leader that crashes before touching an inherited sequence passes its exact value on', () => {
    // A transfer hands 'a' over at 3; the new leader crashes (no handover of
    // its own) before any command of its term touched 'a', so it served none
    // of 'a' (the allocator waits for its first reservation of the term):
    // the next leader still starts exactly at 3, not at reserved + 1.
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.reserve(1, 'b', 16n);
    l.cmd(1, {
      type: 'handover',
      items: [
        { sequence: 'a', next: 3n },
        { sequence: 'b', next: 5n },
      ],
    });
    l.noop(2);
    expect(l.sm.touchedInEpoch('a')).toBe(false);
    l.reserve(2, 'b', 40n); // 'b' touched in epoch 2: it may have been served
    expect(l.sm.touchedInEpoch('b')).toBe(true);
    l.noop(3); // crash of leader 2
    expect(l.sm.startFor('a')).toBe(3n);
    expect(l.sm.startFor('b')).toBe(41n);
    expect(l.sm.touchedInEpoch('a')).toBe(false);
  });

  it('resume cancels the pending handover', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 3n }] });
    l.cmd(1, { type: 'resume' });
    expect(l.sm.pendingHandover()).toBeNull();
    l.noop(2);
    expect(l.sm.startFor('a')).toBe(17n);
  });

  it('a later handover replaces the earlier one', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 3n }] });
    l.cmd(1, { type: 'resume' });
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 9n }] });
    l.noop(2);
    expect(l.sm.startFor('a')).toBe(9n);
  });

  it('handover/resume from another term than the epoch are ignored (gap at worst)', () => {
    const l = new Log();
    l.noop(2);
    l.reserve(2, 'a', 16n);
    const r = l.cmd(3, { type: 'handover', items: [{ sequence: 'a', next: 1n }] });
    expect(r).toMatchObject({ kind: 'command', ignored: expect.stringContaining('term 3') });
    l.noop(4);
    expect(l.sm.startFor('a')).toBe(17n);
  });

  it('a handover below the epoch start is raised to it', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.noop(2);
    l.cmd(2, { type: 'handover', items: [{ sequence: 'a', next: 5n }] }); // start was 17
    expect(l.sm.pendingHandover()?.get('a')).toBe(17n);
  });

  it('a repeated no-op of the same term does not open an epoch', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    expect(l.noop(1)).toEqual({ kind: 'noop', newEpoch: false, epoch: 1 });
    expect(l.sm.startFor('a')).toBe(1n);
  });

  it('advance moves forward, never backward, and reaches a pending handover', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.cmd(1, { type: 'advance', sequence: 'a', to: 100n });
    expect(l.sm.startFor('a')).toBe(100n);
    expect(l.sm.reservedUpTo('a')).toBe(99n);
    l.cmd(1, { type: 'advance', sequence: 'a', to: 50n });
    expect(l.sm.startFor('a')).toBe(100n);
    expect(l.sm.reservedUpTo('a')).toBe(99n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 100n }] });
    l.cmd(1, { type: 'advance', sequence: 'a', to: 500n });
    l.noop(2);
    expect(l.sm.startFor('a')).toBe(500n);
    // Advancing a never-seen sequence.
    l.cmd(2, { type: 'advance', sequence: 'fresh', to: 7n });
    expect(l.sm.startFor('fresh')).toBe(7n);
  });

  it('apply is idempotent per index and refuses gaps', () => {
    const l = new Log();
    l.noop(1);
    const e: ApplyEntry = {
      index: 2,
      term: 1,
      type: 'normal',
      data: encodeCommand({ type: 'reserve', items: [{ sequence: 'a', upTo: 5n }] }),
    };
    l.sm.apply(e);
    expect(l.sm.apply(e)).toEqual({ kind: 'stale' });
    expect(l.sm.apply({ ...e, index: 1 })).toEqual({ kind: 'stale' });
    expect(l.sm.lastApplied).toBe(2);
    expect(() => l.sm.apply({ ...e, index: 4 })).toThrow(StateMachineError);
  });

  it('a reservation above 2^63-1 is a proposer bug: it throws and changes nothing', () => {
    const l = new Log();
    l.noop(1);
    const bad = new Uint8Array(
      encodeCommand({ type: 'reserve', items: [{ sequence: 'a', upTo: 5n }] }),
    );
    // Patch the u64 to 2^63 (the encoder itself refuses it).
    new DataView(bad.buffer).setBigUint64(bad.length - 8, MAX_VALUE + 1n);
    expect(() => l.sm.apply({ index: 2, term: 1, type: 'normal', data: bad })).toThrow(/cap/);
    expect(l.sm.lastApplied).toBe(1);
    expect(l.sm.has('a')).toBe(false);
  });

  it('an unknown command format version stops apply with a clear error', () => {
    const l = new Log();
    const data = encodeCommand({ type: 'resume' });
    data[0] = 2;
    expect(() => l.sm.apply({ index: 1, term: 1, type: 'normal', data })).toThrow(DecodeError);
  });

  it('keeps members from conf entries', () => {
    const l = new Log(SequenceStateMachine.restore(bootstrapData(new Map([['n1', 'a:1']]))));
    const conf = (type: 'add-learner' | 'promote' | 'remove', id: string, address?: string) =>
      l.sm.apply({
        index: ++l.index,
        term: 1,
        type: 'conf',
        data: new Uint8Array(),
        change: {
          type,
          id,
          context: address === undefined ? new Uint8Array() : encodeMemberContext({ address }),
        },
      });
    conf('add-learner', 'n2', 'b:2');
    conf('promote', 'n2');
    expect(l.sm.members()).toEqual(
      new Map([
        ['n1', 'a:1'],
        ['n2', 'b:2'],
      ]),
    );
    conf('remove', 'n1');
    expect(l.sm.members()).toEqual(new Map([['n2', 'b:2']]));
  });
});

describe('SequenceStateMachine snapshots', () => {
  function busy(): Log {
    const l = new Log(SequenceStateMachine.bootstrap(new Map([['n1', '127.0.0.1:7001']]), 3));
    l.index = 3;
    l.noop(1);
    l.reserve(1, 'a', 16n);
    l.reserve(1, 'b', 9n);
    l.cmd(1, { type: 'handover', items: [{ sequence: 'a', next: 4n }] });
    l.noop(2);
    l.reserve(2, 'a', 40n);
    l.reserve(2, 'c', MAX_VALUE);
    l.cmd(2, { type: 'handover', items: [{ sequence: 'a', next: 20n }] });
    return l;
  }

  function same(a: SequenceStateMachine, b: SequenceStateMachine): void {
    expect(b.lastApplied).toBe(a.lastApplied);
    expect(b.epoch).toBe(a.epoch);
    expect(b.lastNoopTerm).toBe(a.lastNoopTerm);
    expect(b.members()).toEqual(a.members());
    expect(b.pendingHandover()).toEqual(a.pendingHandover());
    expect(b.inheritedHandover()).toEqual(a.inheritedHandover());
    expect([...b.sequences()]).toEqual([...a.sequences()]);
  }

  it('restores everything, and behaves the same afterwards', () => {
    const a = busy();
    const snap = a.sm.snapshot();
    const b = new Log(SequenceStateMachine.restore(snap));
    b.index = a.index;
    same(a.sm, b.sm);
    expect(b.sm.snapshot()).toEqual(snap);
    for (const l of [a, b]) {
      l.reserve(2, 'b', 30n);
      l.noop(3);
    }
    same(a.sm, b.sm);
    expect(b.sm.startFor('a')).toBe(20n);
    expect(b.sm.startFor('b')).toBe(31n);
  });

  it('load() replaces state in place', () => {
    const a = busy();
    const target = new SequenceStateMachine();
    target.load(a.sm.snapshot());
    same(a.sm, target);
  });

  it('refuses corrupt, foreign and newer snapshots', () => {
    const snap = busy().sm.snapshot();
    const flipped = snap.slice();
    flipped[20]! ^= 1;
    expect(() => SequenceStateMachine.restore(flipped)).toThrow(/checksum/);
    const foreign = snap.slice();
    foreign[0] = 0x58;
    expect(() => SequenceStateMachine.restore(foreign)).toThrow(/magic/);
    const newer = snap.slice();
    newer[4] = 4;
    expect(() => SequenceStateMachine.restore(newer)).toThrow(/version 4/);
    expect(() => SequenceStateMachine.restore(snap.subarray(0, 6))).toThrow(DecodeError);
  });

  it('keeps sequence names byte-exact, and refuses a name that is not UTF-8', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'zürich', 5n);
    l.reserve(1, 'zq', 7n);
    const snap = l.sm.snapshot();
    const copy = SequenceStateMachine.restore(snap);
    expect([...copy.sequences()].map((s) => s.sequence)).toEqual(['zürich', 'zq']);
    expect(copy.reservedUpTo('zq')).toBe(7n);
    expect(copy.snapshot()).toEqual(snap);
    // Replace "zq" by two bytes that are not UTF-8, with a checksum that matches.
    const bad = snap.slice();
    const at = Buffer.from(bad).indexOf('zq');
    bad[at] = 0xff;
    bad[at + 1] = 0xfe;
    new DataView(bad.buffer).setUint32(bad.length - 4, crc32(bad.subarray(0, bad.length - 4)));
    expect(() => SequenceStateMachine.restore(bad)).toThrow(/not valid UTF-8/);
  });

  /** A snapshot with its checksum recomputed after `edit` changed its body. */
  function resealed(snap: Uint8Array, edit: (body: Uint8Array) => Uint8Array): Uint8Array {
    const body = edit(snap.slice(0, snap.length - 4));
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(body));
    return out;
  }

  it('reads the u64s of every row exactly, words above 2^32 included', () => {
    const l = new Log();
    l.noop(1);
    const big = [2n ** 32n, 2n ** 32n - 1n, 2n ** 53n + 7n, MAX_VALUE, 0x5ead_beef_0000_0001n];
    big.forEach((v, i) => l.reserve(1, `s${i}`, v));
    l.noop(2);
    // Fixed in epoch 2: base is the old reserved + 1, kept beside the new reservation.
    big.forEach((v, i) => l.cmd(2, { type: 'advance', sequence: `s${i}`, to: v }));
    const copy = SequenceStateMachine.restore(l.sm.snapshot());
    expect([...copy.sequences()]).toEqual([...l.sm.sequences()]);
    expect(copy.snapshot()).toEqual(l.sm.snapshot());
  });

  it('a repeated name keeps its last row, as a Map would', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'aa', 5n);
    l.reserve(1, 'ab', 9n);
    // Rename "ab" to "aa": the row of "aa" appears twice.
    const twice = resealed(l.sm.snapshot(), (body) => {
      const at = Buffer.from(body).lastIndexOf('ab');
      body[at + 1] = 0x61;
      return body;
    });
    const copy = SequenceStateMachine.restore(twice);
    expect(copy.sequenceCount).toBe(1);
    expect(copy.reservedUpTo('aa')).toBe(9n);
  });

  it('refuses a snapshot cut inside its rows with a DecodeError that says so', () => {
    const l = new Log();
    l.noop(1);
    l.reserve(1, 'first', 5n);
    l.reserve(1, 'second', 2n ** 40n);
    const snap = l.sm.snapshot();
    const at = Buffer.from(snap).indexOf('second');
    // Cut in the name, in its reserved value, and just before its flags.
    for (const end of [at + 3, at + 6 + 4, at + 6 + 8]) {
      const cut = resealed(snap, (body) => body.slice(0, end));
      expect(() => SequenceStateMachine.restore(cut)).toThrow(DecodeError);
      expect(() => SequenceStateMachine.restore(cut)).toThrow(/truncated/);
    }
  });

  it('a no-op after a handover inherits exactly what the merge of old and new gives, in order', () => {
    const l = new Log();
    l.noop(1);
    for (const s of ['a', 'b', 'c']) l.reserve(1, s, 10n);
    l.cmd(1, {
      type: 'handover',
      items: [
        { sequence: 'c', next: 4n },
        { sequence: 'a', next: 7n },
      ],
    });
    l.noop(2);
    expect([...l.sm.inheritedHandover()!]).toEqual([
      ['c', 4n],
      ['a', 7n],
    ]);
    // Touch nothing inherited, serve b, hand over: the inherited ones come first.
    l.reserve(2, 'b', 20n);
    l.cmd(2, { type: 'handover', items: [{ sequence: 'b', next: 15n }] });
    l.noop(3);
    expect([...l.sm.inheritedHandover()!]).toEqual([
      ['c', 4n],
      ['a', 7n],
      ['b', 15n],
    ]);
    // Touch an inherited one (a) first: the merge keeps the untouched ones
    // where they were and appends it, so the pending map is not the result.
    l.reserve(3, 'a', 30n);
    l.cmd(3, { type: 'handover', items: [{ sequence: 'b', next: 16n }] });
    l.noop(4);
    expect([...l.sm.inheritedHandover()!]).toEqual([
      ['c', 4n],
      ['b', 16n],
      ['a', 7n],
    ]);
  });

  it('keeps member info (incarnation, advertise) across snapshots, and forgets removed members', () => {
    const sm = SequenceStateMachine.bootstrap(
      new Map([
        ['n1', 'a:1'],
        ['n2', 'b:2'],
      ]),
      1,
    );
    sm.apply({ index: 2, term: 2, type: 'normal', data: new Uint8Array(0) });
    sm.apply({
      index: 3,
      term: 2,
      type: 'normal',
      data: encodeCommand({ type: 'member', id: 'n2', incarnation: 'abc', advertise: 'pub:2' }),
    });
    // A record for a non-member is stale and ignored.
    sm.apply({
      index: 4,
      term: 2,
      type: 'normal',
      data: encodeCommand({ type: 'member', id: 'n9', incarnation: 'x', advertise: 'y' }),
    });
    const copy = SequenceStateMachine.restore(sm.snapshot());
    expect(copy.member('n2')).toEqual({ incarnation: 'abc', advertise: 'pub:2' });
    expect(copy.member('n9')).toBeUndefined();
    copy.apply({
      index: 5,
      term: 2,
      type: 'conf',
      data: new Uint8Array(0),
      change: { type: 'remove', id: 'n2', context: new Uint8Array(0) },
    });
    expect(copy.member('n2')).toBeUndefined();
  });

  it('bootstrapData holds the members and nothing else', () => {
    const members = new Map([
      ['n1', '127.0.0.1:7001'],
      ['n2', '127.0.0.1:7002'],
    ]);
    const sm = SequenceStateMachine.restore(bootstrapData(members));
    expect(sm.members()).toEqual(members);
    expect(sm.lastApplied).toBe(0);
    expect(sm.epoch).toBe(0);
    expect(sm.sequenceCount).toBe(0);
    expect(SequenceStateMachine.restore(bootstrapData(members, 5)).lastApplied).toBe(5);
  });

  it(
    'snapshot of 1,000,000 sequences: build, snapshot, restore, compare (logs time, bytes, RSS)',
    { timeout: 120_000 },
    () => {
      const N = 1_000_000;
      const BATCH = 10_000;
      // A real gc() for honest heap numbers (same trick as `node --expose-gc`).
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (() => void) | undefined;
      gc?.();
      const rss0 = process.memoryUsage().rss;
      // The sequences live in typed arrays: count their backing stores too.
      const held = (): number =>
        process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const heap0 = held();
      const t0 = performance.now();
      const l = new Log();
      l.noop(1);
      for (let b = 0; b < N; b += BATCH) {
        const items = [];
        for (let i = b; i < b + BATCH; i++)
          items.push({ sequence: `tenant-${i % 97}/orders-${i}`, upTo: BigInt(i) * 16n + 16n });
        l.cmd(1, { type: 'reserve', items });
      }
      l.noop(2); // half of them get their start fixed in the new epoch
      for (let b = 0; b < N; b += 2 * BATCH) {
        const items = [];
        for (let i = b; i < b + BATCH; i++)
          items.push({ sequence: `tenant-${i % 97}/orders-${i}`, upTo: BigInt(i) * 16n + 32n });
        l.cmd(2, { type: 'reserve', items });
      }
      const tBuild = performance.now() - t0;
      gc?.();
      const rss1 = process.memoryUsage().rss;
      const heap1 = held();

      const t1 = performance.now();
      const snap = l.sm.snapshot();
      const tSnap = performance.now() - t1;
      const t2 = performance.now();
      const restored = SequenceStateMachine.restore(snap);
      const tRestore = performance.now() - t2;

      expect(restored.sequenceCount).toBe(N);
      expect(restored.lastApplied).toBe(l.sm.lastApplied);
      expect(restored.epoch).toBe(2);
      const it2 = restored.sequences();
      for (const a of l.sm.sequences()) {
        const b = it2.next().value!;
        if (a.sequence !== b.sequence || a.reserved !== b.reserved || a.start !== b.start) {
          throw new Error(`mismatch at ${a.sequence}`);
        }
      }
      expect(Buffer.compare(restored.snapshot(), snap)).toBe(0);

      const mb = (n: number) => (n / 1e6).toFixed(1) + ' MB';
      console.log(
        `[1M sequences] build ${tBuild.toFixed(0)} ms; snapshot ${mb(snap.length)} in ${tSnap.toFixed(0)} ms; ` +
          `restore ${tRestore.toFixed(0)} ms; heap +${mb(heap1 - heap0)} ` +
          `(${((heap1 - heap0) / N).toFixed(0)} B/sequence${gc ? '' : ', no --expose-gc: approximate'}); ` +
          `RSS +${mb(rss1 - rss0)} after build, ${mb(process.memoryUsage().rss - rss0)} after restore`,
      );
    },
  );
});
