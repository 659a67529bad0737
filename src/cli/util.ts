import { RaftseqError } from '../client/index.js';

/** A message on one line. */
export function oneLine(message: string): string {
  return message
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\s+/g, ' ');
}

/** An error for people, on one line: the message, plus the status name of server answers. */
export function describeError(err: unknown): string {
  if (err instanceof RaftseqError) {
    const msg = oneLine(err.message);
    return err.attempts > 0 && !msg.includes(err.codeName) ? `${msg} (${err.codeName})` : msg;
  }
  if (err instanceof Error) return oneLine(err.message || err.name);
  return oneLine(String(err));
}
