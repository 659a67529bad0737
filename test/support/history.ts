// A history of Next operations, Jepsen style, for multi-process and
// jepsen-lite tests: every operation is an `invoke` followed (in the same
// process) by its completion, `ok`, `fail` (definitely did not happen) or
// `info` (indeterminate: it may or may not have taken effect).
//
// Times are process.hrtime.bigint() nanoseconds: CLOCK_MONOTONIC, which on
// Linux is one clock for every process of the machine, so histories written
// by several worker processes on one host can be merged and compared.
// Serialised as JSON Lines, with bigints as decimal strings.
import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { GrpcStatus, RaftseqError } from '../../src/client/index.js';
import type { NextResult } from '../../src/client/index.js';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface Op {
  /** The logical client (one outstanding op at a time per process). */
  process: number | string;
  type: OpType;
  f: 'next';
  sequence: string;
  /** Values asked for (invoke) or received (ok). */
  count: number;
  /** ok: the first value received (the values are first .. first+count-1). */
  first?: bigint;
  /** Monotonic nanoseconds. */
  time: bigint;
  error?: string;
}

/** The JSON form of an Op (bigints as strings). */
export interface OpJson {
  process: number | string;
  type: OpType;
  f: 'next';
  sequence: string;
  count: number;
  first?: string;
  time: string;
  error?: string;
}

export function now(): bigint {
  return process.hrtime.bigint();
}

export function opToJson(op: Op): OpJson {
  const out: OpJson = {
    process: op.process,
    type: op.type,
    f: op.f,
    sequence: op.sequence,
    count: op.count,
    time: op.time.toString(),
  };
  if (op.first !== undefined) out.first = op.first.toString();
  if (op.error !== undefined) out.error = op.error;
  return out;
}

const TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

export function opFromJson(value: unknown): Op {
  const o = value as Partial<OpJson> | null;
  if (o === null || typeof o !== 'object') throw new Error('history: op is not an object');
  if (typeof o.process !== 'number' && typeof o.process !== 'string') {
    throw new Error('history: op.process must be a number or string');
  }
  if (typeof o.type !== 'string' || !TYPES.has(o.type))
    throw new Error(`history: bad type ${String(o.type)}`);
  if (o.f !== 'next') throw new Error(`history: bad f ${String(o.f)}`);
  if (typeof o.sequence !== 'string') throw new Error('history: op.sequence must be a string');
  if (typeof o.count !== 'number' || !Number.isInteger(o.count))
    throw new Error('history: bad count');
  if (typeof o.time !== 'string' || !/^[0-9]+$/.test(o.time)) throw new Error('history: bad time');
  const op: Op = {
    process: o.process,
    type: o.type,
    f: 'next',
    sequence: o.sequence,
    count: o.count,
    time: BigInt(o.time),
  };
  if (o.first !== undefined) {
    if (typeof o.first !== 'string' || !/^[0-9]+$/.test(o.first))
      throw new Error('history: bad first');
    op.first = BigInt(o.first);
  }
  if (o.error !== undefined) op.error = String(o.error);
  return op;
}

export function toJsonl(ops: Iterable<Op>): string {
  let out = '';
  for (const op of ops) out += JSON.stringify(opToJson(op)) + '\n';
  return out;
}

export function fromJsonl(text: string): Op[] {
  const ops: Op[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    try {
      ops.push(opFromJson(JSON.parse(line)));
    } catch (e) {
      throw new Error(`history line ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return ops;
}

export function readHistory(path: string): Op[] {
  return fromJsonl(readFileSync(path, 'utf8'));
}

/** Merges histories of several processes into one, ordered by time (stable). */
export function mergeHistories(...histories: readonly (readonly Op[])[]): Op[] {
  const all = histories.flat().map((op, i) => ({ op, i }));
  all.sort((a, b) => (a.op.time < b.op.time ? -1 : a.op.time > b.op.time ? 1 : a.i - b.i));
  return all.map((x) => x.op);
}

/**
 * Whether an error of a Next definitely consumed nothing (`fail`) or may have
 * (`info`). Only errors about the request itself are definite: a retried call
 * that ran out of time may have reserved values on an attempt whose answer
 * was lost.
 */
export function classifyError(err: unknown): 'fail' | 'info' {
  if (err instanceof RaftseqError) {
    switch (err.code) {
      case GrpcStatus.INVALID_ARGUMENT:
      case GrpcStatus.OUT_OF_RANGE:
      case GrpcStatus.FAILED_PRECONDITION:
      case GrpcStatus.UNIMPLEMENTED:
        return 'fail';
      default:
        return 'info';
    }
  }
  return 'info';
}

/** Records operations in memory, optionally appending each as a JSON line to a file. */
export class History {
  readonly ops: Op[] = [];
  private pendingWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | null = null,
    private readonly clock: () => bigint = now,
  ) {}

  add(op: Omit<Op, 'time'> & { time?: bigint }): Op {
    const full: Op = { ...op, time: op.time ?? this.clock() };
    this.ops.push(full);
    if (this.file !== null) {
      const file = this.file;
      const line = JSON.stringify(opToJson(full)) + '\n';
      this.pendingWrite = this.pendingWrite.then(() => appendFile(file, line));
    }
    return full;
  }

  invoke(process: number | string, sequence: string, count = 1): Op {
    return this.add({ process, type: 'invoke', f: 'next', sequence, count });
  }

  ok(process: number | string, sequence: string, result: NextResult): Op {
    return this.add({
      process,
      type: 'ok',
      f: 'next',
      sequence,
      count: result.count,
      first: result.first,
    });
  }

  fail(process: number | string, sequence: string, count: number, error: unknown): Op {
    return this.add({ process, type: 'fail', f: 'next', sequence, count, error: errorText(error) });
  }

  info(process: number | string, sequence: string, count: number, error: unknown): Op {
    return this.add({ process, type: 'info', f: 'next', sequence, count, error: errorText(error) });
  }

  /**
   * Runs one Next through `next` and records invoke + completion. Resolves to
   * the result, or null if it failed (the error is in the history).
   */
  async record(
    process: number | string,
    sequence: string,
    count: number,
    next: (sequence: string, count: number) => Promise<NextResult>,
  ): Promise<NextResult | null> {
    this.invoke(process, sequence, count);
    try {
      const r = await next(sequence, count);
      this.ok(process, sequence, r);
      return r;
    } catch (e) {
      if (classifyError(e) === 'fail') this.fail(process, sequence, count, e);
      else this.info(process, sequence, count, e);
      return null;
    }
  }

  /** Waits until every line has been appended to the file. */
  flush(): Promise<void> {
    return this.pendingWrite;
  }

  toJsonl(): string {
    return toJsonl(this.ops);
  }
}

function errorText(e: unknown): string {
  if (e instanceof RaftseqError) return `${e.codeName}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
