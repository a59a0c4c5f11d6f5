import { APIConnectionError, APIError } from 'openai';
import { ClassifiedError, classifyError, maskText, sqlState } from '@mz/platform';
import type { FailureClass } from '@mz/contracts';

/**
 * The one place LLM failures are classified (docs/architecture.md §3). The `openai` SDK has already spent its
 * own retries (LLM_MAX_RETRIES, honouring Retry-After) inside the attempt; what reaches here
 * decides the letter's fate:
 *   429                                   → rate_limit, honouring Retry-After
 *   connection errors, timeouts, resets   → network
 *   5xx, 409, malformed output after repair → processing
 *   400, 401, 403, 404, 422 and other 4xx → permanent (the same request will fail again)
 */

/** The model answered, but not with a valid LetterDraft — even after the repair attempt. */
export class MalformedLlmOutputError extends Error {
  constructor(readonly issues: string) {
    super(`malformed LLM output after repair: ${issues}`);
    this.name = 'MalformedLlmOutputError';
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const MAX_RETRY_AFTER_MS = 60 * 60_000;
const MAX_MESSAGE = 240;

export function classifyLlmError(err: unknown): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  if (err instanceof MalformedLlmOutputError) return new ClassifiedError('processing', short(err.message));
  // APIConnectionError (and its APIConnectionTimeoutError) is an APIError without a status.
  if (err instanceof APIConnectionError) return new ClassifiedError('network', short(`LLM connection failed: ${err.message}`));
  if (err instanceof APIError && typeof err.status === 'number') {
    const cls = classForStatus(err.status);
    const label = err.code ?? err.type ?? '';
    const msg = short(`LLM HTTP ${err.status}${label ? ` ${label}` : ''}: ${err.message}`);
    return new ClassifiedError(cls, msg, cls === 'rate_limit' ? retryAfterMs(err.headers) : undefined, { status: err.status });
  }
  if (isNetworkError(err)) return new ClassifiedError('network', short(`LLM network error: ${errorText(err)}`));
  // Not the LLM's: the platform's one classification (a database data error is permanent, a
  // deadlock transient, a zod guard permanent).
  const general = classifyError(err);
  if (general.failureClass === 'permanent' || sqlState(err)) return new ClassifiedError(general.failureClass, short(general.message));
  return new ClassifiedError('processing', short(`LLM call failed: ${errorText(err)}`));
}

export function classForStatus(status: number): FailureClass {
  if (status === 429) return 'rate_limit';
  if (status === 408) return 'network';
  if (status === 409 || status >= 500) return 'processing';
  return 'permanent';
}

/** Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) or the non-standard retry-after-ms. */
export function retryAfterMs(headers: Headers | Record<string, string | undefined> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const get = (name: string): string | undefined =>
    typeof (headers as Headers).get === 'function' ? ((headers as Headers).get(name) ?? undefined) : (headers as Record<string, string | undefined>)[name];
  let ms: number | undefined;
  const millis = get('retry-after-ms');
  if (millis && Number.isFinite(Number(millis))) ms = Number(millis);
  const value = get('retry-after')?.trim();
  if (ms === undefined && value) {
    if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000;
    else if (!Number.isNaN(Date.parse(value))) ms = Date.parse(value) - now;
  }
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(Math.ceil(ms), MAX_RETRY_AFTER_MS);
}

function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'AbortError' || name === 'TimeoutError' || name === 'ConnectTimeoutError' || name === 'SocketError') return true;
  }
  return false;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return [(err as { code?: string }).code, err.message].filter(Boolean).join(' ');
  return String(err);
}

/** Short and free of personal data: the row's last_error is shown in the console. */
function short(s: string): string {
  const one = maskText(s).replace(/\s+/g, ' ').trim();
  return one.length > MAX_MESSAGE ? `${one.slice(0, MAX_MESSAGE - 1)}…` : one;
}
