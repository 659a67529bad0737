// Waiting for a condition that the code under test exposes no event for:
// poll it, bounded. Prefer an event (a promise, a log line, a marker message)
// where one exists; use this for state that is only visible by asking.

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `cond()` holds; throws "timed out waiting for <what>" after
 * `timeoutMs`. Checks every `intervalMs` (default 5 ms).
 */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Resolves with `get()`'s first value that is not undefined; bounded like waitUntil. */
export async function waitFor<T>(
  get: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 5,
): Promise<T> {
  let value: T | undefined;
  await waitUntil(
    async () => {
      value = await get();
      return value !== undefined;
    },
    what,
    timeoutMs,
    intervalMs,
  );
  return value as T;
}
