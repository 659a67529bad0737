// Requests that cannot be decoded get a contract status code, not INTERNAL.
//
// grpc-js answers INTERNAL "Error deserializing request" whenever a
// service's requestDeserialize throws, whatever the reason: a request too
// large for the client API, or bytes that are not the message at all. Both
// are the caller's mistake, so the contract's codes apply: RESOURCE_EXHAUSTED
// for too large, INVALID_ARGUMENT for undecodable. The deserializer cannot
// choose the code, so guardDecoding() makes it return a RefusedRequest
// instead of throwing, and decodeGuardInterceptor() answers that with its
// code before any handler (or the authorization interceptor's audit) sees a
// message. Install both on a server with guardServer().

import * as grpc from '@grpc/grpc-js';

/** What a guarded deserializer returns instead of throwing. */
export class RefusedRequest {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {}
}

export function isRefusedRequest(message: unknown): message is RefusedRequest {
  return message instanceof RefusedRequest;
}

/**
 * The service with every request's decoding guarded: over `maxBytes`
 * (checked before decoding), or undecodable, it becomes a RefusedRequest.
 */
export function guardDecoding(
  service: grpc.ServiceDefinition,
  maxBytes: number,
): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(service)) {
    out[name] = {
      ...m,
      requestDeserialize: (buf: Buffer): unknown => {
        if (buf.length > maxBytes) {
          return new RefusedRequest(
            grpc.status.RESOURCE_EXHAUSTED,
            `request of ${buf.length} bytes to ${m.path}; at most ${maxBytes} are accepted`,
          );
        }
        try {
          return m.requestDeserialize(buf) as unknown;
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          return new RefusedRequest(
            grpc.status.INVALID_ARGUMENT,
            `cannot decode the request to ${m.path} (${buf.length} bytes): ${why}`,
          );
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

type Listener = Parameters<grpc.ServerInterceptingCallInterface['start']>[0];

/**
 * A call that answers a RefusedRequest with its code; every other message
 * passes. A call to a method that takes one request and got none (a stream
 * ended early, or mid-message) or a second one is answered INVALID_ARGUMENT
 * here too: grpc-js would say UNIMPLEMENTED, which is not what went wrong.
 *
 * Once it has answered, the handler is told the call is cancelled (it stops
 * serving what it has in flight), and whatever the handler still writes is
 * dropped: a write after the status would make grpc-js end the call a second
 * time, with INTERNAL, and leave the client waiting for trailers that never
 * come. (A plain ServerInterceptingCall with a responder cannot drop a write
 * without leaving the handler waiting on its callback, hence the subclass.)
 */
class GuardedCall extends grpc.ServerInterceptingCall {
  private received = 0;
  private refused = false;

  constructor(
    private readonly inner: grpc.ServerInterceptingCallInterface,
    private readonly method: grpc.ServerMethodDefinition<unknown, unknown>,
  ) {
    super(inner);
  }

  override start(listener: Listener): void {
    const refuse = (code: grpc.status, details: string): void => {
      this.refused = true;
      this.inner.sendStatus({ code, details });
      listener.onCancel();
    };
    this.inner.start({
      onReceiveMetadata: (metadata) => listener.onReceiveMetadata(metadata),
      onReceiveMessage: (message) => {
        if (this.refused) return;
        if (isRefusedRequest(message)) return refuse(message.code, message.details);
        this.received++;
        if (!this.method.requestStream && this.received > 1) {
          return refuse(
            grpc.status.INVALID_ARGUMENT,
            `${this.method.path} takes one request message; a second one came`,
          );
        }
        listener.onReceiveMessage(message);
      },
      onReceiveHalfClose: () => {
        if (this.refused) return;
        if (!this.method.requestStream && this.received === 0) {
          return refuse(
            grpc.status.INVALID_ARGUMENT,
            `${this.method.path} takes one request message; the call ended without a complete one`,
          );
        }
        listener.onReceiveHalfClose();
      },
      onCancel: () => listener.onCancel(),
    });
  }

  override sendMetadata(metadata: grpc.Metadata): void {
    if (!this.refused) this.inner.sendMetadata(metadata);
  }

  override sendMessage(message: unknown, callback: () => void): void {
    if (this.refused) return callback();
    this.inner.sendMessage(message, callback);
  }

  override sendStatus(
    status: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0],
  ): void {
    if (!this.refused) this.inner.sendStatus(status);
  }
}

/** The interceptor that makes every call a GuardedCall; install it outermost (last). */
export function decodeGuardInterceptor(): grpc.ServerInterceptor {
  return (method, call) => new GuardedCall(call, method);
}

/**
 * Guards every service added to `server` from now on, the peer services and
 * health included; `maxBytesFor` gives each method path's request limit.
 * Pair with decodeGuardInterceptor() as the server's outermost interceptor.
 */
export function guardServer(server: grpc.Server, maxBytesFor: (path: string) => number): void {
  const addService = server.addService.bind(server);
  server.addService = (service, implementation) => {
    const first = Object.values(service)[0];
    const max = first === undefined ? Infinity : maxBytesFor(first.path);
    addService(guardDecoding(service, max), implementation);
  };
}

/** Status messages longer than this are cut (see boundedDetailsInterceptor). */
export const MAX_STATUS_DETAILS = 1024;

/** `details` cut to MAX_STATUS_DETAILS characters, saying how long it was. */
export function boundDetails(details: string): string {
  if (details.length <= MAX_STATUS_DETAILS) return details;
  return `${details.slice(0, MAX_STATUS_DETAILS)}… (cut; ${details.length} characters in all)`;
}

/**
 * Cuts every status message to MAX_STATUS_DETAILS characters. Messages quote
 * what the caller sent (a 56 KB member id appears twice in "a message from X
 * needs the certificate of member X"), and the message travels as the
 * grpc-message trailer: past the client's HTTP/2 header limit the trailers
 * are refused, the client waits until its deadline, and the stream stays
 * open on the server until a connection holds max_concurrent_streams of
 * them and refuses every new call (found by the fuzzer). Install it first
 * (innermost), so that every status, an interceptor's refusal included,
 * goes through it.
 */
export function boundedDetailsInterceptor(): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      sendStatus: (status, next) =>
        next(
          status.details === undefined
            ? status
            : { ...status, details: boundDetails(status.details) },
        ),
    });
}
