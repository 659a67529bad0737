// Structured JSON logs (pino): every line carries the node id and the current
// Raft term, so a merged log of a whole cluster reads as one story.

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(id: string, level: string, term: () => number): Logger {
  return pino({
    level,
    base: { node: id },
    mixin: () => ({ term: term() }),
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
