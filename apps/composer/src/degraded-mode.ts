import type { RetryDecision } from '@mz/platform';
import { LlmCircuitOpenError } from '@mz/llm';

/**
 * Why a letter was written by the offline composer although an LLM is configured
 * (docs/architecture.md §7, degraded mode). Stored on the letter (`fallback_reason`) and counted
 * by `mz_letters_degraded_total{reason}`.
 */
export type FallbackReason =
  /** The circuit is open: the LLM failed repeatedly and no call was made. */
  | 'circuit_open'
  /** The letter's attempts for its failure class are spent. */
  | 'retries_exhausted'
  /** The LLM refused the request for good (4xx): the same request would fail again. */
  | 'llm_rejected'
  /** A retry would finish too close to (or after) the letter's slot. */
  | 'slot_near';

/**
 * How long before its slot a retried compose must be able to finish; a retry planned later than
 * this writes the letter offline now instead, so it still goes out on time.
 */
export const SLOT_MARGIN_MS = 60_000;

export interface FallbackInput {
  /** What the LLM attempt threw. */
  err: unknown;
  /** What the failure's class and the attempt number allow (retryDecision). */
  decision: RetryDecision;
  now: Date;
  scheduledFor: Date;
}

/**
 * Whether a failed LLM attempt should give way to the offline composer, and why; null means
 * retry as usual. Pure: the service asks only when the admin toggle allows a fallback.
 */
export function fallbackReason({ err, decision, now, scheduledFor }: FallbackInput): FallbackReason | null {
  if (err instanceof LlmCircuitOpenError) return 'circuit_open';
  if (!decision.retry) return (err as { failureClass?: string }).failureClass === 'permanent' ? 'llm_rejected' : 'retries_exhausted';
  if (now.getTime() + decision.delayMs + SLOT_MARGIN_MS > scheduledFor.getTime()) return 'slot_near';
  return null;
}
