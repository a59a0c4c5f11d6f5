import { ClassifiedError } from '@mz/platform';
import { fallbackReason, SLOT_MARGIN_MS } from './degraded-mode';
import { LlmCircuitOpenError } from '@mz/llm';

const now = new Date('2030-01-01T07:00:00Z');
const inMs = (ms: number) => new Date(now.getTime() + ms);
const processing = new ClassifiedError('processing', 'LLM HTTP 503');

describe('fallbackReason', () => {
  it('an open circuit always falls back, however far the slot', () => {
    expect(fallbackReason({ err: new LlmCircuitOpenError(5_000), decision: { retry: true, delayMs: 5_000 }, now, scheduledFor: inMs(3_600_000) })).toBe('circuit_open');
  });

  it('no retry left: retries_exhausted, or llm_rejected for a permanent refusal', () => {
    expect(fallbackReason({ err: processing, decision: { retry: false, delayMs: 0 }, now, scheduledFor: inMs(3_600_000) })).toBe('retries_exhausted');
    expect(fallbackReason({ err: new ClassifiedError('permanent', 'LLM HTTP 400'), decision: { retry: false, delayMs: 0 }, now, scheduledFor: inMs(3_600_000) })).toBe('llm_rejected');
  });

  it('a retry that would land within the margin of the slot falls back now; an earlier one retries', () => {
    const delayMs = 10_000;
    const edge = delayMs + SLOT_MARGIN_MS;
    expect(fallbackReason({ err: processing, decision: { retry: true, delayMs }, now, scheduledFor: inMs(edge - 1) })).toBe('slot_near');
    expect(fallbackReason({ err: processing, decision: { retry: true, delayMs }, now, scheduledFor: inMs(edge) })).toBeNull();
    // A send-now letter (slot = now) never waits for a retry.
    expect(fallbackReason({ err: processing, decision: { retry: true, delayMs: 0 }, now, scheduledFor: now })).toBe('slot_near');
  });
});
