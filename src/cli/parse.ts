// Value parsers for the raftseq CLI. Each throws commander's
// InvalidArgumentError, which commander turns into a usage error (exit 2).
import { InvalidArgumentError } from 'commander';
import { memberIdProblem } from '../node/config.js';
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

export { MEMBER_ID, memberIdProblem } from '../node/config.js';

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
