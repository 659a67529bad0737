// Value parsers for the raftseq CLI. Each throws commander's
// InvalidArgumentError, which commander turns into a usage error (exit 2).
import { InvalidArgumentError } from 'commander';
import {
  MAX_SEQUENCE_VALUE,
  MAX_WIRE_COUNT,
  hostPortProblem,
  sequenceNameProblem,
} from '../client/validate.js';

/** A usage error found after parsing (exit 2, with a hint to --help). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Member ids: a letter or digit, then letters, digits, `.`, `_`, `-`; at most 64. */
export const MEMBER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `id` is not a valid member id, or null. */
export function memberIdProblem(id: string): string | null {
  if (id === '') return 'member id is empty';
  if (!MEMBER_ID.test(id)) {
    return `member id ${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit`;
  }
  return null;
}

export function parseMemberId(value: string): string {
  const problem = memberIdProblem(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

export function parseHostPort(value: string): string {
  const problem = hostPortProblem(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

/** Like parseHostPort, but port 0 (any free port) is allowed: for --listen. */
export function parseListen(value: string): string {
  const m = /^(.*):0+$/.exec(value);
  if (m !== null) {
    if (hostPortProblem(`${m[1]}:1`) !== null) {
      throw new InvalidArgumentError(`${JSON.stringify(value)} is not host:port`);
    }
    return value;
  }
  return parseHostPort(value);
}

export function parseSequenceName(value: string): string {
  const problem = sequenceNameProblem(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

/** An integer in [min, max] written in decimal. */
export function integerParser(what: string, min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const v = value.trim();
    if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${what} must be an integer`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be from ${min} to ${max}`);
    }
    return n;
  };
}

export const parseCount = integerParser('count', 1, MAX_WIRE_COUNT);
export const parseMs = integerParser('milliseconds', 1, 24 * 3600 * 1000);

/** A sequence value 1 .. 2^63-1, kept exact as bigint. */
export function parseSequenceValue(value: string): bigint {
  const v = value.trim();
  if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError('value must be a positive integer');
  const n = BigInt(v);
  if (n < 1n || n > MAX_SEQUENCE_VALUE) {
    throw new InvalidArgumentError(`value must be from 1 to ${MAX_SEQUENCE_VALUE}`);
  }
  return n;
}

/** A fraction in [0, 1). */
export function parseFraction(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError('must be a number from 0 up to (not including) 1');
  }
  return n;
}

/**
 * `n1=host:port,n2=host:port,...` → id → address, in order. Rejects duplicate
 * ids and duplicate addresses.
 */
export function parseInitialCluster(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('expected id=host:port,...');
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      throw new InvalidArgumentError(`${JSON.stringify(item)} is not id=host:port`);
    }
    const id = item.slice(0, eq).trim();
    const address = item.slice(eq + 1).trim();
    const idProblem = memberIdProblem(id);
    if (idProblem !== null) throw new InvalidArgumentError(idProblem);
    const addrProblem = hostPortProblem(address);
    if (addrProblem !== null) throw new InvalidArgumentError(`${id}: ${addrProblem}`);
    if (out.has(id)) throw new InvalidArgumentError(`member id ${id} appears twice`);
    for (const [other, a] of out) {
      if (a === address) {
        throw new InvalidArgumentError(`${id} and ${other} have the same address ${address}`);
      }
    }
    out.set(id, address);
  }
  return out;
}
