// Prometheus metrics of one node (prom-client), served on `serve --metrics-listen`
// by src/server/http.ts.
//
// Each node has its own Registry (several nodes can share a process in
// tests). Two kinds of metric:
//   - observed where things happen (the runtime calls the hooks below):
//     Next latency and outcome, commit and fsync latency, fsync batch size,
//     leader changes, snapshots, peer round trips;
//   - collected when scraped, from state the node keeps anyway: values served
//     and skipped and reservations (allocator totals), term, role, log and
//     commit indexes, lease, members, peer links (transport.stats()).
// Nothing here is on the Raft core's path; a hook costs a counter increment
// or a histogram observation.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Message, Role } from '../raft/index.js';
import type { AllocatorTotals, WasteCause } from '../state/allocator.js';
import type { LinkStats } from '../transport/transport.js';
import type { TickClock } from './clock.js';
import type { NodeEvents } from './events.js';
import type { Clock } from './runtime.js';
import type { NodeVersions } from './versions.js';

/** What the collectors read from the node at scrape time. */
export interface MetricsSource {
  readonly options: { id: string; listen: string; advertise: string };
  readonly clock: Clock;
  readonly tickTimes: TickClock;
  totals(): AllocatorTotals;
  linkStats(): Record<string, LinkStats>;
  /** Incoming Raft streams refused, by reason (e.g. `cluster-id`). */
  peerRefusals(): Readonly<Record<string, number>>;
  status(): {
    role: Role;
    term: number;
    leader: string | null;
    commit: number;
    firstIndex: number;
    lastIndex: number;
    conf: { voters: string[]; learners: string[] };
  };
  appliedIndex(): number;
  leaseRemainingMs(): number;
  versions(): NodeVersions;
}

const ROLES: readonly Role[] = ['follower', 'pre-candidate', 'candidate', 'leader'];
const WASTE_CAUSES: readonly WasteCause[] = ['block-remainder', 'crash', 'handover', 'advance'];

/** Seconds; from 50 µs (a Next served from memory) to 5 s. */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
];
const ENTRY_BUCKETS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

