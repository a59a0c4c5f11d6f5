import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { JobName } from '@mz/contracts';
import { LOGGER, QueueService } from '@mz/platform';
import type { ProviderEventInput } from './provider-event';
import { ProviderEventRepository } from '@mz/db';

/**
 * Verified provider events enter here, as replies enter InboundStore: insert once per provider
 * event id, commit, then queue `process-provider-event` with job id = row id. A lost job is
 * rebuilt from the row by the re-drive; a provider's retry of the same event adds nothing.
 */
@Injectable()
export class ProviderEventStore {
  private readonly logger: Logger;

  constructor(private readonly events: ProviderEventRepository, private readonly queues: QueueService, @Inject(LOGGER) logger: Logger) {
    this.logger = logger.child({ component: 'provider-event-store' });
  }

  async store(events: ProviderEventInput[]): Promise<{ stored: number; duplicates: number }> {
    const rows = await this.events.ds.transaction((m) => this.events.store(m, events));
    for (const r of rows) await this.enqueue(r.id);
    const fresh = rows.filter((r) => !r.duplicate).length;
    return { stored: fresh, duplicates: events.length - fresh };
  }

  async enqueue(id: string): Promise<boolean> {
    try {
      await this.queues.ensureJob(JobName.ProcessProviderEvent, { v: 1, providerEventId: id }, id);
      return true;
    } catch (err) {
      this.logger.warn({ err, providerEventId: id }, 'provider event stored but not queued; the re-drive will queue it');
      return false;
    }
  }
}
