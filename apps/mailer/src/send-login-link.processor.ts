import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { JobName, QueueName, type SendLoginLinkJob } from '@mz/contracts';
import { WorkerRegistry } from '@mz/platform';
import { SendLoginLinkService } from './send-login-link.service';

/** `mail.transactional` worker: login links. Few, small and urgent, so a handful at a time suffices. */
const TRANSACTIONAL_CONCURRENCY = 4;

@Injectable()
export class SendLoginLinkProcessor implements OnModuleInit {
  constructor(private readonly registry: WorkerRegistry, private readonly service: SendLoginLinkService) {}

  onModuleInit(): void {
    this.registry.register(
      QueueName.MailTransactional,
      { [JobName.SendLoginLink]: (payload, job) => this.process(payload, job) },
      { concurrency: TRANSACTIONAL_CONCURRENCY },
    );
  }

  async process(payload: SendLoginLinkJob, job: Job): Promise<{ outcome: string }> {
    const result = await this.service.send(payload.loginTokenId, job.attemptsMade + 1);
    return { outcome: result.outcome };
  }
}
