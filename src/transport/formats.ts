// The Raft wire formats this build speaks, and how a mixed-version cluster
// agrees on one (as etcd's cluster version does).
//
// - A node writes WIRE_FORMAT and reads it and the one before it
//   (MIN_WIRE_FORMAT), so a rolling upgrade always has a common language.
// - Each side announces the newest format it speaks when a link opens
//   (metadata `raftseq-format`, in the stream's request and in the answer's
//   initial metadata). A peer that announces nothing predates the
//   announcement and speaks format 1.
// - Every link carries the lower of the two sides' formats.
// - The cluster runs at the lowest format its voters share. A feature that
//   needs a newer format (FEATURES) turns on only once every voter, and the
//   peer it is used with, speaks it; until then the cluster behaves as the
//   older release did.
//
// History (append a line when bumping; keep reading the one before):
//  1: RaftBatch and SnapshotChunk as in raft.proto; snapshots travel raw.
//  2: links announce their format; SnapshotHeader.compression may say the
//     snapshot's chunks are deflate-compressed.

/** The newest wire format this build speaks (and writes to peers that speak it). */
export const WIRE_FORMAT = 2;
/** The oldest wire format this build accepts from a peer: one older. */
export const MIN_WIRE_FORMAT = 1;
/** What a peer speaks that announced nothing: it predates announcements. */
export const UNANNOUNCED_FORMAT = 1;
/** Metadata key announcing the newest wire format a side speaks. */
export const FORMAT_METADATA_KEY = 'raftseq-format';

/** Features that need a newer wire format than the oldest one accepted. */
export const FEATURES = {
  /** Snapshot chunks deflate-compressed (SnapshotHeader.compression = 1). */
  snapshotCompression: 2,
} as const satisfies Record<string, number>;

/** The format a peer announced (metadata value), or UNANNOUNCED_FORMAT if none or unreadable. */
export function announcedFormat(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : UNANNOUNCED_FORMAT;
}

/** The format a link carries: the lower of ours and the peer's. */
export function linkFormat(peer: number): number {
  return Math.min(WIRE_FORMAT, peer);
}

/**
 * The cluster's format: the lowest that this node and every other voter
 * speak. A voter this node has not heard from yet counts as the oldest
 * format accepted, so a feature never turns on by guess.
 */
export function clusterFormat(
  self: string,
  voters: readonly string[],
  known: (id: string) => number | undefined,
): number {
  let f = WIRE_FORMAT;
  for (const id of voters) {
    if (id === self) continue;
    f = Math.min(f, known(id) ?? MIN_WIRE_FORMAT);
  }
  return f;
}

/** Null when this build reads `version`, else why it is refused (one line). */
export function formatVersionError(version: number | undefined, what: string): string | null {
  const v = version ?? 0;
  if (v >= MIN_WIRE_FORMAT && v <= WIRE_FORMAT) return null;
  if (v > WIRE_FORMAT) {
    return `${what} has format_version ${v}, newer than this node understands (${MIN_WIRE_FORMAT}..${WIRE_FORMAT}); upgrade this node`;
  }
  return `${what} has format_version ${v}, older than this node accepts (${MIN_WIRE_FORMAT}..${WIRE_FORMAT}); upgrade the sender first`;
}
