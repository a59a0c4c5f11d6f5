import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig, LetterStatus } from '@mz/contracts';
import { LetterRepository, logEvent, ProgressRepository } from '@mz/db';
import { APP_CONFIG, Clock, LOGGER, MetricsService, QueueService } from '@mz/platform';
import { localDateOf, nextRun } from '@mz/schedule';
import { letterMessageId } from '../links/message-id';
import {
  LetterNotDeliveredError, LetterNotFoundError, LetterNotRetryableError, SubscriptionDisabledError, SubscriptionNotFoundError,
} from './letter-command.errors';
import { ensureLetterJob, type LetterStage, letterStage, removeLetterJobs } from './letter-jobs';
import { lettersScheduledCounter } from './letter-metrics';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SendNowResult {
  letterId: string;
  messageId: string;
  scheduledFor: Date;
  localDate: string;
  /** False when Redis refused the job; the sweeper re-drives the row later. */
  queued: boolean;
}

export interface RetryNowResult {
  letterId: string;
  stage: LetterStage;
  /** The status the letter was reset to. */
  status: Extract<LetterStatus, 'scheduled' | 'composed'>;
  previousStatus: Extract<LetterStatus, 'failed' | 'retrying'>;
}

export interface MarkDoneResult {
  letterId: string;
  /** False when the letter was already done (by a reply or an earlier click). */
  changed: boolean;
  streak: number;
}

export interface SubscriptionChangeResult {
  /** Null when the subscription is disabled. */
  nextRunAt: Date | null;
  nextLocalDate: string | null;
  /** Letters cancelled inside the caller's transaction: pass to `removeQueuedJobs` after commit. */
  cancelledLetterIds: string[];
}

/**
 * Commands on letters shared by the api (send-now, retry-now, settings changes) and inbound
 * (unsubscribe, pause). Rows change inside a transaction; jobs are touched only after commit, so
 * a rolled-back change never leaves a job behind (and a lost job is rebuilt by the sweeper).
 */
