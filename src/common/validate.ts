// The one home of raftseq's input rules, and of their messages: sequence
// names, counts, sequence values, host:port addresses, member ids and
// integers written as text. The server (src/api), the client library, the
// CLI and the node's config all check through these functions, so a rule
// cannot drift between them and a user sees the same words wherever a value
// is refused. The server stays the authority; the others check early only to
// fail without a round trip.
//
// Every check returns a one-line message naming the problem, or null; every
// parser returns a Parsed<T>. Each caller turns a problem into its own error
// type (a gRPC status, RaftseqError, commander's usage error, ConfigError).
//
// No imports and no Node globals: this module is shared by every layer and
// must stay usable from a client bundle that runs outside Node.

/** A value parsed from text, or the one-line problem with that text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** How a refused input is shown in a message: numbers bare, other text quoted. */
function shown(value: unknown): string {
  if (typeof value === 'string')
    return /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? value : JSON.stringify(value);
  // An integral double is shown exactly: 2**60 as 1152921504606846976, not ...7000.
  if (typeof value === 'number')
    return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  if (typeof value === 'bigint') return String(value);
  return value === null ? 'null' : typeof value;
}

function rangeProblem(
  what: string,
  min: number | bigint,
  max: number | bigint | string,
  got: unknown,
): string {
  return `${what} must be an integer from ${min} to ${max}, got ${shown(got)}`;
}

// ------------------------------------------------------------ sequence names

/** Longest sequence name, in UTF-8 bytes. */
export const MAX_SEQUENCE_NAME_BYTES = 200;

const NAME_CHAR = /^[A-Za-z0-9._:/-]$/;

/** UTF-8 length of `s` without encoding it (a lone surrogate counts 3, as U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Why `name` is not a valid sequence name, or null if it is. */
export function sequenceNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `sequence name must be a string, got ${shown(name)}`;
  if (name.length === 0) return 'sequence name is empty';
  const bytes = utf8Length(name);
  if (bytes > MAX_SEQUENCE_NAME_BYTES) {
    return `sequence name is ${bytes} bytes; at most ${MAX_SEQUENCE_NAME_BYTES} are allowed`;
  }
  for (const ch of name) {
    if (!NAME_CHAR.test(ch)) {
      return `sequence name ${JSON.stringify(name)} contains ${JSON.stringify(ch)}; allowed are A-Z a-z 0-9 . _ : / -`;
    }
  }
  return null;
}

// ------------------------------------------------------------------- counts

/** Largest `count` the wire format can carry (uint32); a server's limit is lower. */
export const MAX_WIRE_COUNT = 0xffff_ffff;

/**
 * Why `count` is not a count of values from 1 to `max`, or null. `maxName`
 * names where the limit is set (e.g. the server's `--max-count`).
 */
export function countProblem(
  count: unknown,
  max: number = MAX_WIRE_COUNT,
  maxName?: string,
): string | null {
  if (typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= max) {
    return null;
  }
  return rangeProblem('count', 1, maxName === undefined ? max : `${max} (${maxName})`, count);
}

/** The count a request carries on the wire: proto3's default 0 means 1. */
export function countFromWire(count: number): number {
  return count === 0 ? 1 : count;
}

// ---------------------------------------------------------- sequence values

/** Largest value a sequence hands out: 2^63-1, so it fits a signed 64-bit column. */
export const MAX_SEQUENCE_VALUE = (1n << 63n) - 1n;

/** A sequence value 1 .. 2^63-1, exactly, from a bigint, a safe integer or decimal text. */
export function parseSequenceValue(input: unknown): Parsed<bigint> {
  let v: bigint | null = null;
  if (typeof input === 'bigint') v = input;
  else if (typeof input === 'number' && Number.isSafeInteger(input)) v = BigInt(input);
  else if (typeof input === 'string' && /^[0-9]+$/.test(input.trim())) v = BigInt(input.trim());
  if (v === null || v < 1n || v > MAX_SEQUENCE_VALUE) {
    return { ok: false, problem: rangeProblem('value', 1, MAX_SEQUENCE_VALUE, input) };
  }
  return { ok: true, value: v };
}

// ------------------------------------------------------------------ integers

/** An integer in [min, max] written in decimal (surrounding spaces allowed). */
export function parseInteger(text: string, what: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  const n = /^[0-9]+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return { ok: false, problem: rangeProblem(what, min, max, text) };
  }
  return { ok: true, value: n };
}

/** Longest duration a millisecond setting takes: a day. */
export const MAX_MILLISECONDS = 24 * 3600 * 1000;

/** A duration in whole milliseconds, 1 .. a day (timeouts, intervals). */
export function parseMilliseconds(text: string): Parsed<number> {
  return parseInteger(text, 'milliseconds', 1, MAX_MILLISECONDS);
}

/** Units of a duration, in milliseconds (Go's time.ParseDuration, plus d). */
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A duration like `90s`, `1m`, `2h`, `1h30m` or `500ms`, in whole
 * milliseconds, within [minMs, maxMs]. A bare number is refused: `5` could
 * mean seconds or minutes, and guessing wrong here skips too little.
 */
export function parseDuration(text: string, minMs: number, maxMs: number): Parsed<number> {
  const t = text.trim();
  const part = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/y;
  let ms = 0;
  let pos = 0;
  while (pos < t.length) {
    part.lastIndex = pos;
    const m = part.exec(t);
    if (m === null) break;
    ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = part.lastIndex;
  }
  if (t === '' || pos !== t.length) {
    return {
      ok: false,
      problem: `duration ${JSON.stringify(text)} is not a duration like 90s, 15m, 2h or 1h30m`,
    };
  }
  ms = Math.ceil(ms);
  if (ms < minMs || ms > maxMs) {
    return {
      ok: false,
      problem: `duration ${JSON.stringify(text)} must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
    };
  }
  return { ok: true, value: ms };
}

/** A duration in the largest unit that divides it, e.g. 7200000 -> "2h". */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

// --------------------------------------------------------------- addresses

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):([0-9]{1,5})$/;

function addressProblem(value: unknown, minPort: number): string | null {
  if (typeof value !== 'string') return `address must be a string, got ${shown(value)}`;
  const m = HOST_PORT.exec(value);
  if (m === null) {
    if (value === '') return 'address is empty; expected host:port';
    if (!value.includes(':')) return `${JSON.stringify(value)} has no port; expected host:port`;
    if ((value.match(/:/g) ?? []).length > 1 && !value.startsWith('[')) {
      return `${JSON.stringify(value)} is not host:port; write IPv6 addresses as [::1]:7001`;
    }
    return `${JSON.stringify(value)} is not host:port`;
  }
  const port = Number(m[3]);
  if (port < minPort || port > 65535) {
    return `${JSON.stringify(value)}: port must be ${minPort}..65535`;
  }
  return null;
}

/** Why `value` is not a `host:port` address (IPv6 as `[::1]:7001`), or null if it is. */
export function hostPortProblem(value: unknown): string | null {
  return addressProblem(value, 1);
}

/** Like {@link hostPortProblem}, but port 0 (any free port) is allowed: an address to bind. */
export function listenAddressProblem(value: unknown): string | null {
  return addressProblem(value, 0);
}

// ---------------------------------------------------------------- member ids

/** Member ids: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 64. */
export const MEMBER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `id` is not a valid member id, or null. */
export function memberIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `member id must be a string, got ${shown(id)}`;
  if (id === '') return 'member id is empty';
  if (!MEMBER_ID.test(id)) {
    return `member id ${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`;
  }
  return null;
}
