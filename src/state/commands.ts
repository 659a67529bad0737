// The commands carried in Raft entries, and their binary codec.
//
// Entry data is a Uint8Array. Empty data is a new leader's no-op (written by the
// Raft core, never by this codec). Non-empty data is exactly one command:
//
//   u8  format version (COMMAND_FORMAT_VERSION)
//   u8  command tag
//   ... payload (below), nothing after it
//
//   reserve  (tag 1): u32 n, n x { name, u64 upTo }
//   handover (tag 2): u32 n, n x { name, u64 next }
//   resume   (tag 3): (empty)
//   advance  (tag 4): name, u64 to
//   member   (tag 5): name id, name incarnation, name advertise
//   cluster  (tag 6): name id
//
// name = u16 byte length + UTF-8; every integer is big-endian. Values travel as
// u64 but the encoder refuses anything the state machine would refuse (values
// live in 1 .. 2^63-1), so a command this module wrote is always appliable.
//
// The format version is the first byte so that a node which meets an entry
// written by a newer release stops with a clear error instead of misreading it.

import { DecodeError, Reader, Writer } from './binary.js';

export { DecodeError };

/** The largest value a sequence may hand out: 2^63-1 (fits a signed 64-bit column). */
export const MAX_VALUE = 9223372036854775807n;

/** Bumped on any incompatible change of the layout above. */
export const COMMAND_FORMAT_VERSION = 1;

/** Bumped on any incompatible change of the member context layout. */
export const MEMBER_CONTEXT_VERSION = 1;

export interface ReserveItem {
  sequence: string;
  /** The sequence is reserved up to and including this value. */
  upTo: bigint;
}

export interface HandoverItem {
  sequence: string;
  /** The exact next value the following leader must serve. */
  next: bigint;
}

/** Reserve blocks (extend the committed top) of one or more sequences. */
export interface ReserveCommand {
  type: 'reserve';
  items: ReserveItem[];
}

/** A leader that stops serving records the exact next value of each sequence. */
export interface HandoverCommand {
  type: 'handover';
  items: HandoverItem[];
}

/** A leader whose transfer was aborted cancels its pending handover. */
export interface ResumeCommand {
  type: 'resume';
}

/** Operator: move a sequence forward so that its next value is >= `to`. */
export interface AdvanceCommand {
  type: 'advance';
  sequence: string;
  to: bigint;
}

/**
 * What the cluster knows of a member beyond its dial address: the address
 * clients are redirected to, and the incarnation of its data directory (a
 * random id made when the directory was created). A member that finds the
 * cluster knows another incarnation of itself lost or replaced its data
 * directory, and refuses to go on.
 */
export interface MemberCommand {
  type: 'member';
  id: string;
  incarnation: string;
  advertise: string;
}

/**
 * The cluster's identity (src/node/identity.ts): a random id the leader
 * proposes once, for a cluster whose state holds none (a new cluster, or one
 * upgraded from a release without ids). The first one applied wins; a later
 * one is ignored, so every member ends up with the same id.
 */
export interface ClusterCommand {
  type: 'cluster';
  id: string;
}

export type Command =
  | ReserveCommand
  | HandoverCommand
  | ResumeCommand
  | AdvanceCommand
  | MemberCommand
  | ClusterCommand;
export type CommandType = Command['type'];

const TAG: Record<CommandType, number> = {
  reserve: 1,
  handover: 2,
  resume: 3,
  advance: 4,
  member: 5,
  cluster: 6,
};

/** What a cluster id may look like: 1 to 64 lowercase hex digits or dashes. */
export const CLUSTER_ID_PATTERN = /^[0-9a-f-]{1,64}$/;

function checkValue(what: string, v: bigint, min: bigint, max: bigint): void {
  if (typeof v !== 'bigint' || v < min || v > max) {
    throw new RangeError(`${what} must be in ${min}..${max}, got ${String(v)}`);
  }
}

/**
 * Throws RangeError if the command holds a value the state machine would
 * refuse. Called by encodeCommand, so a proposer cannot put such a command in
 * the log; exported for callers that want to validate before building one.
 */
