import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { type AppConfig, JobName, QueueName, type SendLetterJob } from '@mz/contracts';
import { APP_CONFIG, LetterLeases, WorkerRegistry } from '@mz/platform';
import { SendLetterService } from './send-letter.service';

/**
 * `letters.send` worker. BullMQ's limiter is global per queue, across every mailer replica: that
 * is the shared SMTP rate limit (SMTP_RATE_PER_SEC).
 */
@Injectable()
export class SendLetterProcessor implements OnModuleInit {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly service: SendLetterService,
    private readonly leases: LetterLeases,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      QueueName.LettersSend,
      { [JobName.SendLetter]: (payload, job) => this.process(payload, job) },
      { concurrency: this.config.MAILER_CONCURRENCY, limiter: { max: this.config.SMTP_RATE_PER_SEC, duration: 1000 } },
    );
  }

  async process(payload: SendLetterJob, job: Job): Promise<{ outcome: string }> {
    // A slow SMTP server keeps the lease alive; a killed mailer's lapses within LEASE_MS.
    const result = await this.leases.hold(payload.letterId, () => this.service.send(payload.letterId));
    if (result.outcome === 'deferred') {
      // Moving the job back to delayed is not a failed attempt: attempts stay for real send failures.
      await job.moveToDelayed(result.until.getTime(), job.token);
      throw new DelayedError();
    }
    return { outcome: result.outcome };
  }
}
