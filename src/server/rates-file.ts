// Every member keeps the reservation rates it measured (src/state/rates.ts)
// in its data directory, so that `serve --force-new-cluster --advance-for`
// knows them after the restart that recovery needs: the rates live in
// memory and die with the process.
//
// The file is a snapshot file (src/backup/format.ts) holding only the
// sequences with a known rate, rewritten atomically every RATES_EVERY_MS,
// or 50 times as long as the last write took when that is longer (a million
// busy sequences take a few hundred ms to encode on the event loop: at most
// 2 % of it). Losing the last interval's changes is harmless: a rate a
// little stale is still a rate, and recovery never skips less than one block.

import { join } from 'node:path';
import { encodeSnapshotFileYielding, type SnapshotSequence } from '../backup/format.js';
import { readSnapshotFile, writeFileAtomic } from '../backup/file.js';
import { buildInfo } from '../common/build-info.js';
import type { NodeHost } from '../node/host.js';
import { sleepOn } from '../node/runtime.js';

export const RATES_FILE = 'rates.snap';
export const RATES_EVERY_MS = 2_000;
/** The interval is at least this many times the last write's duration. */
const RATES_COST_FACTOR = 50;

/** Starts the periodic writer; returns a function that stops it and writes once more. */
export function keepRatesFile(node: NodeHost, dataDir: string): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const path = join(dataDir, RATES_FILE);
  let lastCostMs = 0;
  const write = async (): Promise<void> => {
    const started = node.clock.now();
    const sequences: SnapshotSequence[] = [];
    for (const e of node.rates.entries()) sequences.push(e);
    const st = node.status();
    const data = await encodeSnapshotFileYielding(
      {
        clusterId: node.clusterId(),
        index: node.sm.lastApplied,
        term: st.term,
        savedAt: new Date(node.clock.wallNow()).toISOString(),
        member: node.id,
        version: buildInfo().version,
      },
      sequences,
      () => sleepOn(node.clock, 0),
    );
    lastCostMs = node.clock.now() - started;
    await writeFileAtomic(path, data).catch((err: unknown) => {
      node.log.warn({ err: (err as Error).message, file: path }, 'could not record the rates');
    });
  };
  let cancel = (): void => {};
  const schedule = (): void => {
    const every = Math.max(RATES_EVERY_MS, RATES_COST_FACTOR * lastCostMs);
    cancel = node.clock.setTimer(every, () => {
      if (stopped) return;
      if (running === null) running = write().finally(() => (running = null));
      schedule();
    });
  };
  schedule();
  return async () => {
    stopped = true;
    cancel();
    await running;
    await write();
  };
}

/** The rates a member recorded (name -> values per second); empty if it recorded none. */
export async function readRatesFile(
  dataDir: string,
): Promise<{ rates: Map<string, number>; problem: string | null }> {
  try {
    const { contents } = await readSnapshotFile(join(dataDir, RATES_FILE));
    return { rates: new Map(contents.sequences.map((s) => [s.name, s.rate])), problem: null };
  } catch (err) {
    return { rates: new Map(), problem: (err as Error).message };
  }
}
