// This node's cluster id: what it announces on every Raft link and checks
// every incoming one against (src/transport/cluster-id.ts), so that an old
// member that comes back after its cluster was restored or re-formed is
// refused instead of voting in, or overwriting the log of, the new cluster.
//
// How every member comes to hold the same id:
// - The id is replicated state: a `cluster` command in the log, then every
//   snapshot (SequenceStateMachine.clusterId). The first one applied wins and
//   never changes afterwards, so all members agree by the log's order.
// - A cluster without one gets one from its leader. That covers a new cluster
//   (its founding members bootstrap each on its own from --initial-cluster
//   and could not agree on a random id without the log) and a cluster
//   upgraded from a release before ids (its existing data directories get
//   the id on first start after the upgrade, once the cluster runs this
//   release everywhere). The leader proposes a random id (injected entropy)
//   once its term's no-op is applied and every other member has announced
//   that it checks cluster ids: an older release could not apply the
//   command. Two successive leaders may both propose one; the log orders
//   them and the first applied wins on every member.
// - A member keeps a copy in its data directory (meta `cluster-id`, fsynced)
//   as soon as it applies the id, so after a restart it announces and checks
//   the id before it has replayed anything.
// - A new cluster made from a backup or a survivor (restore,
//   --force-new-cluster) gets a new id: its snapshot carries it
//   (bootstrapData(..., id) or SequenceStateMachine.replaceClusterId) and so
//   does the directory (assignClusterId).

import type { NodeId, Status } from '../raft/index.js';
import { CLUSTER_ID_PATTERN, type Command } from '../state/commands.js';
import type { SequenceStateMachine } from '../state/machine.js';
import type { RaftStorage } from '../storage/storage.js';
import type { Transport } from '../transport/transport.js';
import { StartupError } from './bootstrap.js';
import type { Logger } from './logger.js';
import type { Entropy } from './runtime.js';

const META_CLUSTER_ID = 'cluster-id';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A fresh random cluster id: 16 hex digits. */
export function newClusterId(entropy: Entropy): string {
  return entropy.hex(8);
}

/** The cluster id kept in a data directory, '' if none. */
export async function loadClusterId(storage: RaftStorage): Promise<string> {
  const stored = await storage.getMeta(META_CLUSTER_ID);
  return stored === null ? '' : fromUtf8.decode(stored);
}

/**
 * Records (fsynced) `id` as the data directory's cluster id, replacing any
 * other. For a running member ClusterIdentity does this; tools that write
 * the data directory of a new cluster (restore, --force-new-cluster) call it
 * together with a snapshot that carries the same id, since a directory whose
 * two disagree is refused at start.
 */
export function assignClusterId(storage: RaftStorage, id: string): Promise<void> {
  if (!CLUSTER_ID_PATTERN.test(id)) {
    return Promise.reject(
      new RangeError(`cluster id ${JSON.stringify(id)} is not 1..64 hex digits`),
    );
  }
  return storage.setMeta(META_CLUSTER_ID, utf8.encode(id));
}

/**
 * The log holds another cluster's id than the one this member belongs to:
 * a node of another cluster got entries or a snapshot past the transport's
 * check. Fail-stop rather than mix two clusters' state.
 */
export class ClusterIdMismatchError extends Error {
  override name = 'ClusterIdMismatchError';
}

export interface ClusterIdentityOptions {
  id: NodeId;
  dataDir: string;
  sm: SequenceStateMachine;
  storage: RaftStorage;
  transport: Transport;
  entropy: Entropy;
  status: () => Status;
  propose: (cmd: Command) => Promise<void>;
  fail: (err: Error) => void;
  log: Logger;
}

export class ClusterIdentity {
  /** The id this member belongs to ('' until it has one). */
  private current: string;
  /** The id its data directory holds. */
  private stored: string;
  private proposing = false;

  /**
   * `stored`: loadClusterId() of the data directory. Refuses (StartupError)
   * a directory whose meta and snapshot name different clusters.
   */
  constructor(
    private readonly o: ClusterIdentityOptions,
    stored: string,
  ) {
    const inState = o.sm.clusterId;
    if (stored !== '' && inState !== '' && stored !== inState) {
      throw new StartupError(
        `data directory ${o.dataDir} belongs to cluster ${stored} but its snapshot to cluster ${inState}; ` +
          `it was not written by raftseq as one: rebuild this member (see "Corrupt member" in docs/operations.md)`,
      );
    }
    this.stored = stored;
    this.current = stored || inState;
    o.transport.setClusterId(this.current);
    this.persist();
  }

  /** This member's cluster id, '' while it has none. */
  get id(): string {
    return this.current;
  }

  /** After a `cluster` command was applied or a snapshot installed: adopt the state's id. */
  sync(): void {
    const inState = this.o.sm.clusterId;
    if (inState === '' || inState === this.current) return this.persist();
    if (this.current !== '') {
      this.o.fail(
        new ClusterIdMismatchError(
          `member ${this.o.id} belongs to cluster ${this.current} but applied state of cluster ${inState}; ` +
            `stopping instead of mixing two clusters (see "Cluster id" in docs/operations.md)`,
        ),
      );
      return;
    }
    this.current = inState;
    this.o.transport.setClusterId(inState);
    this.o.log.info({ cluster: inState }, 'this member belongs to cluster ' + inState);
    this.persist();
  }

  /** Keeps the data directory's copy in step with the id in force (fsynced). */
  private persist(): void {
    const id = this.current;
    if (id === '' || id === this.stored) return;
    this.stored = id;
    assignClusterId(this.o.storage, id).catch((err: unknown) => {
      this.stored = '';
      this.o.fail(err instanceof Error ? err : new Error(String(err)));
    });
  }

  /**
   * Leader side (every tick): a cluster without an id gets one, once this
   * leader's no-op is applied and every other member announced that it
   * checks cluster ids (runs a release that can apply the command).
   */
  maybePropose(): void {
    if (this.current !== '' || this.o.sm.clusterId !== '' || this.proposing) return;
    const st = this.o.status();
    if (st.role !== 'leader' || this.o.sm.lastNoopTerm !== st.term) return;
    const links = this.o.transport.stats();
    for (const member of [...st.conf.voters, ...st.conf.learners]) {
      if (member !== st.id && links[member]?.announcesClusterId !== true) return;
    }
    this.proposing = true;
    const id = newClusterId(this.o.entropy);
    this.o.propose({ type: 'cluster', id }).then(
      () => {
        this.proposing = false;
      },
      (err: unknown) => {
        this.proposing = false; // lost leadership: the next leader proposes (or applies ours)
        this.o.log.debug({ err: (err as Error).message }, 'proposing a cluster id failed');
      },
    );
  }
}
