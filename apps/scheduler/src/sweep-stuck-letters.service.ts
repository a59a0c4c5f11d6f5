import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { type AppConfig, QueueName } from '@mz/contracts';
import { type DrivableRow, LetterRepository } from '@mz/db';
import { type DrivableLetter, ensureLetterJob, letterStage } from '@mz/domain';
import { APP_CONFIG, Clock, LOGGER, MetricsService, QueueService } from '@mz/platform';

/** Rows read per query; a sweep pages through each category up to MAX_PER_CATEGORY rows. */
const PAGE = 1000;
const MAX_PER_CATEGORY = 20_000;
/** Concurrent Redis checks while re-driving. */
const CONCURRENCY = 25;

export interface SweepResult {
  /** `scheduled` rows whose compose job had to be re-created. */
  scheduled: number;
  /** `composing`/`sending` rows whose lease ran out, moved back to `retrying` and re-driven. */
  leaseExpired: number;
  /** Of those, rows that were `sending`: the SMTP send may already have happened (ambiguous). */
  ambiguous: number;
  /** `composed` rows whose send job was missing. */
  composed: number;
  /** `retrying` rows past their retry time whose job had to be re-created or promoted. */
  retrying: number;
}

type Row = DrivableRow;

/**
 * Postgres is the truth, Redis only transport (docs/architecture.md §1): rows whose job Redis lost, or whose
 * worker died mid-lease, are re-driven from the table. Every action is idempotent — job id =
 * letter id and the workers' claims check the row's status — so sweeps may overlap with the
 * workers and with each other.
 *
 * - `scheduled` for longer than the grace → compose job ensured;
 * - `composing`/`sending` past `lease_until` → `retrying` (body kept), the dead worker's orphaned
 *   job removed once its lock expired, and the job of its stage ensured; a `sending` row may already have been accepted by SMTP, so re-driving it counts as
 *   an ambiguous resend (same Message-ID);
 * - `composed` for longer than the grace without a live send job → send job (delayed until
 *   `scheduled_for`);
 * - `retrying` whose `next_retry_at` passed more than the grace ago → orphaned job removed, job
 *   ensured or promoted.
 */
@Injectable()
export class SweepStuckLettersService {
  private readonly logger: Logger;
  private readonly rebuilt: Counter<'status'>;
  private readonly ambiguousResends: Counter;

  constructor(
    private readonly letters: LetterRepository,
    private readonly queues: QueueService,
    private readonly clock: Clock,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'sweeper' });
    this.rebuilt = metrics.counter('mz_sweeper_jobs_rebuilt_total', 'Letter jobs the sweeper re-created from Postgres, by the row status found', ['status']);
    this.ambiguousResends = metrics.counter('mz_ambiguous_resends_total', 'Letters re-driven after a send whose outcome is unknown (may be delivered twice, same Message-ID)');
  }

  /**
   * How long a row may sit before the sweeper doubts its job: long enough for the normal
   * commit→enqueue gap, short enough that a lost Redis costs little time. Follows the sweep
   * interval (twice it), within 1 s..60 s.
   */
  get graceMs(): number {
    return Math.min(60_000, Math.max(1_000, 2 * this.config.SWEEP_INTERVAL_MS));
  }

  async sweep(now: Date = this.clock.now()): Promise<SweepResult> {
    const before = new Date(now.getTime() - this.graceMs);
    const result: SweepResult = { scheduled: 0, leaseExpired: 0, ambiguous: 0, composed: 0, retrying: 0 };

    result.scheduled = await this.forEachPage('scheduled', before, (row) => this.ensure(row, now, 'scheduled'),
    );

    const expired = await this.letters.releaseExpiredLeases(now, MAX_PER_CATEGORY);
    result.leaseExpired = expired.length;
    result.ambiguous = expired.filter((r) => r.was === 'sending').length;
    if (result.ambiguous) this.ambiguousResends.inc(result.ambiguous);
    await this.mapLimited(expired, (row) => this.ensure(row, now, row.was, { immediate: true, countAlways: true }));

    result.composed = await this.forEachPage('composed', before, (row) => this.ensureSendWithoutPromoting(row, now),
    );

    result.retrying = await this.forEachPage('retrying', before, (row) => this.ensure(row, now, 'retrying', { immediate: true }),
    );

    if (result.scheduled || result.leaseExpired || result.composed || result.retrying) {
      this.logger.warn(result, 'sweeper re-drove letters whose jobs were missing or whose worker was lost');
    }
    return result;
  }

  private async ensure(row: Row, now: Date, status: string, opts: { immediate?: boolean; countAlways?: boolean } = {}): Promise<boolean> {
    // Re-drives that are due now may find the job held by a worker that died.
    if (opts.immediate) await this.removeOrphanedJob(row);
    const outcome = await ensureLetterJob(this.queues, toLetter(row), now, { immediate: opts.immediate });
    // A lease-expired row is re-driven even when its (stalled) job still exists; others count only when rebuilt.
    if (outcome === 'added' || opts.countAlways) this.rebuilt.inc({ status });
    return outcome === 'added';
  }

  /**
   * The worker that held this row's lease (or was about to claim it) may have died with the job
   * still `active` in BullMQ.
   * Once the job's lock has expired nobody owns it; BullMQ's stalled check would return it to the
   * queue only after one or two more check intervals. Removing it now (BullMQ refuses while a live
   * worker holds the lock) lets `ensure` queue it at once; the row's status guards the work.
   */
  private async removeOrphanedJob(row: Row): Promise<void> {
    const queue = this.queues.queue(letterStage(row.has_body) === 'compose' ? QueueName.LettersCompose : QueueName.LettersSend);
    const job = await queue.getJob(row.id);
    if (!job || (await job.getState()) !== 'active') return;
    await job.remove().catch(() => undefined); // still locked: a live worker has it, leave it be
  }

  /**
   * A composed letter's send job normally waits (delayed) until `scheduled_for`, or is re-delayed
   * by the mailer while sending is paused: a live job is left as it is, never promoted.
   */
  private async ensureSendWithoutPromoting(row: Row, now: Date): Promise<boolean> {
    const job = await this.queues.queue(QueueName.LettersSend).getJob(row.id);
    if (job) {
      const state = await job.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
    }
    return this.ensure(row, now, 'composed');
  }

  /** Pages through a category (keyset on id) and counts rows whose job was rebuilt. */
  private async forEachPage(status: 'scheduled' | 'composed' | 'retrying', before: Date, fn: (row: Row) => Promise<boolean>): Promise<number> {
    let rebuilt = 0;
    let cursor = '00000000-0000-0000-0000-000000000000';
    for (let seen = 0; seen < MAX_PER_CATEGORY; ) {
      const rows = await this.letters.stalePage(status, before, cursor, PAGE);
      if (!rows.length) break;
      const outcomes = await this.mapLimited(rows, fn);
      rebuilt += outcomes.filter(Boolean).length;
      seen += rows.length;
      cursor = rows[rows.length - 1].id;
      if (rows.length < PAGE) break;
    }
    return rebuilt;
  }

  private async mapLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
    return out;
  }
}

function toLetter(row: Row): DrivableLetter {
  return { id: row.id, hasBody: row.has_body, scheduledFor: row.scheduled_for };
}
