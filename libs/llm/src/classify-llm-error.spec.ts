import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { ClassifiedError } from '@mz/platform';
import { classifyLlmError, MalformedLlmOutputError, retryAfterMs } from './classify-llm-error';

const headers = (h: Record<string, string> = {}) => new Headers(h);
const apiError = (status: number, h: Record<string, string> = {}) =>
  APIError.generate(status, { message: `status ${status}`, type: 'test_error' }, undefined, headers(h));

describe('classifyLlmError', () => {
  it.each([
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
    [413, 'permanent'],
    [408, 'network'],
    [409, 'processing'],
    [429, 'rate_limit'],
    [500, 'processing'],
    [502, 'processing'],
    [503, 'processing'],
    [504, 'processing'],
  ])('HTTP %i → %s', (status, cls) => {
    expect(classifyLlmError(apiError(status)).failureClass).toBe(cls);
  });

  it('uses the SDK error classes the client actually throws', () => {
    expect(apiError(429)).toBeInstanceOf(OpenAI.RateLimitError);
    expect(apiError(500)).toBeInstanceOf(OpenAI.InternalServerError);
    expect(apiError(400)).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('429 carries Retry-After (seconds) as retryAfterMs', () => {
    const c = classifyLlmError(apiError(429, { 'retry-after': '7' }));
    expect(c).toMatchObject({ failureClass: 'rate_limit', retryAfterMs: 7000 });
    expect(c.message).toContain('429');
  });

  it('429 without Retry-After leaves the delay to the policy', () => {
    expect(classifyLlmError(apiError(429)).retryAfterMs).toBeUndefined();
  });

  it('connection errors and timeouts are network', () => {
    expect(classifyLlmError(new APIConnectionError({ message: 'Connection error.' })).failureClass).toBe('network');
    expect(classifyLlmError(new APIConnectionTimeoutError()).failureClass).toBe('network');
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyLlmError(reset).failureClass).toBe('network');
    expect(classifyLlmError(new TypeError('fetch failed', { cause: reset })).failureClass).toBe('network');
  });

  it('malformed output after the repair attempt is processing', () => {
    expect(classifyLlmError(new MalformedLlmOutputError('body: too short')).failureClass).toBe('processing');
  });

  it('unknown errors are processing; ClassifiedError passes through', () => {
    expect(classifyLlmError(new Error('boom')).failureClass).toBe('processing');
    const already = new ClassifiedError('permanent', 'x');
    expect(classifyLlmError(already)).toBe(already);
  });

  it('messages are short, single-line and mask e-mail addresses', () => {
    const err = APIError.generate(400, { message: `bad request for reader@example.com\n${'x'.repeat(500)}` }, undefined, headers());
    const { message } = classifyLlmError(err);
    expect(message.length).toBeLessThanOrEqual(240);
    expect(message).not.toContain('reader@example.com');
    expect(message).not.toContain('\n');
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    expect(retryAfterMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1500);
  });
  it('ignores garbage, past dates, and caps absurd values at an hour', () => {
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 00:00:00 GMT' }), now)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': '999999' }), now)).toBe(3_600_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