export function validateCommand(cmd: Command): void {
  switch (cmd.type) {
    case 'reserve':
      if (cmd.items.length === 0) throw new RangeError('reserve needs at least one item');
      for (const it of cmd.items) checkValue(`reserve ${it.sequence} upTo`, it.upTo, 1n, MAX_VALUE);
      return;
    case 'handover':
      // next = MAX_VALUE + 1 means "exhausted": every value was served.
      for (const it of cmd.items) {
        checkValue(`handover ${it.sequence} next`, it.next, 1n, MAX_VALUE + 1n);
      }
      return;
    case 'resume':
      return;
    case 'member':
      if (cmd.id.length === 0) throw new RangeError('member needs an id');
      return;
    case 'advance':
      checkValue(`advance ${cmd.sequence} to`, cmd.to, 1n, MAX_VALUE);
      return;
    case 'cluster':
      if (!CLUSTER_ID_PATTERN.test(cmd.id)) {
        throw new RangeError(`cluster id ${JSON.stringify(cmd.id)} is not 1..64 hex digits`);
      }
      return;
  }
}

export function encodeCommand(cmd: Command): Uint8Array {
  validateCommand(cmd);
  const w = new Writer(
    cmd.type === 'reserve' || cmd.type === 'handover' ? 64 * cmd.items.length : 64,
  );
  w.u8(COMMAND_FORMAT_VERSION);
  w.u8(TAG[cmd.type]);
  switch (cmd.type) {
    case 'reserve':
      w.u32(cmd.items.length);
      for (const it of cmd.items) {
        w.name(it.sequence);
        w.u64(it.upTo);
      }
      break;
    case 'handover':
      w.u32(cmd.items.length);
      for (const it of cmd.items) {
        w.name(it.sequence);
        w.u64(it.next);
      }
      break;
    case 'resume':
      break;
    case 'advance':
      w.name(cmd.sequence);
      w.u64(cmd.to);
      break;
    case 'member':
      w.name(cmd.id);
      w.name(cmd.incarnation);
      w.name(cmd.advertise);
      break;
    case 'cluster':
      w.name(cmd.id);
      break;
  }
  return w.finish();
}

/**
 * Decodes one command. Throws DecodeError on empty data (a no-op is not
 * a command), an unknown format version or tag, truncation or trailing bytes.
 * Value ranges are checked by the state machine, not here.
 */
export function decodeCommand(data: Uint8Array): Command {
  if (data.length === 0) throw new DecodeError('empty entry data is a no-op, not a command');
  const r = new Reader(data, 'command');
  const version = r.u8();
  if (version !== COMMAND_FORMAT_VERSION) {
    throw new DecodeError(
      `command format version ${version} is not supported (this build reads version ` +
        `${COMMAND_FORMAT_VERSION}); upgrade this node before it applies newer entries`,
    );
  }
  const tag = r.u8();
  let cmd: Command;
  switch (tag) {
    case TAG.reserve: {
      const n = r.count(10);
      const items: ReserveItem[] = new Array<ReserveItem>(n);
      for (let i = 0; i < n; i++) items[i] = { sequence: r.name(), upTo: r.u64() };
      cmd = { type: 'reserve', items };
      break;
    }
    case TAG.handover: {
      const n = r.count(10);
      const items: HandoverItem[] = new Array<HandoverItem>(n);
      for (let i = 0; i < n; i++) items[i] = { sequence: r.name(), next: r.u64() };
      cmd = { type: 'handover', items };
      break;
    }
    case TAG.resume:
      cmd = { type: 'resume' };
      break;
    case TAG.advance:
      cmd = { type: 'advance', sequence: r.name(), to: r.u64() };
      break;
    case TAG.member:
      cmd = { type: 'member', id: r.name(), incarnation: r.name(), advertise: r.name() };
      break;
    case TAG.cluster:
      cmd = { type: 'cluster', id: r.name() };
      break;
    default:
      throw new DecodeError(`unknown command tag ${tag} (format version ${version})`);
  }
  r.end();
  return cmd;
}

// ---------------------------------------------------------------------------
// Member context: what the runtime stores in a conf change's opaque context.
//
//   u8 version (MEMBER_CONTEXT_VERSION), name address (u16 length + UTF-8)

export interface MemberContext {
  /** The address other members dial to reach this member (host:port). */
  address: string;
}

export function encodeMemberContext(ctx: MemberContext): Uint8Array {
  const w = new Writer(8 + ctx.address.length * 3);
  w.u8(MEMBER_CONTEXT_VERSION);
  w.name(ctx.address);
  return w.finish();
}

export function decodeMemberContext(data: Uint8Array): MemberContext {
  const r = new Reader(data, 'member context');
  const version = r.u8();
  if (version !== MEMBER_CONTEXT_VERSION) {
    throw new DecodeError(
      `member context version ${version} is not supported (this build reads version ` +
        `${MEMBER_CONTEXT_VERSION})`,
    );
  }
  const address = r.name();
  r.end();
  return { address };
}
