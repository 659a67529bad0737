// `cluster status --watch`: draws the status again every second until
// Ctrl-C (or SIGTERM), which ends it with exit 0. On a terminal each frame
// replaces the last; otherwise frames follow each other, each headed by the
// time, and with --json each frame is one line (NDJSON) for scripts. A frame
// whose status could not be read says why, and the watch goes on: that is
// what an operator watches for during an incident.

import { setTimeout as sleep } from 'node:timers/promises';
import type { SequenceClient } from '../client/index.js';
import type { CliIo } from './io.js';
import { describeError } from './util.js';

/** Between frames. */
export const WATCH_INTERVAL_MS = 1000;
/** Home and clear screen. */
const CLEAR = '\x1b[H\x1b[2J';

export interface WatchOptions {
  json: boolean;
  /** Draws one frame (throws if the cluster could not be read). */
  frame(client: SequenceClient): Promise<{ text: string; json: unknown }>;
  /** Subscribes to the stop signals; returns the unsubscribe function. */
  onStop: (handler: () => void) => () => void;
}

export async function watch(io: CliIo, client: SequenceClient, opts: WatchOptions): Promise<void> {
  let stopRequested!: () => void;
  const stopped = new Promise<'stop'>((resolve) => (stopRequested = () => resolve('stop')));
  const unsubscribe = opts.onStop(() => stopRequested());
  try {
    for (;;) {
      const drawn = await Promise.race([stopped, draw(client, opts)]);
      if (drawn === 'stop') return;
      const at = new Date().toISOString();
      if (opts.json) {
        io.stdout(
          JSON.stringify(
            drawn.ok ? { at, ...(drawn.json as object) } : { at, error: drawn.error },
          ) + '\n',
        );
      } else {
        const body = drawn.ok ? drawn.text : `cannot read the cluster status: ${drawn.error}\n`;
        const head = `raftseq cluster status --watch   ${at}   (Ctrl-C to stop)\n\n`;
        io.stdout(io.stdoutIsTerminal === true ? CLEAR + head + body : head + body + '\n');
      }
      const next = await Promise.race([
        stopped,
        sleep(WATCH_INTERVAL_MS).then(() => 'tick' as const),
      ]);
      if (next === 'stop') return;
    }
  } finally {
    unsubscribe();
  }
}

type Drawn = { ok: true; text: string; json: unknown } | { ok: false; error: string };

async function draw(client: SequenceClient, opts: WatchOptions): Promise<Drawn> {
  try {
    return { ok: true, ...(await opts.frame(client)) };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}
