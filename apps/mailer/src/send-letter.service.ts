import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { AppConfig, FailureClass } from '@mz/contracts';
import { DEFAULT_FOOTER, logEvent, logEventSql, namedStatement, queryNamed } from '@mz/db';
import { FOOTER_LOGIN_TTL_MS, hashToken, links, mailAddressSecret, newToken, signedAddress, signUnsubscribeToken } from '@mz/domain';
import { APP_CONFIG, classifyError, Clock, LOGGER, maskText, ReadCache, RetryLaterError, retryDecision } from '@mz/platform';
import { classifySmtpError, type SmtpFailure } from './classify-smtp-error';
import { MailerMetrics } from './mailer.metrics';
import { renderLetterMail } from './render-mail';
import { SmtpTransport } from './smtp.transport';

/** While `sending_paused` is on, a send job looks again after this long (scaled in tests). */
export const PAUSE_RECHECK_MS = 30_000;
/** A job that arrives this much before `scheduled_for` waits for its slot instead of sending early. */
const EARLY_TOLERANCE_MS = 1_000;
const MIN_REDELAY_MS = 50;
/** How long the active footer is reused before it is read again. */
export const FOOTER_CACHE_MS = 5_000;
/** Choices of a closing quote when concurrent letters for one user keep taking the same one. */
const QUOTE_PICK_ATTEMPTS = 10;

export type SendLetterResult =
  | { outcome: 'sent'; attempts: number }
  /** No claimable row: already sent, being sent, cancelled, or not composed yet. No send. */
  | { outcome: 'not_claimable' }
  | { outcome: 'cancelled'; reason: CancelReason }
  | { outcome: 'skipped'; reason: 'suppressed' }
  /** Nothing done; run the job again at `until` (sending paused, or the slot is still ahead). */
  | { outcome: 'deferred'; reason: 'sending_paused' | 'not_due'; until: Date };

type CancelReason = 'user_inactive' | 'subscription_disabled' | 'subscription_paused';
/** Why the claim left a claimable letter alone (computed in CLAIM, in this order). */
type Refusal = 'sending_paused' | 'not_due' | CancelReason | 'suppressed';

interface Footer { textTemplate: string; htmlTemplate: string }

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
  attempts: number;
  email: string;
  topicCode: string;
  topicName: string;
}

/** What CLAIM returns: the claimable row (if any), why it was refused, or what was claimed. */
interface ClaimRow {
  id: string;
  subscription_id: string;
  user_id: string;
  kind: 'scheduled' | 'send_now';
  scheduled_for: Date;
  message_id: string;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  email: string;
  topic_code: string;
  topic_name: string;
  refusal: Refusal | null;
  /** Set when the claim went through (attempts after it). */
  claimed_attempts: number | null;
  quote_text: string | null;
  quote_author: string | null;
  /** A concurrent letter for this user recorded the same quote first: choose again. */
  quote_contended: boolean;
}

/** A letter the mailer may send: composed, or retrying after a send failure (it has a body). */
const claimable = (t: string) => `(${t}.status = 'composed' OR (${t}.status = 'retrying' AND ${t}.body_text IS NOT NULL))`;

/**
 * Records a quote choice in quote_history unless another letter for the user changed that row
 * since this statement's snapshot (optimistic: the upsert's WHERE sees the latest committed row).
 * Expects CTE `pick (id, used_at)`; `userId` is the SQL for the user's id.
 */
const recordQuoteUse = (userId: string, from: string) => `
  INSERT INTO quote_history (user_id, quote_id, used_at)
  SELECT ${userId}, pick.id, clock_timestamp() FROM ${from}
  ON CONFLICT (user_id, quote_id) DO UPDATE SET used_at = EXCLUDED.used_at
   WHERE quote_history.used_at IS NOT DISTINCT FROM (SELECT used_at FROM pick)
  RETURNING quote_id`;

