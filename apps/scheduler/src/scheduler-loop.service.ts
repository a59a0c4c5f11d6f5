import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Gauge, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG, LOGGER, MetricsService } from '@mz/platform';
import { MaintenanceSchedulesService } from './maintenance-schedules.service';
import { ScheduleDueService } from '@mz/domain';

/**
 * Runs the scheduler tick every SCHEDULER_TICK_MS, one at a time per process: the next tick is
 * armed only when the previous one finished (no overlap however slow the database is), keeping
 * the cadence by subtracting the time the tick took. Stops arming on shutdown and waits for the
 * tick in progress, before workers and pools close.
 */
@Injectable()
export class SchedulerLoopService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly tickSeconds: Histogram;
  private readonly lastTick: Gauge;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private schemaCurrent = false;
  private schedulersUpserted = false;

  constructor(
    private readonly scheduleDue: ScheduleDueService,
    private readonly schedules: MaintenanceSchedulesService,
    private readonly dataSource: DataSource,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'scheduler-loop' });
    this.tickSeconds = metrics.histogram('mz_scheduler_tick_duration_seconds', 'Time one scheduler tick took (all batches)');
    this.lastTick = metrics.gauge('mz_scheduler_last_tick_timestamp_seconds', 'When this replica last completed a tick without error');
  }

  onApplicationBootstrap(): void {
    this.arm(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One tick; errors are logged and the next tick tries again. */
  async tick(): Promise<void> {
    const end = this.tickSeconds.startTimer();
    try {
      if (!(await this.migrationsCurrent())) return;
      await this.maintainSchedulers();
      // SCHEDULER_CONCURRENCY passes share the due rows through SKIP LOCKED, as replicas do: while
      // one waits on Postgres the other's batch is written or enqueued, so one scheduler keeps both cores busy.
      await Promise.all(Array.from({ length: this.config.SCHEDULER_CONCURRENCY }, () => this.scheduleDue.scheduleDue()));
      this.lastTick.setToCurrentTime();
    } catch (err) {
      this.logger.error({ err }, 'scheduler tick failed');
    } finally {
      end();
    }
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.arm(Math.max(0, this.config.SCHEDULER_TICK_MS - (Date.now() - started)));
      });
    }, delayMs);
  }

  /** Never schedule against a schema the migrate job has not brought up to date. */
  private async migrationsCurrent(): Promise<boolean> {
    if (this.schemaCurrent) return true;
    if (await this.dataSource.showMigrations()) {
      this.logger.warn('pending migrations: not scheduling until the migrate job has run');
      return false;
    }
    return (this.schemaCurrent = true);
  }

  /** Redis trouble here must not stop letters from being scheduled (rows are the truth). */
  private async maintainSchedulers(): Promise<void> {
    try {
      if (this.schedulersUpserted) await this.schedules.ensure();
      else {
        await this.schedules.upsertAll();
        this.schedulersUpserted = true;
      }
    } catch (err) {
      this.logger.error({ err }, 'could not maintain the maintenance job schedulers');
    }
  }
}
