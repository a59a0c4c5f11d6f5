import { GatewayTimeoutException, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobName, JOBS, type LetterPreview, type ResponseLength } from '@mz/contracts';
import { Clock, QueueService } from '@mz/platform';

const POLL_MS = 100;
/** The offline composer answers in milliseconds; a visitor waits no longer than this for a sample. */
const WAIT_MS = 8_000;
/** A day's sample of a topic stays in Redis for a day, so it is written once per topic per day. */
const KEEP_SEC = 86_400;
/** A failed sample is forgotten soon, so the next visitor's request tries again. */
const FORGET_FAILED_SEC = 60;

export interface TopicSample { topic: string; subject: string; bodyHtml: string; bodyText: string }

/**
 * The landing page's sample letter of a topic, for anonymous visitors (docs/architecture.md §5).
 * It is the composer's own preview job with `offline: true` — the offline composer, whatever
 * LLM is configured, so a visitor never costs an LLM call — and its job id names the topic and
 * the UTC date, so BullMQ keeps one job per topic per day: every visitor that day gets the same
 * letter, and concurrent first requests share one job. A copy is also kept in this process.
 * The per-IP limit sits in the controller.
 */
@Injectable()
export class TopicSampleService {
  private readonly logger = new Logger('TopicSample');
  private readonly cache = new Map<string, TopicSample>();

  constructor(private readonly ds: DataSource, private readonly queues: QueueService, private readonly clock: Clock) {}

  async sample(code: string): Promise<TopicSample> {
    const [topic]: { id: string; creativity: string; response_length: ResponseLength; temperature: string | null }[] = await this.ds.query(
      `SELECT t.id, coalesce(t.creativity, p.creativity) AS creativity, coalesce(t.response_length, p.response_length) AS response_length, t.temperature
         FROM topic t JOIN persona p ON p.id = t.persona_id WHERE t.code = $1 AND t.active`,
      [code],
    );
    if (!topic) throw new NotFoundException(`Unknown topic "${code}"`);
    const day = this.clock.now().toISOString().slice(0, 10);
    const jobId = `landing-sample-${topic.id}-${day}`;
    const cached = this.cache.get(jobId);
    if (cached) return cached;
    if (this.cache.size > 500) this.cache.clear();

    const queue = this.queues.queue(JOBS[JobName.PreviewLetter].queue);
    let job = await queue.getJob(jobId);
    if (!job || (await job.getState()) === 'failed') {
      await job?.remove().catch(() => undefined);
      job = await this.queues.enqueue(
        JobName.PreviewLetter,
        {
          v: 1,
          topicId: topic.id,
          offline: true,
          // The saved voice (the offline composer does not use it; the schema asks for one).
          voice: { creativity: Number(topic.creativity), responseLength: topic.response_length, temperature: topic.temperature === null ? null : Number(topic.temperature), instructions: '' },
        },
        { jobId, attempts: 1, removeOnComplete: { age: KEEP_SEC }, removeOnFail: { age: FORGET_FAILED_SEC } },
      );
    }
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const state = await job.getState();
      if (state === 'completed') {
        const done = (await queue.getJob(jobId)) ?? job;
        const preview = done.returnvalue as LetterPreview;
        const sample = { topic: code, subject: preview.subject.replace(/\s*\[mz:[a-z0-9-]+\]$/, ''), bodyHtml: preview.bodyHtml, bodyText: preview.bodyText };
        this.cache.set(jobId, sample);
        return sample;
      }
      if (state === 'failed') {
        this.logger.warn({ topic: code }, 'landing sample: the composer could not write it');
        throw new ServiceUnavailableException('No sample letter right now. Please try again later.');
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new GatewayTimeoutException('No sample letter right now. Please try again later.');
  }
}
