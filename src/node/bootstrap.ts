// What a node finds in its data directory when it starts: the Raft state to
// resume from, or a fresh one (a founding member bootstraps from
// --initial-cluster; a joining member starts empty), and the directory's
// incarnation. Refusals are StartupErrors with one line for the operator.

import { bootstrapState, emptyState, type InitialState } from '../raft/index.js';
import { bootstrapData } from '../state/machine.js';
import type { RaftStorage } from '../storage/storage.js';
import type { NodeOptions } from './options.js';
import type { Entropy } from './runtime.js';

/** A refused start, with a one-line message for the operator. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The cluster knows another incarnation of this member: its data directory
 * was lost or replaced while the cluster existed. Going on could let it vote
 * or acknowledge without the entries it once acknowledged.
 */
export class DataDirectoryReplacedError extends Error {
  override name = 'DataDirectoryReplacedError';
  constructor(id: string, dataDir: string) {
    super(
      `member ${id}: the cluster knows another data directory for this member, so ${dataDir} was lost or replaced; ` +
        `remove the member (raftseq cluster leave --id ${id}) and add it back (raftseq cluster join) with an empty data directory`,
    );
  }
}

const META_NODE_ID = 'node-id';
/** A random id made when the data directory is created (see MemberCommand). */
const META_INCARNATION = 'incarnation';
/**
 * '0' in a data directory created by this version until the cluster has
 * confirmed its incarnation (registration, after catching up), then '1'.
 * Absent in directories made before it existed: those count as verified.
 */
const META_VERIFIED = 'verified';
/**
 * '1' in an emptied data directory that `cluster replace` prepared for a
 * member to rejoin (prepareRejoin): it starts as a joining member even if
 * its service still passes --initial-cluster, since bootstrapping a second
 * time would give it a bootstrap log of its own.
 */
const META_REJOIN = 'rejoin';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The data directory's incarnation, made (and stored) on first use. */
export async function loadIncarnation(storage: RaftStorage, entropy: Entropy): Promise<string> {
  const stored = await storage.getMeta(META_INCARNATION);
  if (stored !== null) return fromUtf8.decode(stored);
  const fresh = entropy.hex(8);
  await storage.setMeta(META_INCARNATION, utf8.encode(fresh));
  return fresh;
}

/**
 * Whether the cluster has confirmed this data directory (see META_VERIFIED).
 * An unverified member flags its votes: it may be an emptied directory
 * catching up, holding less than it once acknowledged.
 */
export async function loadVerified(storage: RaftStorage): Promise<boolean> {
  const v = await storage.getMeta(META_VERIFIED);
  return v === null || fromUtf8.decode(v) !== '0';
}

/** Records (durably) that the cluster confirmed this data directory. */
export function markVerified(storage: RaftStorage): Promise<void> {
  return storage.setMeta(META_VERIFIED, utf8.encode('1'));
}

/** The durable Raft state, or a bootstrapped / empty one for a new data directory. */
export async function loadOrBootstrap(
  storage: RaftStorage,
  options: Pick<NodeOptions, 'id' | 'dataDir' | 'initialCluster'>,
): Promise<InitialState> {
  const ownerBytes = await storage.getMeta(META_NODE_ID);
  const owner = ownerBytes === null ? null : fromUtf8.decode(ownerBytes);
  if (owner !== null && owner !== options.id) {
    throw new StartupError(
      `data directory ${options.dataDir} belongs to member ${owner}, not ${options.id}`,
    );
  }
  const state = await storage.load();
  if (state !== null) return state;
  await storage.setMeta(META_VERIFIED, utf8.encode('0'));
  if (options.initialCluster === null || (await storage.getMeta(META_REJOIN)) !== null) {
    await storage.setMeta(META_NODE_ID, utf8.encode(options.id));
    return emptyState();
  }
  if (!options.initialCluster.has(options.id)) {
    throw new StartupError(`--initial-cluster does not include this node's id ${options.id}`);
  }
  const members = new Map(options.initialCluster);
  const initial = bootstrapState([...members.keys()], bootstrapData(members, 1));
  await storage.persist([
    { snapshot: initial.snapshot, compacted: null, entries: [], hardState: initial.hardState },
  ]);
  await storage.setMeta(META_NODE_ID, utf8.encode(options.id));
  return initial;
}

/**
 * Makes an empty data directory the one of member `id` rejoining its
 * cluster (`cluster replace`): it belongs to `id`, is unverified (its votes
 * are flagged until the leader confirms its new incarnation), and starts as
 * a joining member whatever --initial-cluster says.
 */
export async function prepareRejoin(storage: RaftStorage, id: string): Promise<void> {
  if ((await storage.load()) !== null) {
    throw new StartupError('prepareRejoin needs an empty data directory');
  }
  await storage.setMeta(META_NODE_ID, utf8.encode(id));
  await storage.setMeta(META_VERIFIED, utf8.encode('0'));
  await storage.setMeta(META_REJOIN, utf8.encode('1'));
}
