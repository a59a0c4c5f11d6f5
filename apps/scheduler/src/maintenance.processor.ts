import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobName, QueueName } from '@mz/contracts';
import { WorkerRegistry } from '@mz/platform';
import { CleanupExpiredAuthService } from './cleanup-expired-auth.service';
import { RollupKpisService } from './rollup-kpis.service';
import { SweepStuckLettersService } from './sweep-stuck-letters.service';

/** The `maintenance` queue's worker: one handler per job name, each handing to its service. */
@Injectable()
export class MaintenanceProcessor implements OnModuleInit {
  constructor(
    private readonly workers: WorkerRegistry,
    private readonly sweeper: SweepStuckLettersService,
    private readonly cleanup: CleanupExpiredAuthService,
    private readonly rollup: RollupKpisService,
  ) {}

  onModuleInit(): void {
    this.workers.register(
      QueueName.Maintenance,
      {
        [JobName.SweepStuckLetters]: () => this.sweeper.sweep(),
        [JobName.CleanupExpiredAuth]: () => this.cleanup.run(),
        [JobName.RollupKpis]: () => this.rollup.run(),
      },
      // One maintenance job at a time per replica; they are short and rare.
      { concurrency: 1 },
    );
  }
}
