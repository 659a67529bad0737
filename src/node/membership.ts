// Membership as the runtime sees it: who the peers are and at which address
// each is dialled, the addresses clients are redirected to, learners promoted
// once caught up, and this member's record in the log (its data directory's
// incarnation and its --advertise address).

import { BOOTSTRAP_INDEX, type NodeId, type Status } from '../raft/index.js';
import type { Command } from '../state/commands.js';
import type { SequenceStateMachine } from '../state/machine.js';
import type { Transport } from '../transport/transport.js';
import { DataDirectoryReplacedError } from './bootstrap.js';
import type { ReadyDriver } from './driver.js';
import type { Logger } from './logger.js';

export interface MembershipOptions {
  id: NodeId;
  advertise: string;
  dataDir: string;
  /** This data directory's incarnation. */
  incarnation: string;
  sm: SequenceStateMachine;
  transport: Transport;
  driver: ReadyDriver;
  status: () => Status;
  log: Logger;
}

export type RegisterOutcome = 'ok' | 'replaced' | 'not-member';

export class Membership {
  /** Addresses announced by peers the log does not (yet) know. */
  private readonly learnedPeers = new Map<NodeId, string>();

  constructor(private readonly o: MembershipOptions) {}

  /**
   * The address a peer that does not know us yet (a joining node) should
   * answer us at: our own entry in the member list, which is how the other
   * members dial us (from --initial-cluster or `cluster join --addr`). Not
   * --advertise: that is for clients and may be a published or NAT address
   * that peers cannot reach (as in deploy/docker-compose.yml).
   */
  private peerFacingAddress(): string {
    return this.o.sm.members().get(this.o.id) || this.o.advertise;
  }

  /**
   * Tells the transport the current peers (after any membership change or
   * snapshot): the members in the log, and whoever else contacted us, at the
   * address it announced (the log's address wins for a member).
   */
  updatePeers(): void {
    this.o.transport.setSelfAddress(this.peerFacingAddress());
    const members = this.o.sm.members();
    for (const id of members.keys()) this.learnedPeers.delete(id);
    const peers = new Map([...this.learnedPeers, ...members]);
    peers.delete(this.o.id);
    this.o.transport.setPeers(peers);
  }

  /**
   * A peer our log has no address for contacted us: answer it at the address
   * it announces. A joining node knows nobody before the leader's snapshot;
   * a member whose log lags behind a join cannot otherwise answer the new
   * member (its votes, its appends), and a cluster whose only electable
   * member is that new one would never elect a leader.
   */
  learnPeer(id: NodeId, address: string): void {
    if (this.o.sm.members().has(id) || this.learnedPeers.get(id) === address) return;
    this.learnedPeers.set(id, address);
    this.o.log.info({ peer: id, address }, 'learned a peer address from an incoming stream');
    this.updatePeers();
  }

  /** The address peers dial `id` at (this node: its --advertise). */
  memberAddress(id: NodeId): string | null {
    if (id === this.o.id) return this.o.advertise;
    return this.o.sm.members().get(id) ?? null;
  }

  /** The address clients are redirected to for `id`: its --advertise, as recorded in the log. */
  advertisedAddress(id: NodeId): string | null {
    if (id === this.o.id) return this.o.advertise;
    return this.o.sm.member(id)?.advertise || this.memberAddress(id);
  }

  /**
   * Throws (fail-stop) if the log records another incarnation of this
   * member. Judged only once this node has applied everything it knows to be
   * committed: a member that was removed and added back with an empty
   * directory replays its old record (and the removal that voids it) while
   * it catches up, and only the record in force at the end counts.
   */
  checkIncarnation(): void {
    if (this.o.sm.lastApplied < this.o.status().commit) return;
    const known = this.o.sm.member(this.o.id);
    if (known !== undefined && known.incarnation !== this.o.incarnation) {
      throw new DataDirectoryReplacedError(this.o.id, this.o.dataDir);
    }
  }

  /**
   * Whether this member should (re-)register its incarnation and advertised
   * address: it is a member, has caught up with everything it knows to be
   * committed (so it would have seen an older record of itself), and its data
   * directory is not verified yet, or the log holds no record or a
   * different advertised address.
   */
  needsRegistration(verified: boolean): boolean {
    const st = this.o.status();
    const isMember = st.conf.voters.includes(st.id) || st.conf.learners.includes(st.id);
    if (!isMember || st.commit <= BOOTSTRAP_INDEX || this.o.sm.lastApplied < st.commit) {
      return false;
    }
    const known = this.o.sm.member(this.o.id);
    return !verified || known === undefined || known.advertise !== this.o.advertise;
  }

  /**
   * Leader side of RegisterMember: record a member's incarnation and address.
   * Refused when the log already holds another incarnation of it.
   */
  async registerMember(
    id: NodeId,
    incarnation: string,
    advertise: string,
    propose: (cmd: Command) => Promise<void>,
  ): Promise<RegisterOutcome> {
    const st = this.o.status();
    if (!st.conf.voters.includes(id) && !st.conf.learners.includes(id)) return 'not-member';
    const known = this.o.sm.member(id);
    if (known !== undefined && known.incarnation !== incarnation) return 'replaced';
    if (known !== undefined && known.advertise === advertise) return 'ok';
    await propose({ type: 'member', id, incarnation, advertise });
    this.o.log.info({ member: id, advertise }, 'recorded member incarnation and address');
    return 'ok';
  }

  /**
   * Learners are promoted to voters once they have caught up with the
   * leader's commit index: a member never votes before it holds the log.
   */
  maybePromoteLearners(): void {
    const st = this.o.status();
    if (st.role !== 'leader' || st.conf.learners.length === 0) return;
    for (const p of st.progress) {
      if (p.voter || !st.conf.learners.includes(p.id)) continue;
      if (p.match < st.commit) continue;
      const r = this.o.driver.proposeConfChange({
        type: 'promote',
        id: p.id,
        context: new Uint8Array(0),
      });
      if (r.ok) {
        this.o.log.info({ member: p.id, index: r.index }, 'learner caught up; promoting to voter');
      }
      return; // one change at a time
    }
  }
}
