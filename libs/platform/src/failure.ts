import type { FailureClass } from '@mz/contracts';

/**
 * Retry policy per failure class (DESIGN §3), used by every worker: the BullMQ backoff and the
 * row the console shows (`retrying`, `next_retry_at`) both come from `retryDecision`.
 */
export interface ClassPolicy { maxAttempts: number; baseMs: number; capMs: number }

export const FAILURE_POLICY: Record<FailureClass, ClassPolicy> = {
  rate_limit: { maxAttempts: 12, baseMs: 30_000, capMs: 30 * 60_000 },
  network: { maxAttempts: 8, baseMs: 2_000, capMs: 10 * 60_000 },
  processing: { maxAttempts: 3, baseMs: 10_000, capMs: 5 * 60_000 },
  permanent: { maxAttempts: 1, baseMs: 0, capMs: 0 },
};

/** A failure already classified by the side effect's classifier. */
export class ClassifiedError extends Error {
  constructor(readonly failureClass: FailureClass, message: string, readonly retryAfterMs?: number, readonly detail?: Record<string, unknown>) {
    super(message);
    this.name = 'ClassifiedError';
  }
}

export interface RetryDecision { retry: boolean; delayMs: number }

export interface RetryOptions {
  /** A server's Retry-After: the delay is never shorter. */
  retryAfterMs?: number;
  /** RETRY_DELAY_SCALE: shrinks the policy's backoff (tests), never the server's Retry-After. */
  scale?: number;
  random?: () => number;
}

/**
 * `attempt` is the 1-based number of the attempt that just failed. Exponential backoff with full
 * jitter, scaled, never below a server's Retry-After.
 */
export function retryDecision(cls: FailureClass, attempt: number, opts: RetryOptions = {}): RetryDecision {
  const p = FAILURE_POLICY[cls];
  if (attempt >= p.maxAttempts) return { retry: false, delayMs: 0 };
  const exp = Math.min(p.capMs, p.baseMs * 2 ** (attempt - 1));
  const jittered = Math.round((exp / 2 + ((opts.random ?? Math.random)() * exp) / 2) * (opts.scale ?? 1));
  return { retry: true, delayMs: Math.max(jittered, opts.retryAfterMs ?? 0) };
}

/** The largest attempts any class allows: the BullMQ `attempts` ceiling on jobs. */
export const MAX_JOB_ATTEMPTS = Math.max(...Object.values(FAILURE_POLICY).map((p) => p.maxAttempts));

/** Thrown by a processor to ask BullMQ to retry after exactly `delayMs` (see the backoff strategy). */
export class RetryLaterError extends Error {
  constructor(readonly delayMs: number, message: string) {
    super(message);
    this.name = 'RetryLaterError';
  }
}