/** The least recently used active quote for user `userId` (never used first), at random among equals. */
const pickQuote = (userId: string, from: string, where: string) => `
  SELECT q.id, q.text, q.author, h.used_at
    FROM ${from}
    LEFT JOIN quote_history h ON h.quote_id = q.id AND h.user_id = ${userId}
   WHERE ${where} q.active
   ORDER BY h.used_at ASC NULLS FIRST, random()
   LIMIT 1`;

/**
 * The ledger claim and everything the mail needs, in one statement (one round trip, one commit).
 * The row lock makes concurrent jobs for one letter queue up: the loser's re-check finds the row
 * no longer claimable and it sends nothing. A refused claim changes nothing and says why. On a
 * first attempt the closing quote is chosen (kept on the letter, so a retry closes with the same
 * one) and a footer login token is stored. $1 letter, $2 now + early tolerance, $3 lease end,
 * $4 token hash, $5 token expiry.
 */
const CLAIM = namedStatement('mz_mailer_claim', `
WITH cand AS MATERIALIZED (
  SELECT l.id, l.subscription_id, l.user_id, l.kind, l.scheduled_for, l.message_id, l.subject, l.body_text, l.body_html,
         l.quote_id, l.attempts, u.email, t.code AS topic_code, t.name AS topic_name,
         CASE
           WHEN (SELECT value FROM app_config WHERE key = 'sending_paused') = 'true'::jsonb THEN 'sending_paused'
           WHEN l.scheduled_for > $2 THEN 'not_due'
           WHEN u.status <> 'active' THEN 'user_inactive'
           WHEN NOT s.enabled THEN 'subscription_disabled'
           -- Same rule as the scheduler: a slot inside a pause gets no letter (send-now is an explicit ask).
           WHEN l.kind = 'scheduled' AND s.paused_until > l.scheduled_for THEN 'subscription_paused'
           WHEN EXISTS (SELECT 1 FROM suppression WHERE lower(address) = lower(u.email)) THEN 'suppressed'
         END AS refusal
    FROM letter l
    JOIN app_user u ON u.id = l.user_id
    JOIN subscription s ON s.id = l.subscription_id
    JOIN topic t ON t.id = l.topic_id
   WHERE l.id = $1 AND ${claimable('l')}
   FOR UPDATE OF l
),
ok AS MATERIALIZED (SELECT * FROM cand WHERE refusal IS NULL),
pick AS MATERIALIZED (${pickQuote('ok.user_id', 'ok CROSS JOIN bottom_quote q', 'ok.quote_id IS NULL AND')}),
claimed AS (
  UPDATE letter l
     SET status = 'sending', attempts = ok.attempts + 1, lease_until = $3, next_retry_at = NULL,
         quote_id = coalesce(ok.quote_id, (SELECT id FROM pick)), updated_at = now()
    FROM ok
   WHERE l.id = ok.id
  RETURNING l.attempts, l.quote_id
),
recorded AS (${recordQuoteUse('ok.user_id', 'ok CROSS JOIN pick')}),
token AS (
  INSERT INTO login_token (user_id, token_hash, purpose, expires_at)
  SELECT ok.user_id, $4, 'footer_login', $5 FROM ok
  RETURNING id
)
SELECT cand.id, cand.subscription_id, cand.user_id, cand.kind, cand.scheduled_for, cand.message_id, cand.subject,
       cand.body_text, cand.body_html, cand.email, cand.topic_code, cand.topic_name, cand.refusal,
       claimed.attempts AS claimed_attempts, q.text AS quote_text, q.author AS quote_author,
       EXISTS (SELECT 1 FROM pick) AND NOT EXISTS (SELECT 1 FROM recorded) AS quote_contended
  FROM cand
  LEFT JOIN claimed ON true
  LEFT JOIN bottom_quote q ON q.id = claimed.quote_id`);

/** A fresh choice after a contended one: recorded only if nobody took it meanwhile. $1 letter, $2 user. */
const REPICK_QUOTE = namedStatement('mz_mailer_repick_quote', `
WITH pick AS MATERIALIZED (${pickQuote('$2', 'bottom_quote q', '')}),
recorded AS (${recordQuoteUse('$2::uuid', 'pick')}),
linked AS (UPDATE letter SET quote_id = recorded.quote_id FROM recorded WHERE letter.id = $1 RETURNING 1)
SELECT pick.text, pick.author, EXISTS (SELECT 1 FROM recorded) AS recorded FROM pick`);

