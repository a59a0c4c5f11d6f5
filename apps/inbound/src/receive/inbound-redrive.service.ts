import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, LOGGER } from '@mz/platform';
import { INBOUND_OPTIONS, type InboundOptions } from '../inbound-options';
import { InboundStore } from './inbound-store.service';

const BATCH = 200;

/**
 * Stored but never processed (Redis lost the job, or refused it right after the insert
 * committed): re-queue from the row. Job id = row id, so replicas doing the same at once, or a
 * job still waiting, add nothing.
 */
@Injectable()
export class InboundRedrive implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly store: InboundStore,
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

  /** Re-queues unprocessed rows older than the grace; returns how many were looked at. */
  async redrive(): Promise<number> {
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM inbound_message
        WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1)
        ORDER BY received_at LIMIT ${BATCH}`,
      [this.options.redriveAfterMs / 1000],
    );
    for (const r of rows) await this.store.enqueue(r.id);
    return rows.length;
  }
}
