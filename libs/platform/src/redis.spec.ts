import pino from 'pino';
import { REPEATED_ERROR_LOG_MS, throttledErrorLog } from './redis';

describe('throttledErrorLog', () => {
  afterEach(() => jest.useRealTimers());

  it('logs the first error, then one line per interval saying how many were not logged', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const logger = pino({ level: 'silent' });
    const warn = jest.spyOn(logger, 'warn');
    const onError = throttledErrorLog(logger, 'queue error', { queue: 'letters.send' });

    onError(new Error('ECONNREFUSED'));
    for (let i = 0; i < 5; i++) onError(new Error('ECONNREFUSED'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenLastCalledWith({ queue: 'letters.send', error: 'ECONNREFUSED', suppressedSinceLast: 0 }, 'queue error');

    jest.setSystemTime(1_000_000 + REPEATED_ERROR_LOG_MS);
    onError(new Error('ETIMEDOUT'));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenLastCalledWith({ queue: 'letters.send', error: 'ETIMEDOUT', suppressedSinceLast: 5 }, 'queue error');
  });
});
