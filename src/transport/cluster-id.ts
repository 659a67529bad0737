// Cluster identity on the Raft wire. Every stream a node opens (Send and
// InstallSnapshot) announces the sender's cluster id in its metadata
// (`raftseq-cluster`), and the answer to a Send stream announces the
// receiver's. A node refuses a stream whose sender belongs to another
// cluster: an old member that comes back after its cluster was restored or
// forced into a new one must not vote in, or overwrite the log of, the new
// cluster. This is not a wire-format change: a release before cluster ids
// announces nothing and ignores the key, so a peer one format older (or of
// the same format without ids) is still accepted, and an unknown id (a
// joining node, or a cluster that has not adopted one yet) is never refused.

/** Metadata key carrying the sender's (or, in an answer, the receiver's) cluster id. */
export const CLUSTER_METADATA_KEY = 'raftseq-cluster';
/** Announced by a node that knows no cluster id yet. */
export const NO_CLUSTER_ID = 'none';
/** The `reason` label of a stream refused for its cluster id. */
export const REFUSED_CLUSTER_ID = 'cluster-id';

/** What to announce for `own` ('' = none yet). */
export function announceClusterId(own: string): string {
  return own === '' ? NO_CLUSTER_ID : own;
}

/**
 * The cluster id a peer announced: '' when it knows none yet, undefined
 * when it announced nothing at all (a release before cluster ids).
 */
export function announcedClusterId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value === NO_CLUSTER_ID ? '' : value;
}

/**
 * Null when traffic from a sender that announced `theirs` may reach a node
 * of cluster `own`, else why not (one line). Only two known, different ids
 * are refused.
 */
export function clusterIdRefusal(
  own: string,
  theirs: string | undefined,
  sender: string,
): string | null {
  if (own === '' || theirs === undefined || theirs === '' || theirs === own) return null;
  return (
    `${sender || 'a peer'} belongs to cluster ${theirs}, this node to cluster ${own}: ` +
    `refusing its Raft traffic (an old member of a restored or re-formed cluster? see docs/operations.md)`
  );
}

/**
 * Decides which refusals are logged: the first of each sender and id, then
 * at most one per `intervalMs`, so a peer that retries every few seconds
 * does not flood the log (the metric counts every one).
 */
export class RefusalLog {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  shouldLog(key: string): boolean {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.intervalMs) return false;
    if (this.last.size >= 1024) this.last.clear(); // bounded, whoever keeps knocking
    this.last.set(key, t);
    return true;
  }
}
