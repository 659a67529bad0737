// What a node reports as it runs: the hooks the Prometheus metrics (and the
// status page's event list) hang on. The runtime calls them where things
// happen; the default does nothing, so the simulator and tests need no
// metrics registry. Each hook must be cheap and must not throw.

import type { Entry, Message, NodeId } from '../raft/index.js';
import type { ApplyResult } from '../state/machine.js';

export interface NodeEvents {
  /** A group-commit write finished: its duration (ms) and entry count. */
  fsync(ms: number, entries: number): void;
  /** A proposal of this node was applied `ms` after it was proposed. */
  commit(ms: number): void;
  /** A (new) leader became known to this node. */
  leaderKnown(leader: NodeId): void;
  /** This node took a snapshot at `index` and compacted its log. */
  snapshotTaken(index: number, bytes: number, ms: number): void;
  /** A snapshot from the leader was installed at `index`. */
  snapshotInstalled(index: number): void;
  /** Every message from a peer, before it is stepped. */
  peerMessage(m: Message): void;
  /** A Next was answered after `ms` (inside the node). */
  nextAnswered(ms: number): void;
  /** A Next that reached the allocator failed. */
  nextFailed(err: unknown): void;
  /** A Next refused before the allocator: `not_leader`, `invalid_argument`. */
  nextRejected(outcome: string): void;
  /** A committed entry was applied to the state machine here. */
  applied(entry: Entry, result: ApplyResult): void;
}

export const NO_EVENTS: NodeEvents = {
  fsync: () => {},
  commit: () => {},
  leaderKnown: () => {},
  snapshotTaken: () => {},
  snapshotInstalled: () => {},
  peerMessage: () => {},
  nextAnswered: () => {},
  nextFailed: () => {},
  nextRejected: () => {},
  applied: () => {},
};

/**
 * One NodeEvents that calls each listener's hooks in turn (metrics, health,
 * the status page): each listener implements only the hooks it needs.
 */
export function combineEvents(...listeners: Partial<NodeEvents>[]): NodeEvents {
  const all = <K extends keyof NodeEvents>(k: K): NodeEvents[K] => {
    const fns = listeners.flatMap((l) => {
      const f = l[k];
      return f === undefined ? [] : [f.bind(l) as (...a: unknown[]) => void];
    });
    if (fns.length === 0) return NO_EVENTS[k];
    if (fns.length === 1) return fns[0] as NodeEvents[K];
    return ((...args: unknown[]) => {
      for (const f of fns) f(...args);
    }) as NodeEvents[K];
  };
  return {
    fsync: all('fsync'),
    commit: all('commit'),
    leaderKnown: all('leaderKnown'),
    snapshotTaken: all('snapshotTaken'),
    snapshotInstalled: all('snapshotInstalled'),
    peerMessage: all('peerMessage'),
    nextAnswered: all('nextAnswered'),
    nextFailed: all('nextFailed'),
    nextRejected: all('nextRejected'),
    applied: all('applied'),
  };
}
