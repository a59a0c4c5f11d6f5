import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig, FailureClass } from '@mz/contracts';
import { DEFAULT_FOOTER, logEvent } from '@mz/db';
import { FOOTER_LOGIN_TTL_MS, issueLoginToken, links, signUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG, Clock, LOGGER, maskText, RetryLaterError, retryDecision } from '@mz/platform';
import { classifySmtpError, type SmtpFailure } from './classify-smtp-error';
import { MailerMetrics } from './mailer.metrics';
import { renderLetterMail } from './render-mail';
import { SmtpTransport } from './smtp.transport';

/** While `sending_paused` is on, a send job looks again after this long (scaled in tests). */
export const PAUSE_RECHECK_MS = 30_000;
/** A job that arrives this much before `scheduled_for` waits for its slot instead of sending early. */
const EARLY_TOLERANCE_MS = 1_000;
const MIN_REDELAY_MS = 50;

export type SendLetterResult =
  | { outcome: 'sent'; attempts: number }
  /** No claimable row: already sent, being sent, cancelled, or not composed yet. No send. */
  | { outcome: 'not_claimable' }
  | { outcome: 'cancelled'; reason: CancelReason }
  | { outcome: 'skipped'; reason: 'suppressed' }
  /** Nothing done; run the job again at `until` (sending paused, or the slot is still ahead). */
  | { outcome: 'deferred'; reason: 'sending_paused' | 'not_due'; until: Date };

type CancelReason = 'user_inactive' | 'subscription_disabled' | 'subscription_paused';

/** The claimed letter plus what sending it needs, loaded under the claim's row lock. */
interface Claimed {
  id: string;
  subscriptionId: string;
  userId: string;
  kind: 'scheduled' | 'send_now';
  scheduledFor: Date;
  messageId: string;
  subject: string;
  bodyText: string;
  bodyHtml: string | null;
  quoteId: string | null;
  attempts: number;
  email: string;
  topicCode: string;
  topicName: string;
}

/**
 * Sends one letter, with the `letter` row as the idempotency ledger (DESIGN §3, pipeline.md):
 * only the transition composed|retrying(with body) → sending permits an SMTP send, and
 * `sent` + LETTER_SENT commit together once the server accepted. The SMTP call runs outside any
 * transaction; a crash between accept and commit leaves `sending` for the sweeper (the one
 * ambiguous window, with the same Message-ID).
 */
@Injectable()
export class SendLetterService {
  private readonly log: Logger;

