// Structured JSON logs (pino) on stdout: every line carries the node id and
// the current Raft term, so a merged log of a whole cluster reads as one story.

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * A node's logger. `term` is read for every line; leave it out where there
 * is no term yet (e.g. a start refused before the log was read).
 * `destination` defaults to stdout.
 */
export function createLogger(
  id: string,
  level: string,
  term?: () => number,
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { node: id },
    ...(term !== undefined ? { mixin: () => ({ term: term() }) } : {}),
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
