// `raftseq cluster replace`: rebuilds a member whose data directory is lost
// or corrupt (it refuses to start) from the leader, in one command instead
// of leave, wipe and join by hand:
//
//  1. refuses unless the member is down (it answers nobody at its address)
//     and --data is a raftseq data directory no live process holds;
//  2. removes the member (a down voter: the cluster tolerates what it did);
//  3. empties --data and prepares it to rejoin (src/node/bootstrap.ts
//     prepareRejoin): a new incarnation, unverified, starting as a joining
//     member even if its service still passes --initial-cluster;
//  4. adds it back as a learner at its old addresses. Started again, it
//     catches up from the leader's snapshot and is promoted once it holds
//     the log; until the leader confirms its new incarnation its votes are
//     flagged and never decide an election on their own (docs/architecture.md,
//     Membership), so an emptied member never votes as if it had its old log.
//
// Each step can be repeated: run again after a failure, it starts over.

import type { Command } from 'commander';
import type { MemberInfo, SequenceClient } from '../client/index.js';
import { clientCommand, withClient, type ClientOpts } from './client-command.js';
import { humanMs, memberJson, membersText } from './format.js';
import type { CliIo } from './io.js';
import { waitForCatchUp } from './join.js';
import { parseMemberId } from './parse.js';

/** How long the member is given to answer before it counts as down. */
const ALIVE_PROBE_MS = 1_500;
/** With --wait: the member must be started and catch up within --timeout (default). */
const REPLACE_TIMEOUT_MS = 120_000;

interface ReplaceOpts extends ClientOpts {
  id: string;
  data: string;
  wait?: boolean;
}

/** The command failed; one line, exit 1. */
export class ReplaceError extends Error {
  override name = 'ReplaceError';
}

export function addReplace(cluster: Command, io: CliIo): void {
  clientCommand(cluster, 'replace', io, REPLACE_TIMEOUT_MS)
    .description(
      'rebuild a member whose data directory is lost or corrupt: remove it, empty --data, add it back to catch up',
    )
    .requiredOption('--id <id>', 'id of the member to rebuild (it must be stopped)', parseMemberId)
    .requiredOption('--data <dir>', "the member's data directory on this machine (emptied)")
    .option('--wait', 'then wait until the member, started again meanwhile, has caught up')
    .option('--json', 'print {"members":[...]} (with --wait also "caughtUpMs")')
    .addHelpText(
      'after',
      `
Run it on the member's machine, with the member stopped. Then start the member
again as before (--initial-cluster, if its service passes it, is ignored for
this directory): it rejoins as a learner, catches up from the leader's
snapshot and becomes a voter. No value is lost: the cluster holds them.

Examples:
  raftseq cluster replace --id n2 --data /var/lib/raftseq/n2 --endpoints 10.0.0.1:7001
  raftseq serve --id n2 --listen 10.0.0.2:7001 --data /var/lib/raftseq/n2`,
    )
    .action((opts: ReplaceOpts) => replace(io, opts));
}

async function replace(io: CliIo, opts: ReplaceOpts): Promise<void> {
  const deadline = performance.now() + opts.timeout;
  const { resetForRejoin, wipeProblem } = await import('../server/index.js');
  const problem = wipeProblem(opts.data);
  if (problem !== null) throw new ReplaceError(problem);
  await withClient(io, opts, async (client) => {
    const member = await downMember(client, opts.id);
    await client.removeMember(opts.id, { force: true });
    io.stderr(`removed ${opts.id}\n`);
    await resetForRejoin(opts.data, opts.id);
    io.stderr(`emptied ${opts.data}; it rejoins as a new member\n`);
    const advertise = member.advertise || member.address;
    let members = await client.addMember({ id: opts.id, address: member.address, advertise });
    if (!opts.wait) {
      io.stdout(
        opts.json
          ? JSON.stringify({ members: members.map(memberJson) }) + '\n'
          : `added ${opts.id} (${member.address}) back as a learner: start it again with --data ${opts.data}; ` +
              `it catches up from the leader and becomes a voter\n\n` +
              membersText(members),
      );
      return;
    }
    io.stderr(`added ${opts.id} back as a learner; start it now, waiting for it to catch up\n`);
    const done = await waitForCatchUp(
      client,
      io,
      { id: opts.id, address: member.address },
      deadline,
    );
    members = done.status.members;
    io.stdout(
      opts.json
        ? JSON.stringify({ members: members.map(memberJson), caughtUpMs: Math.round(done.ms) }) +
            '\n'
        : `${opts.id} caught up in ${humanMs(done.ms)} and is a voter\n\n` + membersText(members),
    );
  });
}

/** The member `id` as the cluster knows it; refused unless it is a member and down. */
async function downMember(client: SequenceClient, id: string): Promise<MemberInfo> {
  const status = await client.clusterStatus();
  const member = status.members.find((m) => m.id === id);
  if (member === undefined) {
    throw new ReplaceError(
      `${id} is not a member (members: ${status.members.map((m) => m.id).join(', ')}); add a new member with raftseq cluster join`,
    );
  }
  const address = member.advertise || member.address;
  const answered = await client.memberStatus(address, ALIVE_PROBE_MS).then(
    () => true,
    () => false,
  );
  if (answered) {
    throw new ReplaceError(
      `${id} is running (it answers at ${address}): stop it first; a member that runs does not need rebuilding`,
    );
  }
  return member;
}
