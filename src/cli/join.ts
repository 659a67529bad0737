// `cluster join` after AddMember: poll the leader's Status until the new
// member has caught up and been promoted to voter, showing how many entries
// it holds out of the leader's commit index — a progress bar on a terminal
// (cli-progress, on stderr), plain lines otherwise.
import type { ClusterStatus, SequenceClient } from '../client/index.js';
import type { CliIo } from './io.js';
import { terminalBar } from './progress.js';
import { humanMs } from './format.js';

export const DEFAULT_POLL_MS = 250;
/** Plain progress lines: at most one per this many ms. */
const PLAIN_EVERY_MS = 1000;

/** The member did not catch up in time (exit 1). */
export class JoinTimeoutError extends Error {
  override name = 'JoinTimeoutError';
}

export interface CatchUp {
  /** ms from the start of the wait to the promotion. */
  ms: number;
  status: ClusterStatus;
}

interface Progress {
  update(match: bigint, commit: bigint): void;
  stop(): void;
}

function progressBar(io: CliIo, id: string): Progress {
  const bar = terminalBar(
    io,
    `${id} catching up [{bar}] {percentage}% | {value}/{total} entries | {duration_formatted}`,
  );
  if (bar !== null) {
    return {
      update: (match, commit) => bar.update(Number(match), Number(commit)),
      stop: () => bar.stop(),
    };
  }
  let last = -Infinity;
  let lastText = '';
  return {
    update(match, commit) {
      const now = performance.now();
      const pct = commit > 0n ? Number((match * 100n) / commit) : 0;
      const text = `${id}: ${match}/${commit} entries (${Math.min(100, pct)}%)`;
      if (text === lastText || now - last < PLAIN_EVERY_MS) return;
      last = now;
      lastText = text;
      io.stderr(`${text}\n`);
    },
    stop() {},
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until member `id` is a voter. Throws JoinTimeoutError when `deadline`
 * (performance.now() time) passes first, or an Error when the member is gone.
 */
export async function waitForCatchUp(
  client: SequenceClient,
  io: CliIo,
  member: { id: string; address: string },
  deadline: number,
): Promise<CatchUp> {
  const started = performance.now();
  const pollMs = io.pollIntervalMs ?? DEFAULT_POLL_MS;
  const progress = progressBar(io, member.id);
  let last: { match: bigint; commit: bigint; contact: number } | null = null;
  try {
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      let s: ClusterStatus | null = null;
      try {
        s = await client.clusterStatus({ deadlineMs: Math.min(remaining, 3_000) });
      } catch {
        // No answer this round (e.g. a leader change): keep waiting.
      }
      const m = s?.members.find((x) => x.id === member.id);
      if (s !== null && s.role === 'leader') {
        if (m === undefined) {
          throw new Error(`${member.id} is no longer a member (was it removed?)`);
        }
        if (m.role !== 'learner') {
          progress.update(s.commitIndex, s.commitIndex);
          return { ms: performance.now() - started, status: s };
        }
        last = { match: m.matchIndex, commit: s.commitIndex, contact: m.lastContactMs };
        progress.update(m.matchIndex, s.commitIndex);
      }
      await sleep(Math.min(pollMs, Math.max(0, deadline - performance.now())));
    }
  } finally {
    progress.stop();
  }
  const waited = humanMs(performance.now() - started);
  const where =
    last === null || last.contact < 0
      ? `the leader never heard from it: the address ${member.address} may be unreachable from the members, or \`raftseq serve --id ${member.id}\` is not running there`
      : `it holds ${last.match} of ${last.commit} entries (last contact ${humanMs(last.contact)} ago)`;
  throw new JoinTimeoutError(
    `${member.id} did not catch up within ${waited}: ${where}; it stays a learner ` +
      `(wait longer with \`raftseq cluster status\`, or remove it with \`raftseq cluster leave --id ${member.id}\`)`,
  );
}