/** NotLeaderError -> not_leader: the outcome label of a failed Next. */
function outcomeOf(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (!/^[A-Za-z]+Error$/.test(name) || name === 'Error') return 'error';
  return name
    .replace(/Error$/, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Sets a counter to a total kept elsewhere (collect-on-scrape). */
function setCounter(c: Counter, value: number, labels?: Record<string, string>): void {
  if (labels === undefined) c.inc(value);
  else c.inc(labels, value);
}

export class NodeMetrics implements NodeEvents {
  readonly registry = new Registry();

  private readonly nextRequests: Counter<'outcome'>;
  private readonly nextDuration: Histogram;
  private readonly commitDuration: Histogram;
  private readonly fsyncDuration: Histogram;
  private readonly fsyncEntries: Histogram;
  private readonly leaderChanges: Counter;
  private readonly snapshotsTaken: Counter;
  private readonly snapshotsInstalled: Counter;
  private readonly peerRtt: Histogram<'peer'>;

  constructor(private readonly node: MetricsSource) {
    const registers = [this.registry];
    const src = node;

    new Gauge({
      name: 'raftseq_node_info',
      help: 'Always 1; labels name this member (id, listen and advertised address)',
      labelNames: ['id', 'listen', 'advertise'],
      registers,
      collect() {
        this.reset();
        const o = src.options;
        this.set({ id: o.id, listen: o.listen, advertise: o.advertise }, 1);
      },
    });

    new Gauge({
      name: 'raftseq_build_info',
      help:
        'Always 1; labels name this build: release version, git commit, data directory ' +
        'and record formats, and the newest and oldest Raft wire formats it speaks',
      labelNames: [
        'version',
        'commit',
        'storage_format',
        'record_format',
        'wire_format',
        'min_wire_format',
      ],
      registers,
      collect() {
        this.reset();
        const v = src.versions();
        this.set(
          {
            version: v.version,
            commit: v.commit,
            storage_format: String(v.storageFormat),
            record_format: String(v.recordFormat),
            wire_format: String(v.wireFormat),
            min_wire_format: String(v.minWireFormat),
          },
          1,
        );
      },
    });
    new Gauge({
      name: 'raftseq_cluster_wire_format',
      help:
        'The Raft wire format the cluster runs at as this node knows it: the lowest its ' +
        'voters speak (features of a newer format stay off below it)',
      registers,
      collect() {
        this.set(src.versions().clusterWireFormat);
      },
    });

    // -------------------------------------------------------- Next
    this.nextRequests = new Counter({
      name: 'raftseq_next_requests_total',
      help:
        'Next requests that reached the allocator (the leader), by outcome: ok, not_leader, ' +
        'lease_expired, reservation_failed, out_of_range, invalid_argument, cancelled, error',
      labelNames: ['outcome'],
      registers,
    });
    this.nextDuration = new Histogram({
      name: 'raftseq_next_duration_seconds',
      help: 'Time to serve a successful Next inside the node (allocator), in seconds',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const allocatorTotals = () => {
      const t = src.totals();
      const skipped = {} as Record<WasteCause, number>;
      for (const c of WASTE_CAUSES) skipped[c] = Number(t.skipped[c]);
      return {
        served: Number(t.served),
        skipped,
        proposed: t.reservationsProposed,
        committed: t.reservationsCommitted,
        failed: t.reservationsFailed,
      };
    };
    new Counter({
      name: 'raftseq_values_served_total',
      help: 'Sequence values handed out by this node while leader (all sequences)',
      registers,
      collect() {
        this.reset();
        setCounter(this, allocatorTotals().served);
      },
    });
    new Counter({
      name: 'raftseq_values_skipped_total',
      help:
        'Sequence values never handed out, by cause: block-remainder, crash, handover, advance ' +
        '(counted by this node when it learns where the next leader started)',
      labelNames: ['cause'],
      registers,
      collect() {
        this.reset();
        const t = allocatorTotals();
        for (const c of WASTE_CAUSES) setCounter(this, t.skipped[c], { cause: c });
      },
    });
    new Counter({
      name: 'raftseq_reservations_proposed_total',
      help: 'Block reservations proposed by this node as leader (one per sequence per reservation)',
      registers,
      collect() {
        this.reset();
        setCounter(this, allocatorTotals().proposed);
      },
    });
    new Counter({
      name: 'raftseq_reservations_committed_total',
      help: 'Block reservations proposed by this node that committed',
      registers,
      collect() {
        this.reset();
        setCounter(this, allocatorTotals().committed);
      },
    });
    new Counter({
      name: 'raftseq_reservations_failed_total',
      help: 'Block reservations proposed by this node that did not commit',
      registers,
      collect() {
        this.reset();
        setCounter(this, allocatorTotals().failed);
      },
    });

    // -------------------------------------------------------- log and disk
    this.commitDuration = new Histogram({
      name: 'raftseq_commit_duration_seconds',
      help: 'From proposing an entry (reservation, hand-over, ...) to its being applied here, in seconds',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fsyncDuration = new Histogram({
      name: 'raftseq_fsync_duration_seconds',
      help: 'Duration of one group-commit write (one batch, fsynced unless it only moves the commit index), in seconds',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fsyncEntries = new Histogram({
      name: 'raftseq_fsync_batch_entries',
      help: 'Log entries written by one group-commit write',
      buckets: ENTRY_BUCKETS,
      registers,
    });
    const indexGauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    indexGauge(
      'raftseq_log_first_index',
      'First log index held after the snapshot',
      () => src.status().firstIndex,
    );
    indexGauge('raftseq_log_last_index', 'Last log index', () => src.status().lastIndex);
    indexGauge('raftseq_commit_index', 'Highest index known committed', () => src.status().commit);
    indexGauge('raftseq_applied_index', 'Highest index applied here', () => src.appliedIndex());
    new Gauge({
      name: 'raftseq_log_entries',
      help: 'Entries in the log after the snapshot (last - first + 1)',
      registers,
      collect() {
        const st = src.status();
        this.set(Math.max(0, st.lastIndex - st.firstIndex + 1));
      },
    });
    this.snapshotsTaken = new Counter({
      name: 'raftseq_snapshots_taken_total',
      help: 'Snapshots taken here (the log compacted behind them)',
      registers,
    });
    this.snapshotsInstalled = new Counter({
      name: 'raftseq_snapshots_installed_total',
      help: 'Snapshots received from the leader and installed',
      registers,
    });

    // -------------------------------------------------------- Raft
    indexGauge('raftseq_term', 'Current Raft term', () => src.status().term);
    new Gauge({
      name: 'raftseq_role',
      help: 'This node’s Raft role: 1 for the current one (learners are followers here)',
      labelNames: ['role'],
      registers,
      collect() {
        const role = src.status().role;
        for (const r of ROLES) this.set({ role: r }, r === role ? 1 : 0);
      },
    });
    new Gauge({
      name: 'raftseq_is_leader',
      help: '1 while this node is the leader',
      registers,
      collect() {
        this.set(src.status().role === 'leader' ? 1 : 0);
      },
    });
    this.leaderChanges = new Counter({
      name: 'raftseq_leader_changes_total',
      help: 'Times this node learned of a new leader',
      registers,
    });
    new Gauge({
      name: 'raftseq_lease_remaining_seconds',
      help: 'Leader lease left (0 unless leader); a leader serves only while it is positive',
      registers,
      collect() {
        this.set(src.leaseRemainingMs() / 1000);
      },
    });
    new Gauge({
      name: 'raftseq_members',
      help: 'Members of the configuration this node knows, by kind (voter, learner)',
      labelNames: ['kind'],
      registers,
      collect() {
        const conf = src.status().conf;
        this.set({ kind: 'voter' }, conf.voters.length);
        this.set({ kind: 'learner' }, conf.learners.length);
      },
    });

    // -------------------------------------------------------- peers
    this.peerRtt = new Histogram({
      name: 'raftseq_peer_round_trip_seconds',
      help: 'Leader heartbeat to a peer and its answer back, in seconds',
      labelNames: ['peer'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'raftseq_peer_connected',
      help: '1 while the stream to the peer is open',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, s] of Object.entries(src.linkStats())) {
          this.set({ peer }, s.connected ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'raftseq_peer_queued_messages',
      help: 'Messages waiting to be sent to the peer',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, s] of Object.entries(src.linkStats())) this.set({ peer }, s.queued);
      },
    });
    new Counter({
      name: 'raftseq_peer_refused_total',
      help: 'Incoming Raft streams and snapshots refused, by reason (cluster-id: the sender belongs to another cluster)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(src.peerRefusals())) {
          setCounter(this, n, { reason });
        }
      },
    });
    new Counter({
      name: 'raftseq_peer_dropped_messages_total',
      help: 'Messages to the peer discarded (link down, queue full, snapshot busy)',
      labelNames: ['peer'],
      registers,
      collect() {
        this.reset();
        for (const [peer, s] of Object.entries(src.linkStats())) {
          setCounter(this, s.dropped, { peer });
        }
      },
    });
  }

  // ---------------------------------------------------------------- hooks

  /**
   * A Next refused before it reached the allocator (for the API layer to
   * call): `not_leader` (redirected), `invalid_argument`, ...
   */
  nextRejected(outcome: string): void {
    this.nextRequests.inc({ outcome });
  }

  /** A Next answered by the allocator after `ms`. */
  nextAnswered(ms: number): void {
    this.nextRequests.inc({ outcome: 'ok' });
    this.nextDuration.observe(ms / 1000);
  }

  /** A Next that reached the allocator and failed. */
  nextFailed(err: unknown): void {
    this.nextRequests.inc({ outcome: outcomeOf(err) });
  }

  fsync(ms: number, entries: number): void {
    this.fsyncDuration.observe(ms / 1000);
    this.fsyncEntries.observe(entries);
  }

  commit(ms: number): void {
    this.commitDuration.observe(ms / 1000);
  }

  leaderKnown(): void {
    this.leaderChanges.inc();
  }

  snapshotTaken(): void {
    this.snapshotsTaken.inc();
  }

  snapshotInstalled(): void {
    this.snapshotsInstalled.inc();
  }

  applied(): void {}

  /**
   * Every message from a peer. A heartbeat answer echoes the tick its
   * heartbeat was sent at; heartbeats leave right after their tick, so the
   * time since that tick is the round trip.
   */
  peerMessage(m: Message): void {
    if (m.type !== 'heartbeat-resp') return;
    const sentAt = this.node.tickTimes.timeOf(m.sentTick);
    if (sentAt !== undefined)
      this.peerRtt.observe({ peer: m.from }, (this.node.clock.now() - sentAt) / 1000);
  }

  /** Adds the default Node.js process metrics (CPU, memory, event-loop lag) to the registry. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }
}
