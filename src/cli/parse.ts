// Value parsers for the raftseq CLI: the rules of src/common/validate.ts, each
// problem thrown as commander's InvalidArgumentError, which commander turns
// into a usage error (exit 2).
import { InvalidArgumentError } from 'commander';
import {
  MAX_WIRE_COUNT,
  hostPortProblem,
  memberIdProblem,
  parseInteger,
  parseMilliseconds,
  parseSequenceValue as sequenceValue,
  sequenceNameProblem,
  type Parsed,
} from '../common/validate.js';

/** A usage error found after parsing (exit 2, with a hint to --help). */
export class UsageError extends Error {
  override name = 'UsageError';
}

function checked(problem: (value: string) => string | null): (value: string) => string {
  return (value) => {
    const p = problem(value);
    if (p !== null) throw new InvalidArgumentError(p);
    return value;
  };
}

function valueOf<T>(r: Parsed<T>): T {
  if (!r.ok) throw new InvalidArgumentError(r.problem);
  return r.value;
}

export const parseMemberId = checked(memberIdProblem);
export const parseHostPort = checked(hostPortProblem);
export const parseSequenceName = checked(sequenceNameProblem);

/** An integer in [min, max] written in decimal. */
export function integerParser(what: string, min: number, max: number): (value: string) => number {
  return (value) => valueOf(parseInteger(value, what, min, max));
}

export const parseCount = integerParser('count', 1, MAX_WIRE_COUNT);
export const parseMs = (value: string): number => valueOf(parseMilliseconds(value));

/** A sequence value 1 .. 2^63-1, kept exact as bigint. */
export function parseSequenceValue(value: string): bigint {
  return valueOf(sequenceValue(value));
}