/** A refused claim settled for good (cancelled or skipped) with its event; nothing if the row moved on. */
const SETTLE = namedStatement('mz_mailer_settle', `
WITH settled AS (
  UPDATE letter SET status = $2, skip_reason = $3, lease_until = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND ${claimable('letter')}
  RETURNING id, user_id, subscription_id
)
${logEventSql('settled', '$4', '$5')}
RETURNING id`);

/**
 * SMTP accepted. 'retrying' too: if the lease ran out mid-send and the sweeper moved the row, it
 * was still sent. The event is written whatever the row's state: the mail went out.
 */
const MARK_SENT = namedStatement('mz_mailer_mark_sent', `
WITH sent AS (
  UPDATE letter SET status = 'sent', sent_at = $2, smtp_response = $3, send_ms = $4, lease_until = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND status IN ('sending', 'retrying')
)
INSERT INTO event_log (type, user_id, letter_id, subscription_id, metadata) VALUES ('LETTER_SENT', $5, $1, $6, $7::jsonb)`);

/**
 * Sends one letter, with the `letter` row as the idempotency ledger (docs/architecture.md §3.4):
 * only the transition composed|retrying(with body) → sending permits an SMTP send, and
 * `sent` + LETTER_SENT commit together once the server accepted. The SMTP call runs outside any
 * transaction; a crash between accept and commit leaves `sending` for the sweeper (the one
 * ambiguous window, with the same Message-ID).
 */
@Injectable()
export class SendLetterService {
  private readonly log: Logger;
  /** The active footer, reused for FOOTER_CACHE_MS: console edits reach letters within seconds. */
  readonly footerCache = new ReadCache(() => this.readFooter(), FOOTER_CACHE_MS);

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
    const footer = await this.footerCache.get();
    const now = this.clock.now();
    const loginToken = newToken();
    const [row] = await queryNamed<ClaimRow>(this.ds, CLAIM, [
      letterId,
      new Date(now.getTime() + EARLY_TOLERANCE_MS),
      new Date(now.getTime() + this.config.LEASE_MS),
      hashToken(loginToken),
      new Date(now.getTime() + FOOTER_LOGIN_TTL_MS),
    ]);
    // Nothing to send (done, being sent, cancelled, not composed): don't keep the job alive.
    if (!row) return { outcome: 'not_claimable' };
    if (row.refusal) return this.refuse(row, row.refusal, now);

    const claim: Claimed = {
      id: row.id, subscriptionId: row.subscription_id, userId: row.user_id, kind: row.kind, scheduledFor: new Date(row.scheduled_for),
      messageId: row.message_id, subject: row.subject ?? '', bodyText: row.body_text, bodyHtml: row.body_html,
      attempts: row.claimed_attempts!, email: row.email, topicCode: row.topic_code, topicName: row.topic_name,
    };

