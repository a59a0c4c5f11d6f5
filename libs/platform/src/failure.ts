import type { FailureClass } from '@mz/contracts';

/**
 * Retry policy per failure class (docs/architecture.md §3), used by every worker: the BullMQ backoff and the
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

/**
 * SQLSTATE classes (PostgreSQL appendix A) whose error cannot change on a retry: 22 data
 * exception (a NUL, an out-of-range value, bad encoding), 23 integrity constraint violation.
 */
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23']);
/**
 * Transient: 08 connection exception, 53 insufficient resources, 57 operator intervention
 * (shutdown, statement timeout, cancel), 40001 serialization failure, 40P01 deadlock.
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '53', '57']);
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
]);
/** Errors our own guards raise for input that will never pass (zod, job contracts, the MIME parser's limits). */
const PERMANENT_ERROR_NAMES = new Set(['ZodError', '$ZodError', 'InvalidJobPayloadError', 'MessageParseError']);
const MAX_REASON = 300;
/** Five characters, the class first: digits, or one of the lettered classes (HV, P0, XX, F0) — never a Node code such as EPIPE. */
const SQLSTATE = /^(?:\d{2}|HV|P0|XX|F0)[0-9A-Z]{3}$/;

/** The SQLSTATE of a Postgres error (pg's DatabaseError, or TypeORM's QueryFailedError around it). */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, driverError, cause } = e as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && SQLSTATE.test(code)) return code;
    e = driverError ?? cause;
  }
  return undefined;
}

/**
 * The one classification of an error that is not a side effect's own (SMTP and LLM failures have
 * their classifiers, which fall back to this one): data and validation errors are `permanent` at
 * once, connection trouble and the transient SQLSTATEs are `network` (retried with backoff), and
 * anything else is `processing` (a few retries). Reasons are short; callers mask personal data.
 */
export function classifyError(err: unknown): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  const message = reasonOf(err);
  const state = sqlState(err);
  if (state) {
    const cls = state.slice(0, 2);
    if (PERMANENT_SQLSTATE_CLASSES.has(cls)) return new ClassifiedError('permanent', `database refused the data (${state}): ${message}`, undefined, { sqlState: state });
    if (TRANSIENT_SQLSTATE_CLASSES.has(cls) || TRANSIENT_SQLSTATES.has(state)) {
      return new ClassifiedError('network', `database unavailable or contended (${state}): ${message}`, undefined, { sqlState: state });
    }
    return new ClassifiedError('processing', `database error (${state}): ${message}`, undefined, { sqlState: state });
  }
  const name = (err as { name?: unknown })?.name;
  if (typeof name === 'string' && PERMANENT_ERROR_NAMES.has(name)) return new ClassifiedError('permanent', `${name}: ${message}`);
  if (isTransientConnectionError(err)) return new ClassifiedError('network', message);
  return new ClassifiedError('processing', message);
}

function isTransientConnectionError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    // node-postgres / ioredis wording when the connection, not the statement, failed.
    if (typeof message === 'string' && /connection terminated|connection timeout|timeout exceeded when trying to connect|Connection is closed|ECONNREFUSED/i.test(message)) return true;
  }
  return false;
}

function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_REASON ? `${oneLine.slice(0, MAX_REASON - 1)}…` : oneLine;
}
