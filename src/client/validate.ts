// The client's side of src/common/validate.ts: the same rules, thrown as
// RaftseqError(INVALID_ARGUMENT) before anything is sent. The server stays
// the authority; these only give a clear error without a round trip.
import {
  countProblem,
  hostPortProblem,
  parseSequenceValue,
  sequenceNameProblem,
} from '../common/validate.js';
import { GrpcStatus, RaftseqError } from './errors.js';

/** Throws RaftseqError(INVALID_ARGUMENT) with `problem`, if there is one. */
export function check(problem: string | null): void {
  if (problem !== null) throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, problem);
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `name` is a valid sequence name. */
export function assertSequenceName(name: unknown): asserts name is string {
  check(sequenceNameProblem(name));
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `count` is an integer in 1..2^32-1. */
export function assertCount(count: unknown): asserts count is number {
  check(countProblem(count));
}

/** `to` as a sequence value (1 .. 2^63-1); throws RaftseqError(INVALID_ARGUMENT). */
export function toSequenceValue(to: bigint | number | string): bigint {
  const r = parseSequenceValue(to);
  if (!r.ok) throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, r.problem);
  return r.value;
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `value` is a non-empty string. */
export function requireText(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, `${name} is required`);
  }
}

/** Throws RaftseqError(INVALID_ARGUMENT) unless `value` is a host:port address. */
export function requireAddress(name: string, value: unknown): asserts value is string {
  requireText(name, value);
  const problem = hostPortProblem(value);
  if (problem !== null) throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, `${name}: ${problem}`);
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
