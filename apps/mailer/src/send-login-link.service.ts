import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { SuppressionRepository } from '@mz/db';
import { hashToken, links, mailAddressSecret, minutesLeft, newToken, signedAddress } from '@mz/domain';
import { APP_CONFIG, Clock, LOGGER, RetryLaterError, retryDecision } from '@mz/platform';
import { classifySmtpError } from './classify-smtp-error';
import { MailerMetrics } from './mailer.metrics';
import { renderLoginMail } from './render-mail';
import { SmtpTransport } from './smtp.transport';

export type SendLoginLinkResult =
  | { outcome: 'sent' }
  /** Already sent, used, expired, unknown, not sendable, or being sent by another worker right now. */
  | { outcome: 'noop'; reason: 'missing_or_busy' | 'already_sent' | 'used' | 'expired' | 'user_inactive' | 'suppressed' };

/**
 * Sends a login link, idempotent by token id. The token is minted here, at send time, so the raw
 * token only ever exists in this process and in the mail (never in Redis); the row keeps its hash.
 *
 * Unlike letters, the send happens while the token row is locked: login mails are few and small,
 * and the lock makes a duplicate job wait and then find `sent_at` set. A failed send rolls back the
 * minted hash with it.
 */
@Injectable()
export class SendLoginLinkService {
  private readonly log: Logger;

  constructor(
    private readonly ds: DataSource,
    private readonly suppressions: SuppressionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly smtp: SmtpTransport,
    private readonly metrics: MailerMetrics,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'send-login-link' });
  }

  /**
   * The landing-page choice waiting on this token, in words for the mail: the active topics' names
   * in the order chosen. The api validated it when it was stored; anything else is left out.
   */
  private async signupStarts(m: EntityManager, raw: unknown): Promise<{ topicNames: string[]; sendTime: string; timezone: string } | null> {
    const c = raw as { topics?: unknown; sendTime?: unknown; timezone?: unknown } | null;
    if (!c || !Array.isArray(c.topics) || typeof c.sendTime !== 'string' || typeof c.timezone !== 'string') return null;
    const codes = c.topics.filter((t): t is string => typeof t === 'string');
    const rows: { code: string; name: string }[] = await m.query(`SELECT code, name FROM topic WHERE active AND code = ANY($1::text[])`, [codes]);
    const names = new Map(rows.map((r) => [r.code, r.name]));
    const topicNames = codes.filter((code) => names.has(code)).map((code) => names.get(code)!);
    return topicNames.length ? { topicNames, sendTime: c.sendTime, timezone: c.timezone } : null;
  }

  /** `attempt` is the 1-based attempt of the job. Throws RetryLaterError or UnrecoverableError. */
  async send(loginTokenId: string, attempt: number): Promise<SendLoginLinkResult> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const result = await this.sendLocked(qr.manager, loginTokenId, attempt);
      await qr.commitTransaction();
      if (result.outcome === 'noop') this.log.info({ loginTokenId, reason: result.reason }, 'login link not sent');
      return result;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }

  private async sendLocked(m: EntityManager, loginTokenId: string, attempt: number): Promise<SendLoginLinkResult> {
    // SKIP LOCKED: a concurrent job for the same token is already sending it; this one has nothing to do.
    const [row] = await m.query(
      `SELECT t.id, t.purpose, t.expires_at, t.used_at, t.sent_at, t.signup_choice, u.email, u.status AS user_status
         FROM login_token t JOIN app_user u ON u.id = t.user_id
        WHERE t.id = $1 AND t.purpose = 'login'
          FOR UPDATE OF t SKIP LOCKED`,
      [loginTokenId],
    );
    const now = this.clock.now();
    if (!row) return { outcome: 'noop', reason: 'missing_or_busy' };
    if (row.sent_at) return { outcome: 'noop', reason: 'already_sent' };
    if (row.used_at) return { outcome: 'noop', reason: 'used' };
    const expiresAt = new Date(row.expires_at);
    if (expiresAt <= now) return { outcome: 'noop', reason: 'expired' };
    if (row.user_status !== 'active') return { outcome: 'noop', reason: 'user_inactive' };
    if (await this.suppressions.isSuppressed(row.email, m)) return { outcome: 'noop', reason: 'suppressed' };

    const token = newToken();
    await m.query(`UPDATE login_token SET token_hash = $2 WHERE id = $1 AND sent_at IS NULL`, [loginTokenId, hashToken(token)]);
    const mail = renderLoginMail({
      provider: this.config.MAIL_PROVIDER,
      loginTokenId,
      from: this.config.MAIL_FROM,
      to: row.email,
      bounceAddress: signedAddress('bounce_transactional', loginTokenId, this.config.REPLY_DOMAIN, mailAddressSecret(this.config)),
      messageId: `<login.${loginTokenId}@${this.config.REPLY_DOMAIN}>`,
      link: links.login(this.config.APP_BASE_URL, token),
      // Honest about a link minted late (after retries): the expiry was fixed when it was requested.
      expiresInMinutes: minutesLeft(expiresAt, now),
      starts: await this.signupStarts(m, row.signup_choice),
    });

    const started = performance.now();
    try {
      await this.smtp.send(mail);
    } catch (err) {
      const failure = classifySmtpError(err);
      this.metrics.smtpDuration.observe({ outcome: failure.failureClass }, (performance.now() - started) / 1000);
      const decision = retryDecision(failure.failureClass, attempt, { scale: this.config.RETRY_DELAY_SCALE });
      this.log.warn({ loginTokenId, errorType: failure.failureClass, attempt, retry: decision.retry, error: failure.summary }, 'login link send failed');
      // Thrown errors roll the transaction back: the minted hash goes with it.
      this.metrics.loginLinks.inc({ outcome: decision.retry ? 'retry' : 'failed' });
      if (decision.retry) throw new RetryLaterError(Math.max(50, decision.delayMs), failure.summary);
      throw new UnrecoverableError(failure.summary);
    }
    this.metrics.smtpDuration.observe({ outcome: 'accepted' }, (performance.now() - started) / 1000);
    await m.query(`UPDATE login_token SET sent_at = $2 WHERE id = $1`, [loginTokenId, this.clock.now()]);
    this.metrics.loginLinks.inc({ outcome: 'sent' });
    this.log.info({ loginTokenId }, 'login link sent');
    return { outcome: 'sent' };
  }
}
