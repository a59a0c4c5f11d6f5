import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { ProviderEventStore } from './provider-event.store';
import { ProviderEventRepository } from '@mz/db';

/** Provider events stored but never worked on (Redis lost or refused the job): re-queued from the row, as InboundRedrive does for messages. */
@Injectable()
export class ProviderEventRedrive implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly events: ProviderEventRepository,
    private readonly store: ProviderEventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(INBOUND_OPTIONS) private readonly options: InboundOptions,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'provider-event-redrive' });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.redrive()
        .then(() => undefined, (err) => this.logger.warn({ err }, 'provider event re-drive failed; next interval retries'))
        .finally(() => (this.running = null));
    }, this.config.SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  async redrive(): Promise<number> {
    const ids = await this.events.unprocessed(this.events.ds, this.options.redriveAfterMs, 200);
    for (const id of ids) await this.store.enqueue(id);
    return ids.length;
  }
}
