import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { type AppConfig, JobName, type MaintenanceJob, QueueName } from '@mz/contracts';
import { FINISHED_BATCH_STATUSES, LlmClient } from '@mz/llm';
import { APP_CONFIG, ClassifiedError, LOGGER, MetricsService, QueueService } from '@mz/platform';
import { ComposeLetterRepository } from '../compose-letter.repository';
import { type BatchResult, LlmBatchRepository } from './llm-batch.repository';

/**
 * Requests per batch. The Batch API takes up to 50,000 lines and 200 MB per file; a letter's
 * request is a few kB, so this stays well inside both.
 */
export const BATCH_MAX_LINES = 20_000;
/** Letters whose batch outcome is in, re-driven per window (their compose job promoted). */
const DRIVE_LIMIT = 5_000;

export interface BatchWindowResult {
  /** Results stored from finished batches (answers and failures). */
  collected: number;
  /** Compose jobs promoted for letters whose batch outcome is in. */
  driven: number;
  /** Requests submitted in this window's batch. */
  submitted: number;
}

/**
 * The batch window (docs/architecture.md §7), a repeatable `llm-batch` job on its own queue (`llm.batch`):
 * collect the results of finished batches (matched by custom_id = letter id), wake the compose job
 * of every letter whose outcome is in — the composer then validates the answer exactly like a
 * synchronous one, or composes synchronously if there is none — and submit the pending requests
 * as one batch. Everything it does is decided by llm_batch_item rows, so a lost or repeated run
 * changes nothing.
 */
@Injectable()
export class LlmBatchService {
  private readonly log: Logger;
  private readonly items;
  private readonly ensuredAt = { ms: 0 };

  constructor(
    private readonly batches: LlmBatchRepository,
    private readonly repo: ComposeLetterRepository,
    private readonly llm: LlmClient,
    private readonly queues: QueueService,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'llm-batch' });
    this.items = metrics.counter('mz_llm_batch_items_total', 'Letter requests through the Batch API, by outcome (submitted|answered|failed|invalid_line)', ['outcome']);
  }

  async run(): Promise<BatchWindowResult> {
    const result: BatchWindowResult = { collected: 0, driven: 0, submitted: 0 };
    if (!this.llm.configured) return result;
    for (const batchId of await this.batches.openBatches()) {
      try {
        result.collected += await this.collect(batchId);
      } catch (err) {
        if (err instanceof ClassifiedError && err.failureClass === 'permanent') {
          // The provider refuses to tell (unknown batch, revoked key): its letters go synchronous now.
          result.collected += await this.batches.failRemaining(batchId, `batch could not be read: ${err.message}`.slice(0, 1000));
          this.log.error({ err, batchId }, 'batch cannot be collected; its letters are composed synchronously');
          continue;
        }
        // The next window polls it again; its letters' compose jobs still run at their deadline.
        this.log.warn({ err, batchId }, 'could not collect a batch; trying again next window');
      }
    }
    result.driven = await this.drive();
    const settings = await this.repo.loadSettings();
    if (settings.batchCompose) {
      const sent = await this.batches.submitPending(BATCH_MAX_LINES, async (lines) => {
        const batch = await this.llm.submitBatch(lines.map((l) => ({ customId: l.letterId, body: l.body })), { source: 'mentor-zero', kind: 'letters' });
        return batch.id;
      });
      if (sent) {
        result.submitted = sent.count;
        this.items.inc({ outcome: 'submitted' }, sent.count);
        this.log.info({ batchId: sent.batchId, requests: sent.count }, 'letter batch submitted');
      }
    }
    await this.batches.prune();
    return result;
  }

  /**
   * A finished batch: every output line is an answer or a per-request error, the error file adds
   * the requests that failed, and whatever is still unanswered (expired, failed batch) fails.
   * Lines that cannot be read are skipped: their letters fail with the rest.
   */
  private async collect(batchId: string): Promise<number> {
    const batch = await this.llm.retrieveBatch(batchId);
    if (!FINISHED_BATCH_STATUSES.includes(batch.status)) return 0;
    const results: BatchResult[] = [];
    let invalid = 0;
    for (const fileId of [batch.outputFileId, batch.errorFileId]) {
      if (!fileId) continue;
      for (const line of (await this.llm.fileText(fileId)).split('\n')) {
        if (!line.trim()) continue;
        const parsed = parseResultLine(line);
        if (parsed) results.push(parsed);
        else invalid++;
      }
    }
    const answered = results.filter((r) => 'response' in r).length;
    let stored = await this.batches.recordResults(batchId, results);
    const missing = await this.batches.failRemaining(batchId, `batch ${batch.status}: no result for this request`);
    stored += missing;
    this.items.inc({ outcome: 'answered' }, answered);
    this.items.inc({ outcome: 'failed' }, results.length - answered + missing);
    if (invalid) this.items.inc({ outcome: 'invalid_line' }, invalid);
    this.log.info({ batchId, status: batch.status, answered, failed: results.length - answered, missing, invalid }, 'letter batch collected');
    return stored;
  }

  /** Promotes (or re-creates) the compose job of each letter whose batch outcome is in. */
  private async drive(): Promise<number> {
    const waiting = await this.batches.settledWaiting(DRIVE_LIMIT);
    for (const { id } of waiting) {
      await this.queues.ensureJob(JobName.ComposeLetter, { v: 1, letterId: id }, id);
    }
    return waiting.length;
  }

  /**
   * The window's job scheduler (one id, so any number of composers converge on one schedule).
   * Called at start and, at most once a minute, when a letter starts waiting for a batch: if Redis
   * lost the schedule it comes back before any letter needs it.
   */
  async ensureSchedule(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.ensuredAt.ms < 60_000) return;
    this.ensuredAt.ms = now;
    const queue = this.queues.queue(QueueName.LlmBatch);
    if (!force && (await queue.getJobScheduler(JobName.LlmBatch))) return;
    const data: MaintenanceJob = { v: 1 };
    await queue.upsertJobScheduler(JobName.LlmBatch, { every: this.config.LLM_BATCH_WINDOW_MS }, {
      name: JobName.LlmBatch,
      data,
      opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
    });
  }
}

interface ResultLine {
  custom_id?: unknown;
  response?: { status_code?: number; body?: { error?: { message?: string } } & Record<string, unknown> } | null;
  error?: { message?: string } | null;
}

/**
 * One line of a batch output or error file: `{custom_id, response: {status_code, body}, error}`.
 * A 200 with a body is an answer; anything else is that request's failure. Null: unreadable.
 */
export function parseResultLine(line: string): BatchResult | null {
  let v: ResultLine;
  try {
    v = JSON.parse(line) as ResultLine;
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || typeof v.custom_id !== 'string') return null;
  const status = v.response?.status_code;
  if (status === 200 && v.response?.body && typeof v.response.body === 'object' && !v.error) return { letterId: v.custom_id, response: v.response.body };
  const message = v.error?.message ?? v.response?.body?.error?.message ?? `status ${status ?? 'unknown'}`;
  return { letterId: v.custom_id, error: `batch request failed: ${String(message).slice(0, 500)}` };
}
