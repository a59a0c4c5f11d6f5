import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { type AppConfig, JobName, llmConfigured } from '@mz/contracts';
import { AppConfigRepository, namedStatement, queryNamed } from '@mz/db';
import { CATCH_UP_SKIP_REASON, type DueDecision, decideDue, initialRun } from '@mz/schedule';
import { APP_CONFIG, Clock, LOGGER, MetricsService, type OpenSpan, openSpan, QueueService, ReadCache, ROOT_TRACE_CONTEXT, tracingEnabled } from '@mz/platform';
import { lettersScheduledCounter } from '../letters/letter-metrics';
import { letterMessageId } from '../links/message-id';

/** A tick never loops forever, whatever the data looks like; the next tick carries on. */
const MAX_BATCHES_PER_TICK = 1000;
/** Jobs per addBulk call (one Redis round trip each). */
const ENQUEUE_CHUNK = 1000;
/** A batch's compose jobs wait for the next batch's write at most this long (a claim stuck behind a lock). */
const ENQUEUE_LATEST_MS = 100;

/**
 * The claim: due subscriptions of active users and topics, oldest slot first, locked so replicas
 * (and the passes of one tick) share them. $1 horizon, $2 batch size, $3 ids to pass over. Also
 * timed bare by the bench (the claim's own cost). Unnamed on purpose: a cached generic plan could lose the plan
 * that depends on how many rows are due.
 */
export const CLAIM_DUE_SQL = `SELECT s.id, s.user_id, s.topic_id, s.timezone, s.send_time_local, s.next_run_at,
                s.last_scheduled_local_date::text AS last_date, s.paused_until
           FROM subscription s
           JOIN app_user u ON u.id = s.user_id AND u.status = 'active'
           JOIN topic t ON t.id = s.topic_id AND t.active
          WHERE s.enabled AND s.next_run_at <= $1 AND NOT (s.id = ANY($3::uuid[]))
          ORDER BY s.next_run_at
          LIMIT $2
          FOR UPDATE OF s SKIP LOCKED`;

export interface ScheduleDueResult {
  batches: number;
  /** Letters inserted as `scheduled` and handed to the composer. */
  scheduled: number;
  /** Letters inserted as `skipped` (slot older than the catch-up window). */
  skipped: number;
  /** Slots passed over without a letter (paused, or the local date already had its letter). */
  advanced: number;
  /** Subscriptions that had no next_run_at and got one. */
  initialised: number;
  /** Rows whose stored schedule is invalid (logged; left untouched). */
  invalid: number;
  /** Letters whose compose job could not be queued (the sweeper re-drives them). */
  enqueueFailed: number;
}

/**
 * Writes a whole claimed batch in one statement (docs/performance.md, scheduler): the letters (a
 * (subscription, local date) that already has its scheduled letter is passed over — ON CONFLICT
 * DO NOTHING on the partial unique index), every decided row's cursor, and one event per letter
 * actually inserted, its metadata built from the very strings sent for the letter. Returns the
 * inserted letter ids. One round trip instead of three, each value sent once, planned once per
 * connection (a named statement).
 *
 * $1–$8 one element per letter (id, subscription, user, topic, status, scheduled_for as ISO text,
 * local_date as text, message_id), $9 the catch-up skip reason, $10–$12 one element per cursor.
 */
const WRITE_BATCH = namedStatement(
  'mz_scheduler_write_batch',
  `WITH v AS MATERIALIZED (
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[])
       WITH ORDINALITY AS v(id, subscription_id, user_id, topic_id, status, scheduled_for, local_date, message_id, n)
   ), advanced AS (
     UPDATE subscription s SET next_run_at = c.next_run_at, last_scheduled_local_date = c.last_date
       FROM unnest($10::uuid[], $11::timestamptz[], $12::date[]) AS c(id, next_run_at, last_date)
      WHERE s.id = c.id
   ), inserted AS (
     INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, skip_reason)
     SELECT id, subscription_id, user_id, topic_id, 'scheduled', status, scheduled_for::timestamptz, local_date::date, message_id,
            CASE WHEN status = 'skipped' THEN $9::text END
       FROM v
     ON CONFLICT (subscription_id, local_date) WHERE kind = 'scheduled' DO NOTHING
     RETURNING id
   )
   INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata)
   SELECT CASE WHEN v.status = 'scheduled' THEN 'LETTER_SCHEDULED' ELSE 'LETTER_SKIPPED' END, 'scheduler', v.user_id, v.id, v.subscription_id,
          CASE WHEN v.status = 'scheduled'
               THEN jsonb_build_object('kind', 'scheduled', 'local_date', v.local_date, 'scheduled_for', v.scheduled_for)
               ELSE jsonb_build_object('reason', $9::text, 'local_date', v.local_date, 'scheduled_for', v.scheduled_for) END
     FROM inserted JOIN v ON v.id = inserted.id
    ORDER BY v.n
   RETURNING letter_id`,
);