    let mail;
    try {
      let quote = row.quote_text !== null ? { text: row.quote_text, author: row.quote_author! } : null;
      if (row.quote_contended) quote = (await this.repickQuote(claim)) ?? quote;
      mail = this.render(claim, footer, quote, loginToken);
    } catch (err) {
      this.log.error({ err, letterId }, 'preparing the letter failed');
      return this.fail(claim, { failureClass: classifyError(err).failureClass, hardBounce: false, summary: `prepare: ${maskText(String((err as Error)?.message ?? err)).slice(0, 200)}` });
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

  /**
   * The claim refused: come back later (sending paused, slot still ahead), or settle the row for
   * good (cancelled, skipped) with its event — unless another job changed it meanwhile.
   */
  private async refuse(row: ClaimRow, refusal: Refusal, now: Date): Promise<SendLetterResult> {
    if (refusal === 'sending_paused') {
      return { outcome: 'deferred', reason: 'sending_paused', until: new Date(now.getTime() + this.scaled(PAUSE_RECHECK_MS)) };
    }
    if (refusal === 'not_due') return { outcome: 'deferred', reason: 'not_due', until: new Date(row.scheduled_for) };
    const settled = refusal === 'suppressed'
      ? { status: 'skipped', event: 'LETTER_SKIPPED', metadata: { reason: refusal } }
      : { status: 'cancelled', event: 'LETTER_CANCELLED', metadata: { reason: refusal, stage: 'send' } };
    const done = await queryNamed(this.ds, SETTLE, [row.id, settled.status, refusal, settled.event, JSON.stringify(settled.metadata)]);
    if (!done.length) return { outcome: 'not_claimable' };
    if (refusal === 'suppressed') {
      this.metrics.skipped.inc({ reason: 'suppressed' });
      return { outcome: 'skipped', reason: 'suppressed' };
    }
    return { outcome: 'cancelled', reason: refusal };
  }

  /**
   * Another letter for this user took the same quote in the same instant (the claim's check on
   * quote_history saw the row change): choose again until our choice is the one recorded.
   */
  private async repickQuote(c: Claimed): Promise<{ text: string; author: string } | null> {
    for (let attempt = 1; attempt <= QUOTE_PICK_ATTEMPTS; attempt++) {
      const [q] = await queryNamed<{ text: string; author: string; recorded: boolean }>(this.ds, REPICK_QUOTE, [c.id, c.userId]);
      if (!q) return null;
      if (q.recorded) return { text: q.text, author: q.author };
    }
    this.log.warn({ letterId: c.id }, 'closing quote still contended; keeping the first choice');
    return null;
  }

  private async readFooter(): Promise<Footer> {
    const [row] = await this.ds.query(`SELECT text_template, html_template FROM email_footer WHERE active LIMIT 1`);
    if (!row) this.log.warn('no active email_footer; using the default footer');
    return row
      ? { textTemplate: row.text_template as string, htmlTemplate: row.html_template as string }
      : { textTemplate: DEFAULT_FOOTER.text, htmlTemplate: DEFAULT_FOOTER.html };
  }

  private render(c: Claimed, footer: Footer, quote: { text: string; author: string } | null, loginToken: string) {
    const unsubscribeToken = signUnsubscribeToken(c.subscriptionId, this.config.SESSION_SECRET);
    const secret = mailAddressSecret(this.config);
    const domain = this.config.REPLY_DOMAIN;
    return renderLetterMail({
      provider: this.config.MAIL_PROVIDER,
      from: this.config.MAIL_FROM,
      to: c.email,
      addresses: { reply: signedAddress('reply', c.id, domain, secret), bounce: signedAddress('bounce_letter', c.id, domain, secret) },
      letter: { id: c.id, messageId: c.messageId, subject: c.subject, bodyText: c.bodyText, bodyHtml: c.bodyHtml },
      topic: { code: c.topicCode, name: c.topicName },
      footer,
      quote,
      links: {
        login: links.login(this.config.APP_BASE_URL, loginToken),
        unsubscribe: links.unsubscribe(this.config.APP_BASE_URL, unsubscribeToken),
        unsubscribeMailto: links.unsubscribeMailto(signedAddress('unsubscribe', c.subscriptionId, domain, secret)),
      },
    });
  }

  /**
   * SMTP accepted: `sent` and LETTER_SENT in one statement (so one transaction). Retried briefly,
   * because failing here leaves the row `sending` and the sweeper's re-drive would mail the letter
   * a second time.
   */
  private async markSent(c: Claimed, response: string, sendMs: number): Promise<Date> {
    const sentAt = this.clock.now();
    const metadata = JSON.stringify({ attempts: c.attempts, sendMs });
    for (let attempt = 1; ; attempt++) {
      try {
        await queryNamed(this.ds, MARK_SENT, [c.id, sentAt, response.slice(0, 500), sendMs, c.userId, c.subscriptionId, metadata]);
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

  /** Mirrors the failure on the row (docs/architecture.md §3), then tells BullMQ what to do. Never returns. */
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
