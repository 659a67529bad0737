// A progress bar on the terminal (the CLI's stderr when it is one), for the
// commands that wait on something long: a join catching up, a snapshot
// streaming. Null when there is no terminal: the caller then prints plain
// lines or nothing.
import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

export interface TerminalBar {
  /** Shows `value` of `total`; the first call draws the bar. */
  update(value: number, total: number): void;
  stop(): void;
}

/** A bar drawn with `format` (cli-progress placeholders), or null off a terminal. */
export function terminalBar(io: CliIo, format: string): TerminalBar | null {
  const stream = io.progressStream;
  if (stream === undefined) return null;
  const bar = new cliProgress.SingleBar(
    { stream, format, hideCursor: true, clearOnComplete: true, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total) {
      const t = Math.max(1, total);
      if (!started) {
        bar.start(t, Math.min(value, t));
        started = true;
      } else {
        bar.setTotal(t);
        bar.update(Math.min(value, t));
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