@Injectable()
export class LetterCommands {
  private readonly logger: Logger;
  private readonly scheduled: Counter<'kind'>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly letters: LetterRepository,
    private readonly progress: ProgressRepository,
    private readonly queues: QueueService,
    private readonly clock: Clock,
    metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'letter-commands' });
    this.scheduled = lettersScheduledCounter(metrics);
  }

  /**
   * An extra letter now, through the normal pipeline. It does not touch the schedule: the
   * subscription's next scheduled letter stays where it was.
   */
  async sendNow(userId: string, topicCode: string, opts: { actor?: string } = {}): Promise<SendNowResult> {
    if (!UUID.test(userId)) throw new SubscriptionNotFoundError(`user ${userId}, topic ${topicCode}`);
    const now = this.clock.now();
    const letter = await this.dataSource.transaction(async (m) => {
      // FOR SHARE: a concurrent disable waits for us, then cancels this letter with the others.
      const [sub] = await m.query(
        `SELECT s.id, s.enabled, s.timezone, s.topic_id, t.active AS topic_active, u.status AS user_status
           FROM subscription s
           JOIN topic t ON t.id = s.topic_id
           JOIN app_user u ON u.id = s.user_id
          WHERE s.user_id = $1 AND t.code = $2
          FOR SHARE OF s`,
        [userId, topicCode],
      );
      if (!sub) throw new SubscriptionNotFoundError(`user ${userId}, topic ${topicCode}`);
      if (!sub.enabled) throw new SubscriptionDisabledError(sub.id, 'subscription_disabled');
      if (!sub.topic_active) throw new SubscriptionDisabledError(sub.id, 'topic_inactive');
      if (sub.user_status !== 'active') throw new SubscriptionDisabledError(sub.id, 'user_inactive');
      const id = randomUUID();
      const messageId = letterMessageId(id, this.config.REPLY_DOMAIN);
      const localDate = localDateOf(now, sub.timezone);
      await m.query(
        `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id)
         VALUES ($1, $2, $3, $4, 'send_now', 'scheduled', $5, $6, $7)`,
        [id, sub.id, userId, sub.topic_id, now, localDate, messageId],
      );
      await logEvent(m, {
        type: 'LETTER_SCHEDULED', actor: opts.actor ?? `user:${userId}`, userId, letterId: id, subscriptionId: sub.id,
        metadata: { kind: 'send_now', local_date: localDate },
      });
      return { letterId: id, messageId, scheduledFor: now, localDate };
    });
    this.scheduled.inc({ kind: 'send_now' });
    let queued = true;
    try {
      await ensureLetterJob(this.queues, { id: letter.letterId, hasBody: false, scheduledFor: now }, now);
    } catch (err) {
      queued = false;
      this.logger.warn({ err, letterId: letter.letterId }, 'send-now letter stored but not queued; the sweeper will re-drive it');
    }
    return { ...letter, queued };
  }

  /**
   * "Mark done" from the web (My letters): the same progress write as a "done" reply
   * (ProgressRepository.add), once per letter — a letter already done, by reply or by an earlier click,
   * changes nothing and logs nothing. Only the reader's own sent letters; anything else is
   * not found (a letter id of someone else's is indistinguishable from none).
   */
  async markDone(userId: string, letterId: string): Promise<MarkDoneResult> {
    if (!UUID.test(userId) || !UUID.test(letterId)) throw new LetterNotFoundError(letterId);
    return this.dataSource.transaction(async (m) => {
      const [l] = await m.query(`SELECT id, status, subscription_id FROM letter WHERE id = $1 AND user_id = $2`, [letterId, userId]);
      if (!l || l.status === 'cancelled') throw new LetterNotFoundError(letterId);
      if (l.status !== 'sent') throw new LetterNotDeliveredError(letterId, l.status);
      // The subscription lock (taken first, as ProgressRepository.add takes it) orders two clicks, or a click
      // and a reply, so the check below sees the other's row.
      await m.query(`SELECT id FROM subscription WHERE id = $1 FOR UPDATE`, [l.subscription_id]);
      if (await this.progress.isLetterDone(m, letterId)) return { letterId, changed: false, streak: await this.progress.streak(m, l.subscription_id) };
      const streak = await this.progress.add(m, { subscriptionId: l.subscription_id, letterId, inboundMessageId: null, completed: true, note: null });
      await logEvent(m, { type: 'LETTER_DONE', actor: `user:${userId}`, userId, letterId, subscriptionId: l.subscription_id, metadata: { source: 'web', streak } });
      return { letterId, changed: true, streak };
    });
  }

  /**
   * Console "Retry now" for a failed or retrying letter: back to the start of the stage it
   * failed in (`scheduled` without a body, `composed` with one), errors cleared, job queued
   * without delay. Refused when the subscription can no longer receive mail.
   */
  async retryNow(letterId: string, actor: string): Promise<RetryNowResult> {
    if (!UUID.test(letterId)) throw new LetterNotFoundError(letterId);
    const now = this.clock.now();
    const result = await this.dataSource.transaction(async (m) => {
      const [row] = await m.query(
        `SELECT l.id, l.status, l.user_id, l.subscription_id, l.scheduled_for, l.body_text IS NOT NULL AS has_body,
                s.enabled, u.status AS user_status
           FROM letter l
           JOIN subscription s ON s.id = l.subscription_id
           JOIN app_user u ON u.id = l.user_id
          WHERE l.id = $1
          FOR UPDATE OF l`,
        [letterId],
      );
      if (!row) throw new LetterNotFoundError(letterId);
      if (row.status !== 'failed' && row.status !== 'retrying') throw new LetterNotRetryableError(letterId, `status is ${row.status}`);
      if (!row.enabled) throw new LetterNotRetryableError(letterId, 'subscription is disabled');
      if (row.user_status !== 'active') throw new LetterNotRetryableError(letterId, 'user is not active');
      const stage = letterStage(row.has_body);
      const status = stage === 'send' ? 'composed' : 'scheduled';
      await this.letters.resetForRetry(m, letterId, status);
      await logEvent(m, {
        type: 'LETTER_RETRY_REQUESTED', actor, userId: row.user_id, letterId, subscriptionId: row.subscription_id,
        metadata: { from: row.status, stage },
      });
      return { letterId, stage, status, previousStatus: row.status, scheduledFor: row.scheduled_for as Date, hasBody: row.has_body as boolean };
    });
    await ensureLetterJob(this.queues, { id: letterId, hasBody: result.hasBody, scheduledFor: result.scheduledFor }, now, { immediate: true });
    return { letterId, stage: result.stage, status: result.status as RetryNowResult['status'], previousStatus: result.previousStatus };
  }

  /**
   * Cancels the subscription's letters still on their way (scheduled before `before`, when given),
   * inside the caller's transaction; see LetterRepository.cancelPending. Call `removeQueuedJobs`
   * with the returned ids after the transaction commits.
   */
  cancelPending(manager: EntityManager, subscriptionId: string, reason: string, actor = 'system', before?: Date): Promise<string[]> {
    return this.letters.cancelPending(manager, subscriptionId, { reason, actor, before });
  }

  /** Removes the compose/send jobs of cancelled letters; a job already running is guarded by the row. */
  async removeQueuedJobs(letterIds: readonly string[]): Promise<void> {
    await removeLetterJobs(this.queues, letterIds);
  }

  /**
   * A letter may exist long before its slot (COMPOSE_LEAD_BATCH while batch composing is on,
   * docs/architecture.md §7). A send-time or zone change moves each such letter not yet composed to
   * the new time on its local date, if that is still ahead; otherwise it keeps its slot (one letter
   * per local date, §3.1). Composed letters keep theirs (their send job is already waiting).
   */
  private async retimeUncomposed(manager: EntityManager, subscriptionId: string, timezone: string, sendTimeLocal: string, now: Date): Promise<void> {
    for (const l of await this.letters.lockUncomposedSlots(manager, subscriptionId, now)) {
      const [y, mo, d] = l.local_date.split('-').map(Number);
      const dayBefore = new Date(Date.UTC(y, mo - 1, d - 1)).toISOString().slice(0, 10);
      const run = nextRun({ timezone, sendTimeLocal, now, lastScheduledLocalDate: dayBefore });
      if (run.localDate === l.local_date && run.at.getTime() !== new Date(l.scheduled_for).getTime()) await this.letters.retimeUncomposed(manager, l.id, run.at);
    }
  }

  /**
   * After a subscription's enabled flag, send time, timezone or pause changed (in the caller's
   * transaction): recomputes `next_run_at` — never for a local date already scheduled, never
   * before `paused_until` — or clears it and cancels pending letters when disabled.
   */
  async applySubscriptionChange(manager: EntityManager, subscriptionId: string, now: Date = this.clock.now()): Promise<SubscriptionChangeResult> {
    const [sub] = await manager.query(
      `SELECT id, enabled, timezone, send_time_local, last_scheduled_local_date::text AS last_date, paused_until
         FROM subscription WHERE id = $1 FOR UPDATE`,
      [subscriptionId],
    );
    if (!sub) throw new SubscriptionNotFoundError(subscriptionId);
    if (!sub.enabled) {
      await manager.query(`UPDATE subscription SET next_run_at = NULL WHERE id = $1`, [subscriptionId]);
      const cancelledLetterIds = await this.cancelPending(manager, subscriptionId, 'subscription_disabled');
      return { nextRunAt: null, nextLocalDate: null, cancelledLetterIds };
    }
    await this.retimeUncomposed(manager, subscriptionId, sub.timezone, sub.send_time_local, now);
    const pausedUntil: Date | null = sub.paused_until;
    const from = pausedUntil && pausedUntil > now ? pausedUntil : now;
    const run = nextRun({ timezone: sub.timezone, sendTimeLocal: sub.send_time_local, now: from, lastScheduledLocalDate: sub.last_date });
    await manager.query(`UPDATE subscription SET next_run_at = $2 WHERE id = $1`, [subscriptionId, run.at]);
    return { nextRunAt: run.at, nextLocalDate: run.localDate, cancelledLetterIds: [] };
  }
}
