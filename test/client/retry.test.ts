// The retry policy as pure functions: what a simulator reuses to drive the
// client's exact backoff, attempt deadline and redirect rules.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { CLIENT_DEFAULTS } from '../../src/client/index.js';
import {
  ATTEMPT_TIMEOUT_MS,
  BACKOFF,
  DEADLINE_MS,
  MAX_REDIRECTS,
  attemptTimeoutMs,
  isRetryable,
  leaderHint,
  nextBackoffMs,
} from '../../src/client/retry.js';

describe('nextBackoffMs', () => {
  it('waits between half and all of a bound that starts at 25 ms', () => {
    expect(nextBackoffMs(0, () => 0)).toBe(12.5);
    expect(nextBackoffMs(0, () => 0.5)).toBe(18.75);
    expect(nextBackoffMs(0, () => 0.999999)).toBeLessThan(25);
  });

  it('doubles the bound each round up to 100 ms', () => {
    const upper = (round: number): number => nextBackoffMs(round, () => 1);
    expect([0, 1, 2, 3, 4].map(upper)).toEqual([25, 50, 100, 100, 100]);
    expect(upper(1000)).toBe(100);
    expect(nextBackoffMs(1000, () => 0)).toBe(50);
  });

  it('follows a policy given to it', () => {
    const policy = { initialMs: 10, maxMs: 90, multiplier: 3 };
    expect([0, 1, 2, 3].map((r) => nextBackoffMs(r, () => 1, policy))).toEqual([10, 30, 90, 90]);
  });

  it('draws one random number per pause, so a seeded source replays it', () => {
    let draws = 0;
    nextBackoffMs(3, () => {
      draws++;
      return 0.25;
    });
    expect(draws).toBe(1);
  });
});

describe('the attempt deadline', () => {
  it('is 3 s, or what is left of the overall deadline if less', () => {
    expect(ATTEMPT_TIMEOUT_MS).toBe(3_000);
    expect(attemptTimeoutMs(10_000)).toBe(3_000);
    expect(attemptTimeoutMs(1_200)).toBe(1_200);
    expect(attemptTimeoutMs(10_000, 500)).toBe(500);
  });

  it('is what the client uses by default', () => {
    expect(CLIENT_DEFAULTS).toMatchObject({
      deadlineMs: DEADLINE_MS,
      attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
      backoffInitialMs: BACKOFF.initialMs,
      backoffMaxMs: BACKOFF.maxMs,
      backoffMultiplier: BACKOFF.multiplier,
      maxRedirects: MAX_REDIRECTS,
    });
  });
});

describe('what is retried', () => {
  it('retries only answers that say "not here" or "not now"', () => {
    for (const code of [
      status.UNAVAILABLE,
      status.DEADLINE_EXCEEDED,
      status.ABORTED,
      status.CANCELLED,
    ]) {
      expect(isRetryable(code)).toBe(true);
    }
    for (const code of [
      status.OK,
      status.INVALID_ARGUMENT,
      status.OUT_OF_RANGE,
      status.NOT_FOUND,
      status.FAILED_PRECONDITION,
      status.RESOURCE_EXHAUSTED,
      status.PERMISSION_DENIED,
      status.UNAUTHENTICATED,
      status.INTERNAL,
      status.UNIMPLEMENTED,
    ]) {
      expect(isRetryable(code)).toBe(false);
    }
  });
});

describe('leaderHint', () => {
  it('takes the first valid host:port, trimmed, from strings or bytes', () => {
    expect(leaderHint(['10.0.0.2:7001'])).toBe('10.0.0.2:7001');
    expect(leaderHint([' [::1]:7002 '])).toBe('[::1]:7002');
    expect(leaderHint([Buffer.from('h:1')])).toBe('h:1');
    expect(leaderHint(['', 'garbage', 'h:2', 'h:3'])).toBe('h:2');
  });

  it('is null when no leader is named', () => {
    expect(leaderHint([])).toBeNull();
    expect(leaderHint([''])).toBeNull();
    expect(leaderHint(['nohost'])).toBeNull();
  });
});
