/**
 * How far ahead the scheduler creates letters (docs/architecture.md §7): COMPOSE_LEAD, or
 * COMPOSE_LEAD_BATCH while batch composing is on and an LLM is configured.
 */
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { type AppConfig, parseConfig } from '@mz/contracts';
import type { AppConfigRepository } from '@mz/db';
import { Clock, MetricsService, type QueueService } from '@mz/platform';
import { ScheduleDueService } from './schedule-due.service';

function leadWith(vars: Record<string, string>, batching: boolean): Promise<number> {
  const config: AppConfig = parseConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', ...vars });
  const appConfig = { get: jest.fn(async () => batching) } as unknown as AppConfigRepository;
  const service = new ScheduleDueService(
    {} as DataSource, {} as QueueService, new Clock(), new MetricsService('schedule-lead-spec'), config, pino({ level: 'silent' }), appConfig,
  );
  return service.leadCache.get();
}

describe('the scheduler lead', () => {
  it('is COMPOSE_LEAD by default, COMPOSE_LEAD_BATCH while llm_batch_compose is on with an LLM configured', async () => {
    expect(await leadWith({}, false)).toBe(15 * 60_000);
    expect(await leadWith({ LLM_BASE_URL: 'http://127.0.0.1:9/v1' }, false)).toBe(15 * 60_000);
    expect(await leadWith({ LLM_BASE_URL: 'http://127.0.0.1:9/v1' }, true)).toBe(24 * 3_600_000);
    expect(await leadWith({ LLM_BASE_URL: 'http://127.0.0.1:9/v1', COMPOSE_LEAD_BATCH: '6h' }, true)).toBe(6 * 3_600_000);
    // Without an LLM there is nothing to batch: the toggle changes nothing.
    expect(await leadWith({}, true)).toBe(15 * 60_000);
  });
});