  constructor(
    private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MailerMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'send-letter' });
  }

  /** Throws RetryLaterError (retry after its delay) or UnrecoverableError (failed for good). */
  async send(letterId: string): Promise<SendLetterResult> {
    const deferral = await this.deferral(letterId);
    if (deferral) return deferral;

    const claim = await this.claim(letterId);
    if ('outcome' in claim) return claim;

    let mail;
    try {
      mail = await this.prepare(claim);
    } catch (err) {
      this.log.error({ err, letterId }, 'preparing the letter failed');
      return this.fail(claim, { failureClass: 'processing', hardBounce: false, summary: `prepare: ${maskText(String((err as Error)?.message ?? err)).slice(0, 200)}` });
    }

    const started = performance.now();
    let response: string;
    try {
      ({ response } = await this.smtp.send(mail));
    } catch (err) {
      const failure = classifySmtpError(err);
      this.metrics.smtpDuration.observe({ outcome: failure.failureClass }, (performance.now() - started) / 1000);
      return this.fail(claim, failure);
    }
    const sendMs = Math.round(performance.now() - started);
    this.metrics.smtpDuration.observe({ outcome: 'accepted' }, sendMs / 1000);

    const sentAt = await this.markSent(claim, response, sendMs);
    this.metrics.sent.inc();
    if (claim.kind === 'scheduled') this.metrics.lateness.observe(Math.max(0, (sentAt.getTime() - claim.scheduledFor.getTime()) / 1000));
    this.log.info({ letterId, attempts: claim.attempts, sendMs }, 'letter sent');
    return { outcome: 'sent', attempts: claim.attempts };
  }

  /** Sending paused, or the job arrived before the letter's slot: leave the row alone and come back. */
  private async deferral(letterId: string): Promise<SendLetterResult | null> {
    const now = this.clock.now();
    const [row] = await this.ds.query(
      `SELECT l.scheduled_for, (SELECT value FROM app_config WHERE key = 'sending_paused') AS paused
         FROM letter l
        WHERE l.id = $1 AND (l.status = 'composed' OR (l.status = 'retrying' AND l.body_text IS NOT NULL))`,
      [letterId],
    );
    // Nothing to send (done, cancelled, not composed): the claim will say so; don't keep the job alive.
    if (!row) return null;
    if (row.paused === true) {
      return { outcome: 'deferred', reason: 'sending_paused', until: new Date(now.getTime() + this.scaled(PAUSE_RECHECK_MS)) };
    }
    if (new Date(row.scheduled_for).getTime() > now.getTime() + EARLY_TOLERANCE_MS) {
      return { outcome: 'deferred', reason: 'not_due', until: new Date(row.scheduled_for) };
    }
    return null;
  }

  /**
   * The ledger claim. The row lock makes concurrent jobs for one letter queue up behind each
   * other; the loser re-reads the row, finds it no longer claimable, and sends nothing.
   */
  private async claim(letterId: string): Promise<Claimed | Exclude<SendLetterResult, { outcome: 'sent' | 'deferred' }>> {
    return this.ds.transaction(async (m) => {
      const [row] = await m.query(
        `SELECT l.id, l.subscription_id, l.user_id, l.kind, l.scheduled_for, l.message_id, l.subject, l.body_text, l.body_html,
                l.quote_id, l.attempts, u.email, u.status AS user_status, s.enabled, s.paused_until, t.code AS topic_code, t.name AS topic_name
           FROM letter l
           JOIN app_user u ON u.id = l.user_id
           JOIN subscription s ON s.id = l.subscription_id
           JOIN topic t ON t.id = l.topic_id
          WHERE l.id = $1 AND (l.status = 'composed' OR (l.status = 'retrying' AND l.body_text IS NOT NULL))
          FOR UPDATE OF l`,
        [letterId],
      );
      if (!row) return { outcome: 'not_claimable' as const };

      const scheduledFor = new Date(row.scheduled_for);
      const cancel = row.user_status !== 'active' ? 'user_inactive'
        : !row.enabled ? 'subscription_disabled'
        // Same rule as the scheduler: a slot inside a pause gets no letter (send-now is an explicit ask).
        : row.kind === 'scheduled' && row.paused_until && new Date(row.paused_until) > scheduledFor ? 'subscription_paused'
        : null;
      if (cancel) {
        await m.query(`UPDATE letter SET status = 'cancelled', skip_reason = $2, lease_until = NULL, next_retry_at = NULL WHERE id = $1`, [letterId, cancel]);
        await logEvent(m, { type: 'LETTER_CANCELLED', letterId, userId: row.user_id, subscriptionId: row.subscription_id, metadata: { reason: cancel, stage: 'send' } });
        return { outcome: 'cancelled' as const, reason: cancel as CancelReason };
      }

      const [suppressed] = await m.query(`SELECT 1 FROM suppression WHERE lower(address) = lower($1)`, [row.email]);
      if (suppressed) {
        await m.query(`UPDATE letter SET status = 'skipped', skip_reason = 'suppressed', lease_until = NULL, next_retry_at = NULL WHERE id = $1`, [letterId]);
        await logEvent(m, { type: 'LETTER_SKIPPED', letterId, userId: row.user_id, subscriptionId: row.subscription_id, metadata: { reason: 'suppressed' } });
        this.metrics.skipped.inc({ reason: 'suppressed' });
        return { outcome: 'skipped' as const, reason: 'suppressed' as const };
      }

      const leaseUntil = new Date(this.clock.now().getTime() + this.config.LEASE_MS);
      const attempts = row.attempts + 1; // the row is locked: no one else can have changed it
      await m.query(
        `UPDATE letter SET status = 'sending', attempts = $3, lease_until = $2, next_retry_at = NULL WHERE id = $1`,
        [letterId, leaseUntil, attempts],
      );
      return {
        id: row.id, subscriptionId: row.subscription_id, userId: row.user_id, kind: row.kind, scheduledFor,
        messageId: row.message_id, subject: row.subject ?? '', bodyText: row.body_text, bodyHtml: row.body_html,
        quoteId: row.quote_id, attempts, email: row.email, topicCode: row.topic_code, topicName: row.topic_name,
      };
    });
  }

  /** Footer, closing quote and a fresh footer login token, then the MIME parts. */
  private async prepare(c: Claimed) {
    const { footer, quote, loginToken } = await this.ds.transaction(async (m) => {
      const [footerRow] = await m.query(`SELECT text_template, html_template FROM email_footer WHERE active LIMIT 1`);
      if (!footerRow) this.log.warn('no active email_footer; using the default footer');
      const footer = footerRow
        ? { textTemplate: footerRow.text_template as string, htmlTemplate: footerRow.html_template as string }
        : { textTemplate: DEFAULT_FOOTER.text, htmlTemplate: DEFAULT_FOOTER.html };
      const quote = await this.closingQuote(m, c);
      const loginToken = await issueLoginToken(m, c.userId, 'footer_login', FOOTER_LOGIN_TTL_MS, this.clock.now());
      return { footer, quote, loginToken };
    });
    const unsubscribeToken = signUnsubscribeToken(c.subscriptionId, this.config.SESSION_SECRET);
    return renderLetterMail({
      from: this.config.MAIL_FROM,
      to: c.email,
      replyDomain: this.config.REPLY_DOMAIN,
      letter: { id: c.id, messageId: c.messageId, subject: c.subject, bodyText: c.bodyText, bodyHtml: c.bodyHtml },
      topic: { code: c.topicCode, name: c.topicName },
      footer,
      quote,
      links: {
        login: links.login(this.config.APP_BASE_URL, loginToken.token),
        unsubscribe: links.unsubscribe(this.config.APP_BASE_URL, unsubscribeToken),
        unsubscribeMailto: links.unsubscribeMailto(this.config.REPLY_DOMAIN, unsubscribeToken),
      },
    });
  }

  /**
   * A quote this user has not had yet, else the one they had longest ago. Chosen once per letter
   * (`letter.quote_id`), so a retry closes with the same quote. A per-user advisory lock keeps two
   * letters for one user, sent at the same moment, from picking the same quote.
   */
  private async closingQuote(m: EntityManager, c: Claimed): Promise<{ text: string; author: string } | null> {
    if (c.quoteId) {
      const [q] = await m.query(`SELECT text, author FROM bottom_quote WHERE id = $1`, [c.quoteId]);
      if (q) return { text: q.text, author: q.author };
    }
    await m.query(`SELECT pg_advisory_xact_lock(hashtextextended('mz.quote:' || $1::text, 0))`, [c.userId]);
    const [q] = await m.query(
      `SELECT q.id, q.text, q.author
         FROM bottom_quote q
         LEFT JOIN quote_history h ON h.quote_id = q.id AND h.user_id = $1
        WHERE q.active
        ORDER BY h.used_at ASC NULLS FIRST, random()
        LIMIT 1`,
      [c.userId],
    );
    if (!q) return null;
    await m.query(
      `INSERT INTO quote_history (user_id, quote_id, used_at) VALUES ($1, $2, clock_timestamp())
       ON CONFLICT (user_id, quote_id) DO UPDATE SET used_at = EXCLUDED.used_at`,
      [c.userId, q.id],
    );
    await m.query(`UPDATE letter SET quote_id = $2 WHERE id = $1`, [c.id, q.id]);
    return { text: q.text, author: q.author };
  }

  /**
   * SMTP accepted: `sent` and LETTER_SENT in one transaction. Retried briefly, because failing here
   * leaves the row `sending` and the sweeper's re-drive would mail the letter a second time.
   */
  private async markSent(c: Claimed, response: string, sendMs: number): Promise<Date> {
    const sentAt = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ds.transaction(async (m) => {
          // 'retrying' too: if the lease ran out mid-send and the sweeper moved the row, it was still sent.
          await m.query(
            `UPDATE letter SET status = 'sent', sent_at = $2, smtp_response = $3, send_ms = $4, lease_until = NULL, next_retry_at = NULL
              WHERE id = $1 AND status IN ('sending', 'retrying')`,
            [c.id, sentAt, response.slice(0, 500), sendMs],
          );
          await logEvent(m, { type: 'LETTER_SENT', letterId: c.id, userId: c.userId, subscriptionId: c.subscriptionId, metadata: { attempts: c.attempts, sendMs } });
        });
        return sentAt;
      } catch (err) {
        if (attempt >= 3) {
          this.log.error({ err, letterId: c.id }, 'SMTP accepted but recording the send failed; the sweeper will re-drive it (ambiguous resend)');
          throw err;
        }
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  /** Mirrors the failure on the row (DESIGN §3), then tells BullMQ what to do. Never returns. */
  private async fail(c: Claimed, failure: Pick<SmtpFailure, 'failureClass' | 'hardBounce' | 'summary'>): Promise<never> {
    const cls: FailureClass = failure.failureClass;
    const decision = retryDecision(cls, c.attempts, { scale: this.config.RETRY_DELAY_SCALE });
    const delayMs = Math.max(MIN_REDELAY_MS, decision.delayMs);
    await this.ds.transaction(async (m) => {
      if (failure.hardBounce) {
        const [inserted] = await m.query(
          `INSERT INTO suppression (address, reason, detail) VALUES (lower($1), 'hard_bounce', $2)
           ON CONFLICT ((lower(address))) DO NOTHING RETURNING id`,
          [c.email, failure.summary],
        );
        if (inserted) await logEvent(m, { type: 'SUPPRESSED', userId: c.userId, letterId: c.id, metadata: { reason: 'hard_bounce' } });
      }
      if (decision.retry) {
        await m.query(
          `UPDATE letter SET status = 'retrying', error_type = $2, last_error = $3, next_retry_at = $4, lease_until = NULL
            WHERE id = $1 AND status = 'sending'`,
          [c.id, cls, failure.summary, new Date(this.clock.now().getTime() + delayMs)],
        );
      } else {
        await m.query(
          `UPDATE letter SET status = 'failed', error_type = $2, last_error = $3, next_retry_at = NULL, lease_until = NULL
            WHERE id = $1 AND status = 'sending'`,
          [c.id, cls, failure.summary],
        );
        await logEvent(m, { type: 'LETTER_FAILED', letterId: c.id, userId: c.userId, subscriptionId: c.subscriptionId, metadata: { stage: 'send', errorType: cls, attempts: c.attempts, error: failure.summary } });
      }
    });
    if (decision.retry) {
      this.metrics.retries.inc({ stage: 'send', error_type: cls });
      this.log.warn({ letterId: c.id, errorType: cls, attempts: c.attempts, delayMs, error: failure.summary }, 'letter send failed; will retry');
      throw new RetryLaterError(delayMs, failure.summary);
    }
    this.metrics.failed.inc({ stage: 'send', error_type: cls });
    this.log.warn({ letterId: c.id, errorType: cls, attempts: c.attempts, error: failure.summary, suppressed: failure.hardBounce }, 'letter failed');
    throw new UnrecoverableError(failure.summary);
  }

  private scaled(ms: number): number {
    return Math.max(MIN_REDELAY_MS, Math.round(ms * this.config.RETRY_DELAY_SCALE));
  }
}
