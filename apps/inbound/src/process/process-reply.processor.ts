import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { type AppConfig, JobName, type ProcessReplyJob, QueueName } from '@mz/contracts';
import { APP_CONFIG, classifyError, maskText, WorkerRegistry } from '@mz/platform';
import { ProviderEventService } from '../providers/provider-event.service';
import { type ProcessOutcome, ProcessReplyService } from './process-reply.service';

/**
 * `replies.process` worker (INBOUND_CONCURRENCY at a time). Transient errors (database or Redis
 * away, a deadlock) retry with the platform's backoff; a permanent one (the database refusing the
 * data, a validation or parser guard) is recorded on the message at once with its class and reason,
 * as is any error on the last attempt — so one bad message never blocks or loops.
 */
@Injectable()
export class ProcessReplyProcessor implements OnModuleInit {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly service: ProcessReplyService,
    private readonly providerEvents: ProviderEventService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      QueueName.RepliesProcess,
      {
        [JobName.ProcessReply]: (payload, job) => this.process(payload, job),
        // Provider events (bounces, complaints, deliveries) share the queue and its workers.
        [JobName.ProcessProviderEvent]: (payload, job) => this.providerEvents.handle(payload, job),
      },
      { concurrency: this.config.INBOUND_CONCURRENCY },
    );
  }

  async process(payload: ProcessReplyJob, job: Job): Promise<ProcessOutcome> {
    try {
      return await this.service.process(payload.inboundMessageId);
    } catch (err) {
      return this.giveUpOrRetry(payload, job, err);
    }
  }

  private async giveUpOrRetry(payload: ProcessReplyJob, job: Job, err: unknown): Promise<ProcessOutcome> {
    const c = classifyError(err);
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    if (c.failureClass !== 'permanent' && attempt < attempts) throw err;
    this.registry.failures?.inc({ queue: QueueName.RepliesProcess, job: job.name, failure_class: c.failureClass, outcome: 'failed' });
    const reason = c.failureClass === 'permanent'
      ? `permanent: ${c.message}`
      : `${c.failureClass}: failed after ${attempts} attempts: ${c.message}`;
    return this.service.recordFailure(payload.inboundMessageId, maskText(reason));
  }
}
