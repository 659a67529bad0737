// Settings of one raftseq node, after parsing and validation (src/node/config.ts
// merges flags, environment and config file into these).

import type { Advance } from '../backup/advance.js';

export interface NodeOptions {
  /** This member's id, e.g. "n1". Identity is the id, never the address. */
  id: string;
  /** host:port the gRPC server binds (client API, admin API and Raft). */
  listen: string;
  /** Address clients are redirected to; defaults to `listen`. */
  advertise: string;
  /** Data directory (created if missing). */
  dataDir: string;
  /**
   * id -> address this node dials, used only to bootstrap an empty data
   * directory. Null: join an existing cluster (wait to be contacted).
   */
  initialCluster: Map<string, string> | null;
  electionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Largest `count` one Next may ask for. */
  maxCount: number;
  /** Clock-drift bound for the leader lease, as a fraction of the election timeout. */
  leaseDriftFraction: number;
  /** Take a snapshot and compact the log after this many applied entries. */
  snapshotEntries: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /**
   * host:port of the Prometheus endpoint (http://<host:port>/metrics); port 0
   * picks a free port. Null or absent: no metrics server.
   */
  metricsListen?: string | null;
  /** TLS on the one port (--cert/--key/--ca, absolute paths), or null for plaintext. */
  tls?: { cert: string; key: string; ca: string } | null;
  /** --admin-token-file (absolute path), or null. */
  adminTokenFile?: string | null;
  /** --client-cert-auth: every client call needs a verified certificate. */
  clientCertAuth?: boolean;
  /** Creating a sequence beyond this many fails with RESOURCE_EXHAUSTED. */
  maxSequences?: number;
  /** --backup-dir and friends: automatic backups while leader, or null (off). */
  backup?: { dir: string; intervalMs: number; keep: number } | null;
  /**
   * serve --force-new-cluster with its advance: before starting, make this
   * member the only voter of a new cluster (src/server/force-new-cluster.ts).
   */
  forceNewCluster?: Advance | null;
  /** Enable the FaultInjection service (tests only). */
  enableFaultInjection: boolean;
}

export const DEFAULTS = {
  electionTimeoutMs: 1000,
  heartbeatIntervalMs: 100,
  maxCount: 100_000,
  leaseDriftFraction: 0.1,
  snapshotEntries: 10_000,
  maxSequences: 10_000_000,
  backupIntervalMs: 3_600_000,
  backupKeep: 24,
  logLevel: 'info',
  enableFaultInjection: false,
} as const;
