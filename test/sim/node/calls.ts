// Calling the real gRPC handlers (src/api) without gRPC: a fake server call
// carries the request, the deadline (as the server would reconstruct it from
// the client's timeout, on the server's own clock) and cancellation; the
// handler's callback becomes the outcome. This is how the simulator's clients
// reach the exact code a real client reaches, minus the wire.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { LEADER_METADATA_KEY } from '../../../src/api/status.js';

export interface Outcome {
  code: number;
  details: string;
  /** The response message (code OK). */
  value: Record<string, unknown> | null;
  /** The leader named in the trailing metadata of an error, if any. */
  leader: string | null;
}

type UnaryHandler = (call: unknown, callback: (err: unknown, value?: unknown) => void) => void;

export interface ServerCall {
  /** The client gave up (deadline or cancel): the server sees 'cancelled'. */
  cancel(): void;
}

/**
 * Starts `handler` on `request`. `deadlineWallMs` is on the server's wall
 * clock (Infinity: none). `done` is called at most once, when the handler answers.
 */
export function callUnary(
  handler: UnaryHandler,
  request: Record<string, unknown>,
  deadlineWallMs: number,
  done: (o: Outcome) => void,
): ServerCall {
  const events = new EventEmitter();
  const call = {
    request,
    cancelled: false,
    metadata: new grpc.Metadata(),
    getDeadline: () => deadlineWallMs,
    getPeer: () => 'sim-client',
    on: (ev: string, cb: () => void) => events.on(ev, cb),
  };
  let answered = false;
  handler(call, (err, value) => {
    if (answered) return;
    answered = true;
    done(toOutcome(err, value));
  });
  return {
    cancel: () => {
      if (call.cancelled) return;
      call.cancelled = true;
      events.emit('cancelled');
    },
  };
}

function toOutcome(err: unknown, value: unknown): Outcome {
  if (err === null || err === undefined) {
    return {
      code: grpc.status.OK,
      details: '',
      value: value as Record<string, unknown>,
      leader: null,
    };
  }
  const e = err as Partial<grpc.StatusObject>;
  const leader = e.metadata?.get(LEADER_METADATA_KEY)[0];
  return {
    code: e.code ?? grpc.status.UNKNOWN,
    details: e.details ?? '',
    value: null,
    leader: leader === undefined ? null : String(leader),
  };
}

type DuplexHandler = (call: unknown) => void;

/** The client's end of a simulated NextStream. */
export interface StreamEnd {
  /** Sends one request (delivered to the handler as a 'data' event). */
  write(request: Record<string, unknown>): void;
  /** Half-closes: no more requests. */
  end(): void;
  /** The client gave up: the server sees 'cancelled'. */
  cancel(): void;
}

/**
 * Starts a bidirectional-streaming `handler` (NextStream) on a fake server
 * call. `deliver` runs each client action as an input of the server process
 * (after the network's delay, or never); `onAnswer` receives every message
 * the server writes, `onClose` the stream's end (null) or error status.
 */
export function callDuplex(
  handler: DuplexHandler,
  deliver: (fn: () => void) => void,
  onAnswer: (answer: Record<string, unknown>) => void,
  onClose: (status: Outcome | null) => void,
): StreamEnd {
  const call = new EventEmitter() as EventEmitter & {
    cancelled: boolean;
    destroyed: boolean;
    writableEnded: boolean;
    metadata: grpc.Metadata;
    getPeer(): string;
    write(m: Record<string, unknown>): boolean;
    end(): void;
  };
  let closed = false;
  const close = (status: Outcome | null): void => {
    if (closed) return;
    closed = true;
    onClose(status);
  };
  call.cancelled = false;
  call.destroyed = false;
  call.writableEnded = false;
  call.metadata = new grpc.Metadata();
  call.getPeer = () => 'sim-client';
  call.write = (m) => {
    if (!closed) onAnswer(m);
    return true;
  };
  call.end = () => {
    call.writableEnded = true;
    close(null);
  };
  // A handler reports a stream-level failure by emitting 'error' with a
  // status; the stream is then over.
  const emit = call.emit.bind(call);
  call.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'error' && !call.cancelled) {
      call.destroyed = true;
      close(toOutcome(args[0], undefined));
      // grpc-js turns it into the call's status; nothing throws.
      if (call.listenerCount('error') === 0) return true;
    }
    return emit(event, ...args);
  };
  handler(call);
  return {
    write: (request) => deliver(() => !closed && emit('data', request)),
    end: () => deliver(() => !closed && emit('end')),
    cancel: () =>
      deliver(() => {
        if (call.cancelled) return;
        call.cancelled = true;
        emit('cancelled');
        close({ code: grpc.status.CANCELLED, details: 'cancelled', value: null, leader: null });
      }),
  };
}
