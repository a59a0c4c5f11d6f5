import { Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { DelayedError } from 'bullmq';
import type { Logger } from 'pino';
import { type AppConfig, JobName, QueueName } from '@mz/contracts';
import { LlmClient } from '@mz/llm';
import { APP_CONFIG, LetterLeases, LOGGER, WorkerRegistry } from '@mz/platform';
import { LlmBatchService } from './batch/llm-batch.service';
import { ComposeLetterService } from './compose-letter.service';

/**
 * The `letters.compose` worker: parses nothing itself (the registry does), hands the letter id to
 * the service. A letter waiting for its Batch API answer parks its own job until the deadline
 * (docs/architecture.md §7); the batch window job wakes it earlier when the answer is in.
 */
@Injectable()
export class ComposeLetterProcessor implements OnModuleInit, OnApplicationBootstrap {
  private readonly log: Logger;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly service: ComposeLetterService,
    private readonly batches: LlmBatchService,
    private readonly llm: LlmClient,
    private readonly leases: LetterLeases,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'compose-processor' });
  }

  onModuleInit(): void {
    this.registry.register(
      QueueName.LettersCompose,
      {
        [JobName.ComposeLetter]: async (payload, job, token) => {
          // The lease is kept alive for as long as the LLM call takes; a killed composer's lapses.
          const result = await this.leases.hold(payload.letterId, () => this.service.compose(payload.letterId, job.attemptsMade + 1));
          if (result.outcome !== 'batched') return result;
          void this.batches.ensureSchedule().catch((err: unknown) => this.log.warn({ err }, 'could not check the batch window schedule'));
          // Same job id, parked until the deadline; not an attempt. Lost, the sweeper re-creates it then (next_retry_at).
          await job.moveToDelayed(result.until.getTime(), token);
          throw new DelayedError();
        },
        [JobName.PreviewLetter]: (payload) => this.service.preview(payload),
      },
      { concurrency: this.config.COMPOSER_CONCURRENCY },
    );
    // One window at a time per replica; the item rows' locks keep replicas from submitting a request twice.
    this.registry.register(QueueName.LlmBatch, { [JobName.LlmBatch]: () => this.batches.run() }, { concurrency: 1 });
  }

  /** The batch window's schedule exists whenever an LLM is configured (it only submits while the toggle is on). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.llm.configured) return;
    await this.batches.ensureSchedule(true).catch((err: unknown) => this.log.warn({ err }, 'could not create the batch window schedule'));
  }
}
