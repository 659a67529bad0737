// Shared shapes of the benchmark: load-generator jobs and results, table rows.

export type Target =
  /** raftseq.v1.Sequencer/Next, unary, to one address. */
  | { kind: 'unary'; address: string; sequence: string; count: number; names?: number }
  /**
   * raftseq.v1.Sequencer/NextStream over `streams` bidi streams. With `names`,
   * op i goes to sequence `${sequence}${i % names}` (to create many sequences).
   */
  | {
      kind: 'stream';
      address: string;
      sequence: string;
      count: number;
      streams: number;
      names?: number;
      /** The CA file of a TLS cluster: the streams speak TLS (no client certificate). */
      tlsCa?: string;
    }
  /** The SequenceClient library (names: spread calls over that many sequences). */
  | {
      kind: 'client';
      endpoints: string[];
      sequence: string;
      count: number;
      transport: 'unary' | 'stream';
      names?: number;
    }
  /** SequenceClient.lease(): values handed out in-process. */
  /** batch: values taken per op with tryNext() (synchronously); absent: one awaited next() per op. */
  | { kind: 'lease'; endpoints: string[]; sequence: string; blockSize: number; batch?: number }
  | { kind: 'etcd-put'; address: string; key: string }
  | { kind: 'etcd-cas'; address: string; key: string };

export interface Job {
  id: string;
  target: Target;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  maxOps: number;
}

export interface Latency {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface JobResult {
  id: string;
  ops: number;
  values: number;
  errors: number;
  firstErrors: string[];
  elapsedMs: number;
  latencyMs: Latency;
  clientCpuSec: number;
}

/** One row of the results table. */
export interface Row {
  system: string;
  config: string;
  concurrency: number;
  /** Successful operations per second. */
  opsPerSec: number;
  /** Sequence values per second (ops x count). */
  idsPerSec: number;
  latencyMs: Partial<Latency>;
  /** CPU cores used by the servers / the client during the window. */
  serverCores: number | null;
  clientCores: number | null;
  /** CPU microseconds per operation. */
  serverUsPerOp: number | null;
  clientUsPerOp: number | null;
  errors: number;
  note?: string;
  /** With --repeat: how many runs this row is the median of, and the range of their ops/s. */
  repeats?: number;
  opsPerSecRange?: [number, number];
}
