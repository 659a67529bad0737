// `raftseq cluster ...`: status, join, leave, transfer-leader (replace: replace.ts).
import type { Command } from 'commander';
import {
  clientCommand,
  withClient,
  DEFAULT_TIMEOUT_MS,
  type ClientOpts,
} from './client-command.js';
import { humanMs, memberJson, membersText, statusJson, statusText } from './format.js';
import type { SequenceClient } from '../client/index.js';
import type { CliIo } from './io.js';
import { waitForCatchUp } from './join.js';
import { parseHostPort, parseMemberId } from './parse.js';
import { probeMembers } from './probe.js';
import { addReplace } from './replace.js';
import { defaultStopSignals } from './serve.js';
import { watch } from './watch.js';

/** `cluster join` waits for the member to catch up: a longer default. */
const JOIN_TIMEOUT_MS = 120_000;
/** How long `cluster status` waits for each member's own answer. */
const PROBE_TIMEOUT_MS = 1_500;
/** How long `cluster status --watch` waits for one frame. */
const WATCH_FRAME_TIMEOUT_MS = 2_000;

export function addClusterCommands(program: Command, io: CliIo): void {
  const cluster = program
    .command('cluster')
    .description('cluster membership and leadership')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster status --endpoints 127.0.0.1:7001
  raftseq cluster join --id n4 --addr 127.0.0.1:7004 --endpoints 127.0.0.1:7001
  raftseq cluster leave --id n3 --endpoints 127.0.0.1:7001
  raftseq cluster transfer-leader --to n2 --endpoints 127.0.0.1:7001
  raftseq cluster replace --id n2 --data ./data/n2 --endpoints 127.0.0.1:7001`,
    );
  addStatus(cluster, io);
  addJoin(cluster, io);
  addLeave(cluster, io);
  addTransferLeader(cluster, io);
  addReplace(cluster, io);
}

function addStatus(cluster: Command, io: CliIo): void {
  clientCommand(cluster, 'status', io)
    .description("show the cluster's members, leader and replication progress")
    .option('--json', 'print one JSON object: {"leader":"<id>"|null,"term":N,"members":[...],...}')
    .option('-w, --watch', 'draw it again every second until Ctrl-C (with --json: one line each)')
    .addHelpText(
      'after',
      `
The leader is asked when it is reachable (any node tells where it is);
otherwise the first node that answers gives its own view.

Every member is asked for its own view too (at its advertised address), so
one row shows: ID (* = the node that answered), ADDRESS (what the members
dial), ROLE, and the member's own TERM, COMMIT and APPLIED index; LAG (the
leader's commit index minus what the leader knows the member holds) and
LAST CONTACT (since the member last answered the leader) are the leader's
view; LEASE is the leader's lease left; SERVED and SKIPPED count the values
the member handed out and skipped while leader (since it started).
A member that does not answer shows "-" and is named below the table.

Examples:
  raftseq cluster status --endpoints 127.0.0.1:7001,127.0.0.1:7002
  raftseq cluster status --json --endpoints 127.0.0.1:7001 | jq -r .leader
  raftseq cluster status --watch --endpoints 127.0.0.1:7001   # Ctrl-C ends it (exit 0)`,
    )
    .action(async (opts: ClientOpts & { watch?: boolean }) => {
      const frame = async (client: SequenceClient, deadlineMs: number) => {
        const s = await client.clusterStatus({ deadlineMs });
        const probes = await probeMembers(client, s, Math.min(deadlineMs, PROBE_TIMEOUT_MS));
        return { text: statusText(s, probes), json: statusJson(s, probes) };
      };
      await withClient(io, opts, async (client) => {
        if (opts.watch === true) {
          // Each frame gets a second's worth of patience, so a cluster that
          // does not answer still shows a frame (saying why) every so often.
          await watch(io, client, {
            json: opts.json === true,
            frame: (c) => frame(c, Math.min(opts.timeout, WATCH_FRAME_TIMEOUT_MS)),
            onStop: (handler) => (io.onStopSignal ?? defaultStopSignals)(handler),
          });
          return;
        }
        const f = await frame(client, opts.timeout);
        io.stdout(opts.json ? JSON.stringify(f.json) + '\n' : f.text);
      });
    });
}

type JoinOpts = ClientOpts & { id: string; addr: string; advertise?: string; wait: boolean };

