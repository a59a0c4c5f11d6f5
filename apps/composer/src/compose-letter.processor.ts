import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { type AppConfig, JobName, QueueName } from '@mz/contracts';
import { APP_CONFIG, LetterLeases, WorkerRegistry } from '@mz/platform';
import { ComposeLetterService } from './compose-letter.service';

/** The `letters.compose` worker: parses nothing itself (the registry does), hands the letter id to the service. */
@Injectable()
export class ComposeLetterProcessor implements OnModuleInit {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly service: ComposeLetterService,
    private readonly leases: LetterLeases,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      QueueName.LettersCompose,
      {
        // The lease is kept alive for as long as the LLM call takes; a killed composer's lapses.
        [JobName.ComposeLetter]: (payload, job) => this.leases.hold(payload.letterId, () => this.service.compose(payload.letterId, job.attemptsMade + 1)),
        [JobName.PreviewLetter]: (payload) => this.service.preview(payload),
      },
      { concurrency: this.config.COMPOSER_CONCURRENCY },
    );
  }
}
