import { FAILURE_POLICY, MAX_JOB_ATTEMPTS, retryDecision } from './failure';

describe('retry policy per failure class', () => {
  const mid = () => 0.5;

  it('never retries permanent failures', () => {
    expect(retryDecision('permanent', 1)).toEqual({ retry: false, delayMs: 0 });
  });

  it('backs off exponentially with jitter, capped, and stops at the class limit', () => {
    const delays = [1, 2, 3, 4].map((a) => retryDecision('network', a, { random: mid }).delayMs);
    expect(delays).toEqual([1500, 3000, 6000, 12000]);
    expect(retryDecision('network', 30 - 23, { random: () => 1 }).delayMs).toBeLessThanOrEqual(FAILURE_POLICY.network.capMs);
    expect(retryDecision('processing', FAILURE_POLICY.processing.maxAttempts).retry).toBe(false);
    expect(retryDecision('rate_limit', FAILURE_POLICY.rate_limit.maxAttempts - 1).retry).toBe(true);
    expect(MAX_JOB_ATTEMPTS).toBe(FAILURE_POLICY.rate_limit.maxAttempts);
  });

  it('honours Retry-After and scales only its own backoff', () => {
    expect(retryDecision('rate_limit', 1, { random: mid, retryAfterMs: 120_000 }).delayMs).toBe(120_000);
    expect(retryDecision('rate_limit', 1, { random: mid, scale: 0.001 }).delayMs).toBe(23);
    expect(retryDecision('rate_limit', 1, { random: mid, scale: 0.001, retryAfterMs: 2000 }).delayMs).toBe(2000);
  });
});