function addJoin(cluster: Command, io: CliIo): void {
  clientCommand(cluster, 'join', io, JOIN_TIMEOUT_MS)
    .summary('add a member and wait until it has caught up and votes')
    .description(
      'Add a member (as a learner; the leader promotes it to voter once caught up), then\n' +
        'wait for that, showing its progress (entries it holds / commit index) on stderr.\n' +
        'Start it first with `raftseq serve --id <id> --listen <addr> --data <empty dir>`\n' +
        '(no --initial-cluster). --timeout covers the wait (default 2 min): if the member\n' +
        'has not caught up by then, exit 1 (it stays a learner).',
    )
    .requiredOption('--id <id>', 'id of the new member', parseMemberId)
    .requiredOption('--addr <host:port>', 'address the members dial to reach it', parseHostPort)
    .option(
      '--advertise <host:port>',
      'address clients are redirected to (default: --addr)',
      parseHostPort,
    )
    .option('--no-wait', 'return once the member is added, without waiting for it to catch up')
    .option('--json', 'print {"members":[...],"caughtUpMs":N}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq serve --id n4 --listen 127.0.0.1:7004 --data ./data/n4 &
  raftseq cluster join --id n4 --addr 127.0.0.1:7004 --endpoints 127.0.0.1:7001
  raftseq cluster join --id n5 --addr 10.0.0.5:7001 --timeout 600000 -e 10.0.0.1:7001`,
    )
    .action((opts: JoinOpts) => join(io, opts));
}

/** Adds the member, then (unless --no-wait) waits until it has caught up and votes. */
async function join(io: CliIo, opts: JoinOpts): Promise<void> {
  const deadline = performance.now() + opts.timeout;
  await withClient(io, opts, async (client) => {
    let members = await client.addMember(
      {
        id: opts.id,
        address: opts.addr,
        ...(opts.advertise !== undefined ? { advertise: opts.advertise } : {}),
      },
      { deadlineMs: Math.min(opts.timeout, DEFAULT_TIMEOUT_MS) },
    );
    if (!opts.wait) {
      io.stdout(
        opts.json
          ? JSON.stringify({ members: members.map(memberJson) }) + '\n'
          : `added ${opts.id} (${opts.addr}); it becomes a voter once it has caught up\n\n` +
              membersText(members),
      );
      return;
    }
    if (!opts.json) io.stderr(`added ${opts.id} (${opts.addr}) as a learner; catching up\n`);
    const done = await waitForCatchUp(client, io, { id: opts.id, address: opts.addr }, deadline);
    members = done.status.members;
    io.stdout(
      opts.json
        ? JSON.stringify({
            members: members.map(memberJson),
            caughtUpMs: Math.round(done.ms),
          }) + '\n'
        : `${opts.id} caught up in ${humanMs(done.ms)} and is a voter\n\n` + membersText(members),
    );
  });
}

function addLeave(cluster: Command, io: CliIo): void {
  clientCommand(cluster, 'leave', io)
    .description('remove a member (voter or learner, the leader included)')
    .requiredOption('--id <id>', 'id of the member to remove', parseMemberId)
    .option('--force', 'allow leaving fewer voters than can survive one failure')
    .option('--json', 'print {"members":[...]}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster leave --id n3 --endpoints 127.0.0.1:7001
  raftseq cluster leave --id n2 --force --endpoints 127.0.0.1:7001   # 2 -> 1 voter`,
    )
    .action(async (opts: ClientOpts & { id: string; force?: boolean }) => {
      await withClient(io, opts, async (client) => {
        const members = await client.removeMember(opts.id, { force: opts.force === true });
        if (opts.json) {
          io.stdout(JSON.stringify({ members: members.map(memberJson) }) + '\n');
        } else {
          io.stdout(`removed ${opts.id}\n\n` + membersText(members));
        }
      });
    });
}

function addTransferLeader(cluster: Command, io: CliIo): void {
  clientCommand(cluster, 'transfer-leader', io)
    .description('hand leadership to another voter, with no gap in any sequence')
    .option('--to <id>', 'the new leader (default: the most up-to-date voter)', parseMemberId)
    .option('--json', 'print {"leader":"<id>","term":N}')
    .addHelpText(
      'after',
      `
Examples:
  raftseq cluster transfer-leader --to n2 --endpoints 127.0.0.1:7001
  raftseq cluster transfer-leader --endpoints 127.0.0.1:7001   # to the best voter`,
    )
    .action(async (opts: ClientOpts & { to?: string }) => {
      await withClient(io, opts, async (client) => {
        const r = await client.transferLeadership(opts.to);
        io.stdout(
          opts.json
            ? JSON.stringify({ leader: r.leader, term: Number(r.term) }) + '\n'
            : `leader is now ${r.leader} (term ${r.term})\n`,
        );
      });
    });
}
