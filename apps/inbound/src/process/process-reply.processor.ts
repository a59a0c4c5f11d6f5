import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { type AppConfig, JobName, type ProcessReplyJob, QueueName } from '@mz/contracts';
import { APP_CONFIG, WorkerRegistry } from '@mz/platform';
import { type ProcessOutcome, ProcessReplyService } from './process-reply.service';

/**
 * `replies.process` worker (INBOUND_CONCURRENCY at a time). Unexpected errors (database or Redis
 * away) retry with the platform's backoff; on the last attempt the message is recorded as failed
 * instead, so one bad message never blocks or loops and the worker goes on with the others.
 */
@Injectable()
export class ProcessReplyProcessor implements OnModuleInit {
  constructor(
    private readonly registry: WorkerRegistry,
    private readonly service: ProcessReplyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      QueueName.RepliesProcess,
      { [JobName.ProcessReply]: (payload, job) => this.process(payload, job) },
      { concurrency: this.config.INBOUND_CONCURRENCY },
    );
  }

  async process(payload: ProcessReplyJob, job: Job): Promise<ProcessOutcome> {
    try {
      return await this.service.process(payload.inboundMessageId);
    } catch (err) {
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 < attempts) throw err;
      return this.service.recordFailure(payload.inboundMessageId, `processing failed after ${attempts} attempts: ${(err as Error).message}`);
    }
  }
}
