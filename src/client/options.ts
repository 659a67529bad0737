// The options of SequenceClient: what a caller may set, the defaults, and
// their validation (every bad option is a RaftseqError(INVALID_ARGUMENT) from
// the constructor, before any channel is opened).
import type * as grpc from '@grpc/grpc-js';
import { clientCredentials, type ClientTls } from './credentials.js';
import { GrpcStatus, RaftseqError } from './errors.js';
import {
  ATTEMPT_TIMEOUT_MS,
  BACKOFF,
  DEADLINE_MS,
  MAX_REDIRECTS,
  type RetryPolicy,
} from './retry.js';
import { parseEndpoints } from './validate.js';

/** Defaults of {@link SequenceClientOptions}. */
export const CLIENT_DEFAULTS = {
  deadlineMs: DEADLINE_MS,
  attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
  backoffInitialMs: BACKOFF.initialMs,
  backoffMaxMs: BACKOFF.maxMs,
  backoffMultiplier: BACKOFF.multiplier,
  maxRedirects: MAX_REDIRECTS,
  transport: 'auto',
  streamMinInFlight: 2,
  maxStreams: 16,
  perStream: 4,
} as const;

/**
 * How {@link SequenceClient.next} reaches the leader: `'auto'` pipelines calls
 * over NextStream streams while at least `streamMinInFlight` calls are in
 * flight and uses unary Next otherwise; `'stream'` always streams; `'unary'`
 * never does.
 */
export type NextTransport = 'auto' | 'stream' | 'unary';

export interface BackoffOptions {
  /** Upper bound of the first backoff (ms). Default 25. */
  initialMs?: number;
  /** Upper bound of any backoff (ms). Default 100. */
  maxMs?: number;
  /** Growth of the upper bound per round. Default 2. */
  multiplier?: number;
}

export interface SequenceClientOptions {
  /**
   * Cluster members as `host:port` (IPv6 as `[::1]:7001`): an array or one
   * comma-separated string. Any member will do; redirects lead to the leader.
   */
  endpoints: string | readonly string[];
  /** Overall deadline of each call, retries included (ms). Default 10000. */
  deadlineMs?: number;
  /**
   * gRPC deadline of one attempt (ms), capped by what is left of the overall
   * deadline, so that one hung node (paused process, black-holed packets)
   * cannot use up the whole call. Default 3000.
   */
  attemptTimeoutMs?: number;
  /** Backoff between rounds of failed attempts; full jitter. */
  backoff?: BackoffOptions;
  /** Redirects followed at once before backing off (guards redirect loops). Default 4. */
  maxRedirects?: number;
  /**
   * TLS: the CA that signed the servers, and for mutual TLS this client's
   * certificate and key (all PEM). Default: plaintext.
   */
  tls?: ClientTls;
  /** An admin bearer token (`serve --admin-token-file`); sent over TLS only. */
  token?: string;
  /** Channel credentials made by hand (instead of `tls` and `token`). */
  credentials?: grpc.ChannelCredentials;
  /** Extra gRPC channel options. */
  channelOptions?: grpc.ChannelOptions;
  /** Source of randomness in [0, 1) for jitter (tests). Default Math.random. */
  random?: () => number;
  /**
   * How next() travels. Default `'auto'`: pipelined over a pool of
   * NextStream bidi streams to the leader while at least `streamMinInFlight`
   * calls are in flight (about ten times the calls/s of unary gRPC), unary
   * Next otherwise. `'unary'` never streams (e.g. through proxies that do
   * not pass bidi streams). A streamed call that meets an error the client
   * retries continues on the unary path within the same deadline.
   */
  transport?: NextTransport;
  /** In 'auto': calls in flight from which next() streams. Default 2. */
  streamMinInFlight?: number;
  /** Most NextStream streams per node. Default 16. */
  maxStreams?: number;
  /** Calls in flight per stream before another stream is opened. Default 4. */
  perStream?: number;
}

/** Per-call overrides. */
export interface CallOptions {
  /** Overall deadline of this call (ms); default: the client's deadlineMs. */
  deadlineMs?: number;
  /** Abort the call (rejects with CANCELLED). */
  signal?: AbortSignal;
}

/** {@link SequenceClientOptions} checked, with every default filled in. */
export interface ResolvedOptions {
  endpoints: string[];
  retry: RetryPolicy;
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  transport: NextTransport;
  streamMinInFlight: number;
  maxStreams: number;
  perStream: number;
}

/** Checks `options` and fills in the defaults. Throws RaftseqError(INVALID_ARGUMENT). */
export function resolveOptions(options: SequenceClientOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new RaftseqError(GrpcStatus.INVALID_ARGUMENT, 'SequenceClient needs { endpoints }');
  }
  const endpoints = parseEndpoints(options.endpoints);
  const d = CLIENT_DEFAULTS;
  const b = options.backoff;
  const transport = options.transport ?? d.transport;
  if (transport !== 'auto' && transport !== 'stream' && transport !== 'unary') {
    throw new RaftseqError(
      GrpcStatus.INVALID_ARGUMENT,
      `transport must be 'auto', 'stream' or 'unary', got ${String(transport)}`,
    );
  }
  return {
    endpoints,
    retry: {
      deadlineMs: positive('deadlineMs', options.deadlineMs, d.deadlineMs),
      attemptTimeoutMs: positive('attemptTimeoutMs', options.attemptTimeoutMs, d.attemptTimeoutMs),
      backoff: {
        initialMs: positive('backoff.initialMs', b?.initialMs, d.backoffInitialMs),
        maxMs: positive('backoff.maxMs', b?.maxMs, d.backoffMaxMs),
        multiplier: Math.max(1, positive('backoff.multiplier', b?.multiplier, d.backoffMultiplier)),
      },
      maxRedirects: Math.floor(positive('maxRedirects', options.maxRedirects, d.maxRedirects)),
      random: options.random ?? Math.random,
    },
    credentials: options.credentials ?? clientCredentials(options.tls, options.token),
    channelOptions: {
      // Reconnect quickly to a restarted node instead of sitting in backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...options.channelOptions,
    },
    transport,
    streamMinInFlight: Math.floor(
      positive('streamMinInFlight', options.streamMinInFlight, d.streamMinInFlight),
    ),
    maxStreams: Math.floor(positive('maxStreams', options.maxStreams, d.maxStreams)),
    perStream: Math.floor(positive('perStream', options.perStream, d.perStream)),
  };
}

/** The overall deadline of one call: its own `deadlineMs`, checked, or the client's. */
export function callDeadlineMs(options: CallOptions, clientDeadlineMs: number): number {
  return positive('deadlineMs', options.deadlineMs, clientDeadlineMs);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RaftseqError(
      GrpcStatus.INVALID_ARGUMENT,
      `${name} must be a positive number, got ${String(value)}`,
    );
  }
  return value;
}
