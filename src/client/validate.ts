// Client-side checks mirroring the server's rules. The server stays the
// authority; these only give a clear error without a round trip.
import { GrpcStatus, RaftseqError } from './errors.js';

/** Longest sequence name, in bytes. */
export const MAX_SEQUENCE_NAME_BYTES = 200;
/** Largest value a sequence hands out: 2^63-1. */
export const MAX_SEQUENCE_VALUE = (1n << 63n) - 1n;
/** Largest `count` the wire format can carry (uint32); the server's limit is lower. */
export const MAX_WIRE_COUNT = 0xffff_ffff;

const NAME_CHAR = /^[A-Za-z0-9._:/-]$/;

/** Why `name` is not a valid sequence name, or null if it is. */
export function sequenceNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `sequence name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'sequence name is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_SEQUENCE_NAME_BYTES) {
    return `sequence name is ${bytes} bytes long; at most ${MAX_SEQUENCE_NAME_BYTES} are allowed`;
  }
  for (const ch of name) {
    if (!NAME_CHAR.test(ch)) {
      return `sequence name ${JSON.stringify(name)} contains ${JSON.stringify(ch)}; allowed are A-Z a-z 0-9 . _ : / -`;
    }
  }
  return null;
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `name` is a valid sequence name. */
export function assertSequenceName(name: unknown): asserts name is string {
  const problem = sequenceNameProblem(name);
  if (problem !== null) throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, problem);
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `count` is an integer in 1..2^32-1. */
export function assertCount(count: unknown): asserts count is number {
  if (
    typeof count !== 'number' ||
    !Number.isInteger(count) ||
    count < 1 ||
    count > MAX_WIRE_COUNT
  ) {
    throw new RaftseqError(
      GrpcStatus.INVALID_ARGUMENT,
      `count must be an integer from 1 to ${MAX_WIRE_COUNT}, got ${String(count)}`,
    );
  }
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):([0-9]{1,5})$/;

/** Why `value` is not a `host:port` address (IPv6 as `[::1]:7001`), or null if it is. */
export function hostPortProblem(value: string): string | null {
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
  if (port < 1 || port > 65535) return `${JSON.stringify(value)}: port must be 1..65535`;
  return null;
}

/**
 * Parses endpoints given as an array or as one comma-separated string into a
 * de-duplicated list of `host:port`. Throws RaftseqError(INVALID_ARGUMENT).
 */
export function parseEndpoints(endpoints: string | readonly string[]): string[] {
  const raw = typeof endpoints === 'string' ? endpoints.split(',') : [...endpoints];
  const out: string[] = [];
  for (const item of raw) {
    if (typeof item !== 'string') {
      throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, 'endpoints must be host:port strings');
    }
    const e = item.trim();
    if (e === '') continue;
    const problem = hostPortProblem(e);
    if (problem !== null) {
      throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, `invalid endpoint: ${problem}`);
    }
    if (!out.includes(e)) out.push(e);
  }
  if (out.length === 0) {
    throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, 'no endpoints given; expected host:port');
  }
  return out;
}
