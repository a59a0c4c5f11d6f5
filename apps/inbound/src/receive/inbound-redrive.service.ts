import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { InboundMessageRepository, ProviderEventRepository } from '@mz/db';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { ProviderEventStore } from '../providers/provider-event.store';
import { InboundStore } from './inbound-store.service';

const BATCH = 200;

/**
 * Stored but never processed (Redis lost the job, or refused it right after the insert
 * committed): re-queue from the row — received messages and providers' events alike. Job id =
 * row id, so replicas doing the same at once, or a job still waiting, add nothing.
 */
@Injectable()
export class InboundRedrive implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly messages: InboundMessageRepository,
    private readonly events: ProviderEventRepository,
    private readonly store: InboundStore,
    private readonly providerStore: ProviderEventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) private readonly options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'inbound-redrive' });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.redrive()
        .then(() => undefined, (err) => this.logger.warn({ err }, 'inbound re-drive failed; next interval retries'))
        .finally(() => (this.running = null));
    }, this.config.SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Re-queues unprocessed rows older than the grace; returns how many of each were looked at. */
  async redrive(): Promise<{ messages: number; providerEvents: number }> {
    const messages = await this.messages.unprocessed(this.options.redriveAfterMs, BATCH);
    for (const id of messages) await this.store.enqueue(id);
    const events = await this.events.unprocessed(this.events.ds, this.options.redriveAfterMs, BATCH);
    for (const id of events) await this.providerStore.enqueue(id);
    return { messages: messages.length, providerEvents: events.length };
  }
}
