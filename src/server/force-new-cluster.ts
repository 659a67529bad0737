// `serve --force-new-cluster (--advance-by N | --advance-for DURATION)`: a
// member whose peers are gone for good becomes the only voter of a new
// cluster (as etcd --force-new-cluster), before the node starts.
//
// Safety:
// - Refused while this member can reach a majority of the old voters: they
//   (with it) can still elect a leader, and a second cluster beside them
//   would hand out their values again. Reachable means a member answers
//   Cluster/Status within PROBE_MS.
// - The survivor's log may lack reservations the old majority committed
//   (and served from) after its last entry; the advance covers those, as
//   restore's covers what happened after a backup. Every entry it holds is
//   counted, committed or not: an entry it acknowledged may have been
//   committed by the others.
// - A new cluster id: members of the old cluster that come back are refused
//   (identity.ts), instead of voting in or overwriting the new one.
// - The rates come from the survivor's rates file (rates-file.ts); without
//   one, --advance-for skips one block per sequence and says so.

import type * as grpc from '@grpc/grpc-js';
import { describeAdvance, type Advance } from '../backup/advance.js';
import { recoveredState, type RecoverInput } from '../backup/recover.js';
import { applyConfChange, type ConfState, type InitialState } from '../raft/index.js';
import { StartupError, writeNewCluster } from '../node/bootstrap.js';
import { assignClusterId, newClusterId } from '../node/identity.js';
import type { Logger } from '../node/logger.js';
import type { Entropy } from '../node/runtime.js';
import { raftseqApi } from '../proto/load.js';
import { SequenceStateMachine } from '../state/machine.js';
import type { RaftStorage } from '../storage/storage.js';
import { readRatesFile } from './rates-file.js';

/** How long an old voter gets to answer before it counts as unreachable. */
export const PROBE_MS = 2_000;

export interface ForceOptions {
  id: string;
  dataDir: string;
  listen: string;
  advance: Advance;
}

export interface ForceDeps {
  storage: RaftStorage;
  /** Whether the member at `address` answers (Cluster/Status) in time. */
  reachable(address: string): Promise<boolean>;
  entropy: Entropy;
  log: Logger;
}

/** The voters the log ends with: the snapshot's, then every conf entry after it. */
function lastConf(state: InitialState): ConfState {
  let conf: ConfState = state.snapshot.meta.conf;
  for (const e of state.entries) {
    if (e.type === 'conf' && e.change !== undefined) {
      conf =
        applyConfChange(conf, {
          type: e.change.type,
          id: e.change.id,
          context: e.change.context,
        }) ?? conf;
    }
  }
  return conf;
}

/** Rewrites `deps.storage` as the only voter of a new cluster; throws StartupError when refused. */
export async function forceNewCluster(o: ForceOptions, deps: ForceDeps): Promise<void> {
  const state = await deps.storage.load();
  if (state === null || state.snapshot.meta.index === 0) {
    throw new StartupError(
      `--force-new-cluster: data directory ${o.dataDir} holds no cluster to recover; ` +
        'restore one from a backup instead (raftseq snapshot restore)',
    );
  }
  // Everything this member holds, committed or not (see above).
  const sm = SequenceStateMachine.restore(state.snapshot.data);
  const unsafe = 'by' in o.advance && o.advance.unsafe === true;
  if (!unsafe) for (const e of state.entries) sm.apply(e);
  const voters = lastConf(state).voters;
  const others = voters.filter((v) => v !== o.id);
  const members = sm.members();
  const answers = await Promise.all(
    others.map(async (v) => ({ id: v, up: await deps.reachable(members.get(v) ?? '') })),
  );
  const up = answers.filter((a) => a.up).map((a) => a.id);
  const majority = Math.floor(voters.length / 2) + 1;
  const selfVotes = voters.includes(o.id) ? 1 : 0;
  if (up.length + selfVotes >= majority) {
    throw new StartupError(
      `--force-new-cluster refused: ${o.id} reaches ${up.length + selfVotes} of the ${voters.length} voters ` +
        `(${[...(selfVotes ? [o.id] : []), ...up].join(', ')}), a majority that can still elect a leader; ` +
        'restart it without --force-new-cluster, or stop the others for good first',
    );
  }

  const { rates, problem } = await readRatesFile(o.dataDir);
  if (problem !== null && !('by' in o.advance)) {
    deps.log.warn(
      { problem },
      'no recorded rates: --advance-for skips one block per sequence; pass --advance-by to skip more',
    );
  }
  const inputs: RecoverInput[] = [];
  for (const s of sm.sequences()) {
    const top = s.start - 1n > s.reserved ? s.start - 1n : s.reserved;
    inputs.push({ name: s.sequence, reserved: top, rate: rates.get(s.sequence) ?? 0 });
  }
  const withoutRate = inputs.filter((x) => x.rate === 0).length;
  if (withoutRate > 0 && !('by' in o.advance)) {
    deps.log.warn(
      { withoutRate, sequences: inputs.length },
      `${withoutRate} sequence(s) have no recorded rate: --advance-for skips one block of each`,
    );
  }
  const clusterId = newClusterId(deps.entropy);
  const address = members.get(o.id) ?? o.listen;
  const recovered = recoveredState(inputs, o.advance, new Map([[o.id, address]]), clusterId);
  await writeNewCluster(deps.storage, o.id, [o.id], recovered.data);
  await assignClusterId(deps.storage, clusterId);
  const s = recovered.skipped;
  deps.log.warn(
    {
      oldCluster: sm.clusterId || null,
      newCluster: clusterId,
      oldVoters: voters,
      unreachable: others,
      oldIndex: sm.lastApplied,
      sequences: s.sequences,
      skippedTotal: s.total.toString(),
      skippedMin: s.min.toString(),
      skippedMax: s.max.toString(),
      advance: describeAdvance(o.advance),
    },
    `FORCED A NEW CLUSTER: ${o.id} is now the only voter of cluster ${clusterId} ` +
      `(was ${sm.clusterId || 'a cluster without id'} of ${voters.join(', ')}, none of the others reachable); ` +
      `${s.sequences} sequence(s) advanced by ${describeAdvance(o.advance)}, ${s.total} values skipped in all; ` +
      'add members with `raftseq cluster join`; members of the old cluster are refused',
  );
}

/** A `reachable` that asks Cluster/Status over gRPC with `credentials`. */
export function statusProbe(
  credentials: grpc.ChannelCredentials,
): (address: string) => Promise<boolean> {
  const Cluster = raftseqApi().Cluster;
  return (address) =>
    new Promise((resolve) => {
      if (address === '') {
        resolve(false);
        return;
      }
      const c = new Cluster(address, credentials) as grpc.Client & {
        Status(
          req: object,
          opts: grpc.CallOptions,
          cb: (err: grpc.ServiceError | null) => void,
        ): void;
      };
      c.Status({}, { deadline: Date.now() + PROBE_MS }, (err) => {
        c.close();
        resolve(err === null);
      });
    });
}
