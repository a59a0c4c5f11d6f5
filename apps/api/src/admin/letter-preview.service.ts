import { BadGatewayException, GatewayTimeoutException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AppConfig, JobName, JOBS, type LetterPreview, type PreviewLetterJob } from '@mz/contracts';
import { APP_CONFIG, QueueService } from '@mz/platform';

const POLL_MS = 200;

/**
 * The console's live preview of a voice: a `preview-letter` job for the composer (the real one:
 * same prompt, LLM, quality guard and rendering as a letter), awaited here. One attempt, kept
 * briefly in Redis; nothing stored in Postgres, nothing sent.
 */
@Injectable()
export class LetterPreviewService {
  constructor(private readonly ds: DataSource, private readonly queues: QueueService, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async preview(topicId: string, voice: PreviewLetterJob['voice']): Promise<LetterPreview> {
    if (!(await this.ds.query(`SELECT 1 FROM topic WHERE id = $1`, [topicId])).length) throw new NotFoundException('Topic not found');
    const job = await this.queues.enqueue(JobName.PreviewLetter, { v: 1, topicId, voice }, {
      attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 600 }, priority: 1,
    });
    // The writer may call the model up to three times (repair, regeneration), each with its own timeout.
    const deadline = Date.now() + 3 * this.config.LLM_TIMEOUT_MS + 10_000;
    const queue = this.queues.queue(JOBS[JobName.PreviewLetter].queue);
    while (Date.now() < deadline) {
      const done = await queue.getJob(job.id as string);
      const state = done ? await done.getState() : 'unknown';
      if (state === 'completed') return done?.returnvalue as LetterPreview;
      if (state === 'failed') throw new BadGatewayException(`The composer could not write a preview: ${done?.failedReason ?? 'unknown error'}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await job.remove().catch(() => undefined);
    throw new GatewayTimeoutException('No composer answered in time: is the composer running?');
  }
}
