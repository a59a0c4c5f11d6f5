import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { type AppConfig, JobName, type MaintenanceJob, QueueName } from '@mz/contracts';
import { APP_CONFIG, LOGGER, QueueService } from '@mz/platform';

type MaintenanceJobName = typeof JobName.SweepStuckLetters | typeof JobName.CleanupExpiredAuth | typeof JobName.RollupKpis;

/**
 * The maintenance job schedulers (BullMQ `upsertJobScheduler`, one id per job name, so any
 * number of scheduler replicas converge on one schedule each). If Redis loses them — a flush, a
 * failover without persistence — `ensure()` (called by every tick) puts them back; otherwise the
 * sweeper that rebuilds lost jobs would itself be lost.
 */
@Injectable()
export class MaintenanceSchedulesService {
  private readonly logger: Logger;

  constructor(private readonly queues: QueueService, @Inject(APP_CONFIG) private readonly config: AppConfig, @Inject(LOGGER) logger: Logger) {
    this.logger = logger.child({ component: 'maintenance-schedules' });
  }

  /** Job scheduler id (= job name) → interval. */
  get schedules(): Record<MaintenanceJobName, number> {
    return {
      [JobName.SweepStuckLetters]: this.config.SWEEP_INTERVAL_MS,
      [JobName.CleanupExpiredAuth]: 3_600_000,
      [JobName.RollupKpis]: 15 * 60_000,
    };
  }

  /** Creates or updates all three (at start: picks up a changed interval). */
  async upsertAll(): Promise<void> {
    for (const [name, every] of Object.entries(this.schedules) as [MaintenanceJobName, number][]) await this.upsert(name, every);
  }

  /** Re-creates any scheduler that is missing. Returns the names it had to re-create. */
  async ensure(): Promise<string[]> {
    const queue = this.queues.queue(QueueName.Maintenance);
    const missing: string[] = [];
    for (const [name, every] of Object.entries(this.schedules) as [MaintenanceJobName, number][]) {
      if (await queue.getJobScheduler(name)) continue;
      missing.push(name);
      await this.upsert(name, every);
    }
    if (missing.length) this.logger.warn({ missing }, 'maintenance job schedulers were missing from Redis; re-created');
    return missing;
  }

  private async upsert(name: MaintenanceJobName, every: number): Promise<void> {
    const data: MaintenanceJob = { v: 1 };
    // One attempt: the next run comes soon anyway. Bounded retention like every other job.
    await this.queues.queue(QueueName.Maintenance).upsertJobScheduler(name, { every }, {
      name,
      data,
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
    });
  }
}
