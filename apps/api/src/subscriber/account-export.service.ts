import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Everything we hold about one person, as JSON (GDPR art. 15/20): account, subscriptions,
 * letters, replies (extracted text, not raw mail), progress, sessions and the events about them.
 * Nothing of anyone else: an admin who acted on the account appears as "admin", not by id, and
 * token hashes are left out (they identify nothing but are secrets of a kind).
 */
@Injectable()
export class AccountExportService {
  constructor(private readonly ds: DataSource) {}

  async export(userId: string): Promise<Record<string, unknown>> {
    const [user] = await this.ds.query(
      `SELECT id, email, name, role, status, created_at AS "createdAt", last_login_at AS "lastLoginAt" FROM app_user WHERE id = $1`,
      [userId],
    );
    if (!user) throw new NotFoundException('User not found');
    const q = (sql: string) => this.ds.query(sql, [userId]);
    const [subscriptions, letters, prompts, replies, progress, events, sessions, loginTokens, quotes] = await Promise.all([
      q(`SELECT s.id, t.code AS topic, t.name AS "topicName", s.enabled, s.send_time_local AS "sendTime", s.timezone,
                s.context_note AS "contextNote", s.language, s.next_run_at AS "nextRunAt", s.last_scheduled_local_date::text AS "lastScheduledLocalDate",
                s.paused_until AS "pausedUntil", s.created_at AS "createdAt", s.updated_at AS "updatedAt"
           FROM subscription s JOIN topic t ON t.id = s.topic_id WHERE s.user_id = $1 ORDER BY s.created_at`),
      q(`SELECT l.id, t.code AS topic, l.kind, l.status, l.scheduled_for AS "scheduledFor", l.local_date::text AS "localDate",
                l.subject, l.body_text AS "bodyText", l.body_html AS "bodyHtml", l.summary, l.themes, l.tone, l.advice_focus AS "adviceFocus",
                l.variation_tags AS "variationTags", l.model, l.prompt_version AS "promptVersion", l.message_id AS "messageId",
                l.attempts, l.error_type AS "errorType", l.sent_at AS "sentAt", l.skip_reason AS "skipReason", l.created_at AS "createdAt"
           FROM letter l JOIN topic t ON t.id = l.topic_id WHERE l.user_id = $1 ORDER BY l.scheduled_for`),
      q(`SELECT lp.letter_id AS "letterId", lp.messages, lp.response, lp.created_at AS "createdAt"
           FROM letter_prompt lp JOIN letter l ON l.id = lp.letter_id WHERE l.user_id = $1`),
      q(`SELECT id, message_id AS "messageId", source, from_address AS "from", subject, kind, intent, reply_text AS "text", note,
                confidence, matched_letter_id AS "letterId", received_at AS "receivedAt", processed_at AS "processedAt"
           FROM inbound_message WHERE matched_user_id = $1 ORDER BY received_at`),
      q(`SELECT p.id, p.subscription_id AS "subscriptionId", p.letter_id AS "letterId", p.completed, p.note,
                p.streak_at_time AS "streakAtTime", p.created_at AS "createdAt"
           FROM progress p JOIN subscription s ON s.id = p.subscription_id WHERE s.user_id = $1 ORDER BY p.created_at`),
      q(`SELECT id, type, actor, letter_id AS "letterId", subscription_id AS "subscriptionId", metadata, created_at AS "createdAt"
           FROM event_log WHERE user_id = $1 ORDER BY created_at, id`),
      q(`SELECT created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", user_agent AS "userAgent", ip
           FROM app_session WHERE user_id = $1 ORDER BY created_at`),
      q(`SELECT purpose, created_at AS "createdAt", expires_at AS "expiresAt", used_at AS "usedAt", sent_at AS "sentAt"
           FROM login_token WHERE user_id = $1 ORDER BY created_at`),
      q(`SELECT b.text, b.author, h.used_at AS "usedAt" FROM quote_history h JOIN bottom_quote b ON b.id = h.quote_id WHERE h.user_id = $1 ORDER BY h.used_at`),
    ]);
    const actorOf = (actor: string) => (actor === userId || actor === `user:${userId}` ? 'you' : UUID.test(actor.replace(/^\w+:/, '')) ? 'admin' : actor);
    return {
      format: 'mentor-zero-export/1',
      exportedAt: new Date().toISOString(),
      user,
      subscriptions,
      letters,
      letterPrompts: prompts,
      replies,
      progress,
      events: events.map((e: { actor: string }) => ({ ...e, actor: actorOf(e.actor) })),
      sessions,
      loginTokens,
      quotesReceived: quotes,
    };
  }
}
