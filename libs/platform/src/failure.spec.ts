import { z } from 'zod';
import { QueryFailedError } from 'typeorm';
import { classifyError, FAILURE_POLICY, MAX_JOB_ATTEMPTS, retryDecision, sqlState } from './failure';

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

describe('classifyError: the one classification of errors that are not a side effect\'s own', () => {
  /** What node-postgres raises, wrapped by TypeORM as every repository sees it. */
  const pgError = (code: string, message: string) => new QueryFailedError('UPDATE x SET y = $1', ['?'], Object.assign(new Error(message), { code }));

  it.each([
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['22001', 'value too long for type character varying(100)'],
    ['23505', 'duplicate key value violates unique constraint "x"'],
    ['23503', 'insert or update violates foreign key constraint'],
  ])('Postgres data/integrity error %s is permanent at once', (code, message) => {
    const c = classifyError(pgError(code, message));
    expect(c.failureClass).toBe('permanent');
    expect(c.message).toContain(code);
    expect(retryDecision(c.failureClass, 1).retry).toBe(false);
  });

  it.each(['40001', '40P01', '53300', '57014', '57P01', '08006'])('Postgres %s is transient (network: retried with backoff)', (code) => {
    expect(classifyError(pgError(code, 'x')).failureClass).toBe('network');
  });

  it('reads the SQLSTATE from pg errors directly and never mistakes a Node code for one', () => {
    expect(sqlState(Object.assign(new Error('x'), { code: '22021' }))).toBe('22021');
    expect(sqlState(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBeUndefined();
    expect(classifyError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })).failureClass).toBe('network');
  });

  it('zod validation and named guards are permanent; connection trouble is network; the rest processing', () => {
    const zodErr = z.object({ a: z.string() }).safeParse({ a: 1 }).error;
    expect(classifyError(zodErr).failureClass).toBe('permanent');
    expect(classifyError(Object.assign(new Error('too deep'), { name: 'MessageParseError' })).failureClass).toBe('permanent');
    expect(classifyError(new Error('Connection terminated unexpectedly')).failureClass).toBe('network');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).failureClass).toBe('network');
    expect(classifyError(new TypeError('cannot read properties of undefined')).failureClass).toBe('processing');
  });

  it('keeps the reason on one short line', () => {
    const c = classifyError(new Error(`line one\nline two ${'x'.repeat(1000)}`));
    expect(c.message).not.toContain('\n');
    expect(c.message.length).toBeLessThanOrEqual(300);
  });
});
