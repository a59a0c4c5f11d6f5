import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { footerForLanguage } from '@mz/contracts';
import { queryRows } from '@mz/db';

/** The subscription a message was matched to. */
export interface MatchedSubscription {
  by: 'reply_address' | 'letter' | 'topic';
  userId: string;
  subscriptionId: string;
  topicId: string;
  letterId: string | null;
  timezone: string;
}

/**
 * What reply processing reads to match a message (outside the effects' transaction) and the
 * subscription changes a reply makes (inside it, with the caller's EntityManager, so a message's
 * effects and its own row commit together). The message row itself is InboundMessageRepository's,
 * letters are LetterRepository's, progress and suppressions their own repositories' (libs/db).
 */
@Injectable()
export class ReplyRepository {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }

  /** The letter with its subscriber's address (null for an unknown letter or a deleted user). */
  async letterWithSubscriber(letterId: string): Promise<(Omit<MatchedSubscription, 'by'> & { email: string }) | null> {
    const [r] = await this.ds.query(
      `SELECT l.id, l.subscription_id, l.user_id, l.topic_id, s.timezone, u.email
         FROM letter l JOIN subscription s ON s.id = l.subscription_id JOIN app_user u ON u.id = l.user_id
        WHERE l.id = $1 AND u.status <> 'deleted'`,
      [letterId],
    );
    return r ? { letterId: r.id, subscriptionId: r.subscription_id, userId: r.user_id, topicId: r.topic_id, timezone: r.timezone, email: r.email } : null;
  }

  /** The recipient of a sign-in mail, by its login token id (the `b+t…` bounce address). */
  async loginTokenRecipient(tokenId: string): Promise<{ userId: string; email: string } | null> {
    const [r] = await this.ds.query(
      `SELECT u.id, u.email FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE t.id = $1 AND u.status <> 'deleted'`,
      [tokenId],
    );
    return r ? { userId: r.id, email: r.email } : null;
  }

  /** A subscription with its user, for the signed mailto unsubscribe (`u+…`). */
  async subscriptionById(subscriptionId: string): Promise<{ subscriptionId: string; userId: string; topicId: string } | null> {
    const [r] = await this.ds.query(
      `SELECT s.id, s.user_id, s.topic_id FROM subscription s JOIN app_user u ON u.id = s.user_id WHERE s.id = $1 AND u.status <> 'deleted'`,
      [subscriptionId],
    );
    return r ? { subscriptionId: r.id, userId: r.user_id, topicId: r.topic_id } : null;
  }

  /**
   * The text of the letter a reply answers, as it was sent: the extractor recognises it wherever it
   * sits in the reply (quoted, pasted, re-wrapped). Null for a letter not (yet) composed.
   */
  async letterBody(letterId: string): Promise<{ text: string | null; html: string | null; extra: string[] } | null> {
    // The mailer adds the closing quote and the footer of the letter's language when it sends: both come back too.
    const [r] = await this.ds.query(
      `SELECT l.body_text, l.body_html, q.text AS quote_text, l.language,
              (SELECT text_template FROM email_footer WHERE active LIMIT 1) AS footer_text
         FROM letter l LEFT JOIN bottom_quote q ON q.id = l.quote_id
        WHERE l.id = $1`,
      [letterId],
    );
    if (!r || !(r.body_text || r.body_html)) return null;
    const footer = footerForLanguage(r.language, { textTemplate: r.footer_text ?? '', htmlTemplate: '' }).textTemplate;
    return { text: r.body_text, html: r.body_html, extra: [r.quote_text, footer].filter((t): t is string => !!t) };
  }

  /** The sender's own subscription to a topic, by the sender's address. */
  async subscriptionOf(email: string, topicCode: string): Promise<Omit<MatchedSubscription, 'by' | 'letterId'> | null> {
    const [r] = await this.ds.query(
      `SELECT s.id, s.user_id, s.topic_id, s.timezone
         FROM subscription s JOIN app_user u ON u.id = s.user_id JOIN topic t ON t.id = s.topic_id
        WHERE lower(u.email) = $1 AND t.code = $2 AND u.status <> 'deleted'`,
      [email.toLowerCase(), topicCode],
    );
    return r ? { subscriptionId: r.id, userId: r.user_id, topicId: r.topic_id, timezone: r.timezone } : null;
  }

  async usersByEmail(emails: string[]): Promise<{ id: string; email: string }[]> {
    if (!emails.length) return [];
    return this.ds.query(`SELECT id, email FROM app_user WHERE lower(email) = ANY($1::text[]) AND status <> 'deleted'`, [emails.map((e) => e.toLowerCase())]);
  }

  async userSubscriptionIds(m: EntityManager, userId: string): Promise<string[]> {
    const rows: { id: string }[] = await m.query(`SELECT id FROM subscription WHERE user_id = $1 ORDER BY created_at`, [userId]);
    return rows.map((r) => r.id);
  }

  /** Turns a subscription off; true when it was on (the caller cancels letters and logs). */
  async disableSubscription(m: EntityManager, subscriptionId: string): Promise<boolean> {
    const rows = await queryRows(m, `UPDATE subscription SET enabled = false, next_run_at = NULL, updated_at = now() WHERE id = $1 AND enabled RETURNING id`, [subscriptionId]);
    return rows.length > 0;
  }

  async setPausedUntil(m: EntityManager, subscriptionId: string, until: Date): Promise<void> {
    await m.query(`UPDATE subscription SET paused_until = $2, updated_at = now() WHERE id = $1`, [subscriptionId, until]);
  }
}
