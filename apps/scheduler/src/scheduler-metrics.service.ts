import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ALL_QUEUES, LETTER_STATUSES } from '@mz/contracts';
import { LOGGER, MetricsService, QueueService } from '@mz/platform';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'failed', 'completed'] as const;
/**
 * `sent` grows without bound: counting it on every scrape would be a full scan. Its rate is
 * `mz_letters_sent_total` (mailer); every other status is a small set served by the status index.
 */
const COUNTED_STATUSES = LETTER_STATUSES.filter((s) => s !== 'sent');

/**
 * Pipeline gauges, computed on scrape with cheap queries (status index, lease index, Redis
 * counters). The scheduler serves them because it is the always-on coordinator; with several
 * replicas each reports the same values (use max() in queries).
 */
@Injectable()
export class SchedulerMetricsService implements OnModuleInit {
  private readonly logger: Logger;

  constructor(
    private readonly metrics: MetricsService,
    private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'scheduler-metrics' });
  }

  onModuleInit(): void {
    const { dataSource, queues } = this;
    const guard = (name: string, fn: () => Promise<void>) => async () => {
      try {
        await fn();
      } catch (err) {
        // A failing source must not fail the whole scrape; the gauge keeps its last value.
        this.logger.warn({ err, metric: name }, 'metric collection failed');
      }
    };

    this.metrics.gauge('mz_letters_by_status', 'Letters per status (all but sent; see mz_letters_sent_total)', ['status'], function () {
      return guard('mz_letters_by_status', async () => {
        const rows: { status: string; n: number }[] = await dataSource.query(
          `SELECT status, count(*)::int AS n FROM letter WHERE status = ANY($1::text[]) GROUP BY status`,
          [COUNTED_STATUSES],
        );
        for (const status of COUNTED_STATUSES) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      })();
    });

    this.metrics.gauge('mz_letters_stuck_sending', 'Letters in sending whose worker lease ran out (the sweeper re-drives them)', [], function () {
      return guard('mz_letters_stuck_sending', async () => {
        const [row] = await dataSource.query(`SELECT count(*)::int AS n FROM letter WHERE status = 'sending' AND lease_until < now()`);
        this.set(row.n);
      })();
    });

    // Five minutes of slack: a letter is normally sent within seconds of its time, so only the
    // ones that are really late count (the "no letters sent" alert relies on that).
    this.metrics.gauge('mz_letters_due_unsent', 'Letters scheduled over 5 minutes ago and still not sent (pending)', [], function () {
      return guard('mz_letters_due_unsent', async () => {
        const [row] = await dataSource.query(
          `SELECT count(*)::int AS n FROM letter
            WHERE status IN ('scheduled', 'composing', 'composed', 'sending', 'retrying') AND scheduled_for < now() - interval '5 minutes'`,
        );
        this.set(row.n);
      })();
    });

    this.metrics.gauge('mz_queue_depth', 'Jobs per queue and state', ['queue', 'state'], function () {
      return guard('mz_queue_depth', async () => {
        await Promise.all(
          ALL_QUEUES.map(async (queue) => {
            const counts = await queues.queue(queue).getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
          }),
        );
      })();
    });

    this.metrics.gauge('mz_queue_oldest_waiting_age_seconds', 'Age of the oldest job ready to run and not yet taken, per queue', ['queue'], function () {
      return guard('mz_queue_oldest_waiting_age_seconds', async () => {
        const now = Date.now();
        await Promise.all(
          ALL_QUEUES.map(async (queue) => {
            const [oldest] = await queues.queue(queue).getJobs(['wait'], 0, 0, true);
            // A job that was delayed became ready at timestamp + delay, not when it was added.
            const readyAt = oldest ? oldest.timestamp + (oldest.delay ?? 0) : now;
            this.set({ queue }, Math.max(0, (now - readyAt) / 1000));
          }),
        );
      })();
    });
  }
}
