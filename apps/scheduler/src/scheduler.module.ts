import { DynamicModule, Module } from '@nestjs/common';
import { CleanupExpiredAuthService } from './cleanup-expired-auth.service';
import { MaintenanceSchedulesService } from './maintenance-schedules.service';
import { MaintenanceProcessor } from './maintenance.processor';
import { RollupKpisService } from './rollup-kpis.service';
import { ScheduleDueService } from '@mz/domain';
import { SchedulerLoopService } from './scheduler-loop.service';
import { SchedulerMetricsService } from './scheduler-metrics.service';
import { SweepStuckLettersService } from './sweep-stuck-letters.service';

/**
 * The scheduler: the tick that turns due subscriptions into letters, the sweeper and the other
 * maintenance jobs (worker + job schedulers), and the pipeline gauges.
 */
@Module({})
export class SchedulerModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [platform],
      providers: [
        ScheduleDueService,
        SchedulerLoopService,
        SweepStuckLettersService,
        CleanupExpiredAuthService,
        RollupKpisService,
        MaintenanceSchedulesService,
        MaintenanceProcessor,
        SchedulerMetricsService,
      ],
    };
  }
}
