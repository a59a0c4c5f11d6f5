import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { type AppConfig, type FailureClass, footerForLanguage } from '@mz/contracts';
import { type ActiveFooter, FooterRepository, LetterRepository, type SendClaimRow, type SendRefusal } from '@mz/db';
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

type CancelReason = Exclude<SendRefusal, 'sending_paused' | 'not_due' | 'suppressed'>;

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
  /** The language the letter is written in: its footer's (TRANSLATED_FOOTERS, else the admin's English one). */
  language: string;
}

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
  /** Derived once: the letters' signed addresses all use it. */
  private readonly addressSecret: string;

  constructor(
    private readonly letters: LetterRepository,
    private readonly footers: FooterRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MailerMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'send-letter' });
    this.addressSecret = mailAddressSecret(config);
  }

  /** Throws RetryLaterError (retry after its delay) or UnrecoverableError (failed for good). */
  async send(letterId: string): Promise<SendLetterResult> {
    const footer = await this.footerCache.get();
    const now = this.clock.now();
    const loginToken = newToken();
    const row = await this.letters.claimForSend({
      letterId,
      dueBy: new Date(now.getTime() + EARLY_TOLERANCE_MS),
      leaseUntil: new Date(now.getTime() + this.config.LEASE_MS),
      loginTokenHash: hashToken(loginToken),
      loginTokenExpiresAt: new Date(now.getTime() + FOOTER_LOGIN_TTL_MS),
    });
    // Nothing to send (done, being sent, cancelled, not composed): don't keep the job alive.
    if (!row) return { outcome: 'not_claimable' };
    if (row.refusal) return this.refuse(row, row.refusal, now);

    const claim: Claimed = {
      id: row.id, subscriptionId: row.subscription_id, userId: row.user_id, kind: row.kind, scheduledFor: new Date(row.scheduled_for),
      messageId: row.message_id, subject: row.subject ?? '', bodyText: row.body_text, bodyHtml: row.body_html,
      attempts: row.claimed_attempts!, email: row.email, topicCode: row.topic_code, topicName: row.topic_name,
      language: row.language,
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
  private async refuse(row: SendClaimRow, refusal: SendRefusal, now: Date): Promise<SendLetterResult> {
    if (refusal === 'sending_paused') {
      return { outcome: 'deferred', reason: 'sending_paused', until: new Date(now.getTime() + this.scaled(PAUSE_RECHECK_MS)) };
    }
    if (refusal === 'not_due') return { outcome: 'deferred', reason: 'not_due', until: new Date(row.scheduled_for) };
    const done = await this.letters.settleRefused(row.id, refusal === 'suppressed'
      ? { status: 'skipped', reason: refusal, event: 'LETTER_SKIPPED', metadata: { reason: refusal } }
      : { status: 'cancelled', reason: refusal, event: 'LETTER_CANCELLED', metadata: { reason: refusal, stage: 'send' } });
    if (!done) return { outcome: 'not_claimable' };
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
      const q = await this.letters.repickQuote(c.id, c.userId);
      if (!q) return null;
      if (q.recorded) return { text: q.text, author: q.author };
    }
    this.log.warn({ letterId: c.id }, 'closing quote still contended; keeping the first choice');
    return null;
  }

  private async readFooter(): Promise<ActiveFooter> {
    const footer = await this.footers.active();
    if (footer.isDefault) this.log.warn('no active email_footer; using the default footer');
    return footer;
  }

  private render(c: Claimed, footer: ActiveFooter, quote: { text: string; author: string } | null, loginToken: string) {
    const unsubscribeToken = signUnsubscribeToken(c.subscriptionId, this.config.SESSION_SECRET);
    const secret = this.addressSecret;
    const domain = this.config.REPLY_DOMAIN;
    return renderLetterMail({
      provider: this.config.MAIL_PROVIDER,
      from: this.config.MAIL_FROM,
      to: c.email,
      addresses: { reply: signedAddress('reply', c.id, domain, secret), bounce: signedAddress('bounce_letter', c.id, domain, secret) },
      letter: { id: c.id, messageId: c.messageId, subject: c.subject, bodyText: c.bodyText, bodyHtml: c.bodyHtml },
      topic: { code: c.topicCode, name: c.topicName },
      footer: footerForLanguage(c.language, footer),
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
    const metadata = { attempts: c.attempts, sendMs };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.letters.markSent({ letterId: c.id, userId: c.userId, subscriptionId: c.subscriptionId }, sentAt, response, sendMs, metadata);
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
    await this.letters.markSendFailure({
      letterId: c.id, userId: c.userId, subscriptionId: c.subscriptionId, failureClass: cls, summary: failure.summary, attempts: c.attempts,
      retryAt: decision.retry ? new Date(this.clock.now().getTime() + delayMs) : null,
      suppressAddress: failure.hardBounce ? c.email : null,
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
