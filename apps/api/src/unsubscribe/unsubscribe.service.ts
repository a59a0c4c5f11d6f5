import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { logEvent } from '@mz/db';
import { LetterCommands, verifyUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG, MetricsService } from '@mz/platform';
import type { Counter } from 'prom-client';
import { updateReturning } from '../common/sql';

export interface UnsubscribeTarget { subscriptionId: string; userId: string; topicName: string; enabled: boolean }

/**
 * Unsubscribe by signed link (RFC 8058 one-click or the confirm page). The token names the
 * subscription and is HMAC-signed with SESSION_SECRET: no login, no cookie, no expiry.
 */
@Injectable()
export class UnsubscribeService {
  private readonly unsubscribes: Counter<'source'>;

  constructor(private readonly ds: DataSource, private readonly letters: LetterCommands, @Inject(APP_CONFIG) private readonly config: AppConfig, metrics: MetricsService) {
    this.unsubscribes = metrics.counter('mz_unsubscribes_total', 'Unsubscribe link requests (RFC 8058 one-click POST or the page), by source; a repeated click counts again', ['source']);
  }

  async target(token: string): Promise<UnsubscribeTarget | null> {
    const subscriptionId = verifyUnsubscribeToken(token, this.config.SESSION_SECRET);
    if (!subscriptionId) return null;
    const [row] = await this.ds.query(
      `SELECT s.id, s.user_id, s.enabled, t.name FROM subscription s JOIN topic t ON t.id = s.topic_id
         JOIN app_user u ON u.id = s.user_id WHERE s.id = $1 AND u.status <> 'deleted'`,
      [subscriptionId],
    );
    return row ? { subscriptionId: row.id, userId: row.user_id, topicName: row.name, enabled: row.enabled } : null;
  }

  /** Idempotent: a second click answers the same and changes nothing. */
  async unsubscribe(token: string, source: 'one_click' | 'page'): Promise<UnsubscribeTarget | null> {
    const target = await this.target(token);
    if (!target) return null;
    const cancelled = await this.ds.transaction((m) => this.disable(m, target.subscriptionId, { actor: `user:${target.userId}`, source }));
    this.unsubscribes.inc({ source });
    if (cancelled.length) await this.letters.removeQueuedJobs(cancelled);
    return target;
  }

  /**
   * Turns a subscription off in the caller's transaction (also used by the admin's confirmation
   * of a reply flagged as an unsubscribe): clears the schedule, cancels pending letters, logs
   * UNSUBSCRIBE once. Returns the cancelled letter ids for job removal after commit.
   */
  async disable(m: EntityManager, subscriptionId: string, by: { actor: string; source: string }): Promise<string[]> {
    const [row] = await updateReturning<{ user_id: string }>(
      m,
      `UPDATE subscription SET enabled = false, next_run_at = NULL, updated_at = now()
        WHERE id = $1 AND enabled RETURNING user_id`,
      [subscriptionId],
    );
    const cancelled = await this.letters.cancelPending(m, subscriptionId, 'unsubscribed', by.actor);
    if (row) await logEvent(m, { type: 'UNSUBSCRIBE', actor: by.actor, userId: row.user_id, subscriptionId, metadata: { source: by.source } });
    return cancelled;
  }
}