interface ClaimedRow {
  id: string;
  user_id: string;
  topic_id: string;
  timezone: string;
  send_time_local: string;
  next_run_at: Date;
  last_date: string | null;
  paused_until: Date | null;
}

interface PlannedLetter {
  id: string;
  row: ClaimedRow;
  decision: Extract<DueDecision, { action: 'letter' }>;
}

/**
 * Turns due subscriptions into letter rows (docs/architecture.md §3). Each batch is one transaction: claim
 * rows with FOR UPDATE SKIP LOCKED (replicas take disjoint sets); in one statement insert all
 * letters (the partial unique index (subscription_id, local_date) makes a duplicate scheduled
 * letter impossible — ON CONFLICT DO NOTHING), advance all cursors and log all events; commit;
 * only then queue the compose jobs (job id = letter id), while the next batch is claimed. If the
 * process dies between commit and enqueue, or the enqueue fails, the rows are `scheduled` and the
 * sweeper queues them.
 */
@Injectable()
export class ScheduleDueService {
  private readonly logger: Logger;
  private readonly scheduledTotal: Counter<'kind'>;
  private readonly skippedTotal: Counter<'reason'>;
  /** Invalid rows are logged once per process, not on every tick. */
  private readonly reportedInvalid = new Set<string>();

  /**
   * How far ahead letters are created: COMPOSE_LEAD, or COMPOSE_LEAD_BATCH while batch composing
   * (app_config llm_batch_compose) is on with an LLM configured — a letter must exist well before
   * its slot to go through a batch (docs/architecture.md §7). Read at most every 5 s.
   */
  readonly leadCache = new ReadCache(async () => {
    if (!llmConfigured(this.config)) return this.config.COMPOSE_LEAD;
    const batching = await this.appConfig.get('llm_batch_compose');
    return batching ? Math.max(this.config.COMPOSE_LEAD, this.config.COMPOSE_LEAD_BATCH) : this.config.COMPOSE_LEAD;
  }, 5_000);

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    private readonly clock: Clock,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly appConfig: AppConfigRepository,
  ) {
    this.logger = logger.child({ component: 'schedule-due' });
    this.scheduledTotal = lettersScheduledCounter(metrics);
    this.skippedTotal = metrics.counter('mz_letters_skipped_total', 'Letters skipped instead of sent, by reason', ['reason']);
  }

  /**
   * Claims and schedules everything due, batch after batch, until nothing is due. `now` pins the
   * clock (tests); otherwise each batch reads the clock afresh.
   */
  async scheduleDue(now?: Date): Promise<ScheduleDueResult> {
    const result: ScheduleDueResult = { batches: 0, scheduled: 0, skipped: 0, advanced: 0, initialised: 0, invalid: 0, enqueueFailed: 0 };
    // Rows that cannot be scheduled are excluded for the rest of this tick so the loop ends.
    const invalid = new Set<string>();
    const lead = await this.leadCache.get();
    for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
      const n = await this.initialiseBatch(now ?? this.clock.now(), invalid);
      result.initialised += n;
      if (n < this.config.SCHEDULER_BATCH_SIZE) break;
    }
    // A batch's compose jobs are queued while the next batch is claimed:
    // the enqueue needs only ids already committed, and Redis and Postgres work in parallel. It
    // starts once the next batch's write statement is on its way, so that the enqueue's own CPU
    // (BullMQ serialising 500 jobs) runs while Postgres executes the write rather than in front of
    // the claim (or after ENQUEUE_LATEST_MS if the claim is slow). At most one enqueue is in
    // flight — the next starts only once the previous has settled — and the tick returns only
    // after the last one, so shutdown still waits for it.
    let committed: string[] = [];
    let claimedAt = 0;
    let enqueuing: Promise<number> | undefined;
    let latest: NodeJS.Timeout | undefined;
    const startEnqueue = () => {
      clearTimeout(latest);
      if (enqueuing || !committed.length) return;
      enqueuing = this.enqueueCompose(committed, claimedAt);
      committed = [];
    };
    const settle = async () => {
      startEnqueue();
      if (!enqueuing) return;
      const pending = enqueuing;
      enqueuing = undefined;
      result.enqueueFailed += await pending;
    };
    try {
      for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
        const batchStarted = Date.now();
        const batch = await this.scheduleBatch(now ?? this.clock.now(), lead, invalid, startEnqueue);
        await settle();
        claimedAt = batchStarted;
        if (batch.claimed === 0) break;
        result.batches++;
        result.scheduled += batch.toCompose.length;
        result.skipped += batch.skipped;
        result.advanced += batch.advanced;
        committed = batch.toCompose;
        if (committed.length) latest = setTimeout(startEnqueue, ENQUEUE_LATEST_MS);
      }
    } finally {
      // Also when a claim failed: the letters already committed are queued before the tick ends.
      await settle();
    }
    result.invalid = invalid.size;
    return result;
  }

  /** Gives enabled subscriptions without a cursor (new, re-enabled) their next run. */
  private async initialiseBatch(now: Date, invalid: Set<string>): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const rows: ClaimedRow[] = await m.query(
        `SELECT id, timezone, send_time_local, last_scheduled_local_date::text AS last_date, paused_until
           FROM subscription
          WHERE enabled AND next_run_at IS NULL AND NOT (id = ANY($2::uuid[]))
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.config.SCHEDULER_BATCH_SIZE, [...invalid]],
      );
      const ids: string[] = [];
      const runs: string[] = [];
      for (const row of rows) {
        const at = this.safely(row, invalid, () => initialRun(toDue(row), now));
        if (!at) continue;
        ids.push(row.id);
        runs.push(at.toISOString());
      }
      if (ids.length) {
        await m.query(
          `UPDATE subscription s SET next_run_at = v.next_run_at
             FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, next_run_at)
            WHERE s.id = v.id`,
          [ids, runs],
        );
      }
      return rows.length;
    });
  }

  /** One claim transaction; `whileWriting` is called once its write statement has been sent. */
  private async scheduleBatch(now: Date, lead: number, invalid: Set<string>, whileWriting: () => void) {
    const horizon = new Date(now.getTime() + lead);
    const { claimed, inserted, advanced } = await this.dataSource.transaction(async (m) => {
      const rows: ClaimedRow[] = await m.query(
        CLAIM_DUE_SQL,
        [horizon, this.config.SCHEDULER_BATCH_SIZE, [...invalid]],
      );
      const letters: PlannedLetter[] = [];
      const cursors: { id: string; nextRunAt: Date; lastDate: string | null }[] = [];
      let advanced = 0;
      // Rows due at the same slot with the same zone, time, last date and pause decide identically,
      // and the timezone math is the costly part of a claim (most of its CPU when measured).
      const memo = new Map<string, DueDecision>();
      for (const row of rows) {
        const due = toDue(row);
        const key = `${due.timezone}|${due.sendTimeLocal}|${due.nextRunAt.getTime()}|${due.lastScheduledLocalDate}|${due.pausedUntil?.getTime() ?? ''}`;
        const decision = this.safely(row, invalid, () => {
          let d = memo.get(key);
          if (!d) memo.set(key, (d = decideDue(due, now, this.config.CATCH_UP_WINDOW)));
          return d;
        });
        if (!decision) continue;
        cursors.push({ id: row.id, nextRunAt: decision.nextRunAt, lastDate: decision.lastScheduledLocalDate });
        if (decision.action === 'letter') letters.push({ id: randomUUID(), row, decision });
        else advanced++;
      }
      const writing = this.writeBatch(m, letters, cursors);
      whileWriting();
      const inserted = await writing;
      return { claimed: rows.length, inserted, advanced };
    });

    const toCompose = inserted.filter((l) => l.decision.status === 'scheduled');
    const skipped = inserted.length - toCompose.length;
    if (toCompose.length) this.scheduledTotal.inc({ kind: 'scheduled' }, toCompose.length);
    if (skipped) this.skippedTotal.inc({ reason: CATCH_UP_SKIP_REASON }, skipped);
    if (inserted.length || advanced) {
      this.logger.info({ claimed, scheduled: toCompose.length, skipped, advanced }, 'scheduled due subscriptions');
    }
    // Committed: the caller queues these (enqueueCompose) while it claims the next batch.
    return { claimed, toCompose: toCompose.map((l) => l.id), skipped, advanced };
  }

  /** Letters, cursors and events of one batch (WRITE_BATCH); returns the letters actually inserted. */
  private async writeBatch(m: EntityManager, letters: PlannedLetter[], cursors: { id: string; nextRunAt: Date; lastDate: string | null }[]): Promise<PlannedLetter[]> {
    if (!cursors.length) return []; // every letter has its cursor
    const col = <T>(f: (l: PlannedLetter) => T) => letters.map(f);
    const rows = await queryNamed<{ letter_id: string }>(m, WRITE_BATCH, [
      col((l) => l.id),
      col((l) => l.row.id),
      col((l) => l.row.user_id),
      col((l) => l.row.topic_id),
      col((l) => l.decision.status),
      col((l) => l.decision.scheduledFor.toISOString()),
      col((l) => l.decision.localDate),
      col((l) => letterMessageId(l.id, this.config.REPLY_DOMAIN)),
      CATCH_UP_SKIP_REASON,
      cursors.map((c) => c.id),
      cursors.map((c) => c.nextRunAt.toISOString()),
      cursors.map((c) => c.lastDate),
    ]);
    if (rows.length === letters.length) return letters;
    const ids = new Set(rows.map((r) => r.letter_id));
    return letters.filter((l) => ids.has(l.id));
  }

  /**
   * After commit. A failure leaves the rows `scheduled`; the sweeper queues them after its grace.
   * Never rejects: returns how many letters could not be queued.
   */
  private async enqueueCompose(letterIds: string[], claimedAt: number): Promise<number> {
    // Let a statement just handed to node-pg go out before BullMQ's synchronous work.
    await new Promise((resolve) => setImmediate(resolve));
    let failed = 0;
    for (let i = 0; i < letterIds.length; i += ENQUEUE_CHUNK) {
      const chunk = letterIds.slice(i, i + ENQUEUE_CHUNK);
      // Each letter's trace starts here: a root span from its batch's claim to its compose job
      // being queued (docs/architecture.md §6). Nothing is allocated when tracing is off.
      const spans = tracingEnabled() ? chunk.map((letterId) => this.letterSpan(letterId, claimedAt)) : undefined;
      try {
        await this.queues.enqueueBulk(JobName.ComposeLetter, chunk.map((letterId, k) => ({ payload: { v: 1 as const, letterId }, opts: { jobId: letterId }, trace: spans?.[k]?.context })));
        spans?.forEach((s) => s?.end());
      } catch (err) {
        spans?.forEach((s) => s?.end(err));
        failed += chunk.length;
        this.logger.error({ err, letters: chunk.length }, 'could not queue compose jobs; the sweeper will re-drive these letters');
      }
    }
    return failed;
  }

  private letterSpan(letterId: string, claimedAt: number): OpenSpan | undefined {
    return openSpan('letter.schedule', { parent: ROOT_TRACE_CONTEXT, startTime: claimedAt || undefined, attributes: { 'mz.letter.id': letterId } });
  }

  /** Runs a schedule computation for a row; an invalid stored schedule is reported, not fatal. */
  private safely<T>(row: ClaimedRow, invalid: Set<string>, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      invalid.add(row.id);
      if (!this.reportedInvalid.has(row.id)) {
        if (this.reportedInvalid.size > 10_000) this.reportedInvalid.clear();
        this.reportedInvalid.add(row.id);
        this.logger.error({ err, subscriptionId: row.id }, 'subscription has an invalid schedule; it is not scheduled until fixed');
      }
      return undefined;
    }
  }
}

function toDue(row: ClaimedRow) {
  return {
    timezone: row.timezone,
    sendTimeLocal: row.send_time_local,
    nextRunAt: row.next_run_at,
    lastScheduledLocalDate: row.last_date,
    pausedUntil: row.paused_until,
  };
}
