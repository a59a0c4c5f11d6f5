import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SignupChoiceInput } from '@mz/api-schemas';
import { type AppConfig, JobName, type UserStatus } from '@mz/contracts';
import { hashToken, LOGIN_LINK_TTL_MS } from '@mz/domain';
import { APP_CONFIG, MetricsService, QueueService } from '@mz/platform';
import type { Counter } from 'prom-client';
import { RateLimits } from '../common/rate-limits.service';

export type LoginLinkOutcome = 'queued' | 'address_limited' | 'inactive';

/**
 * The inbox an address delivers to, for counting: case and surrounding space ignored, and a
 * `+tag` counted with its base address (a+1@x, a+2@x and a@x land in one inbox at most providers).
 */
export function inboxKey(email: string): string {
  const e = email.trim().toLowerCase();
  const at = e.lastIndexOf('@');
  if (at <= 0) return e;
  const local = e.slice(0, at).replace(/\+.*$/, '');
  return `${local || e.slice(0, at)}${e.slice(at)}`;
}
export class IpRateLimitedError extends Error {
  constructor(readonly retryAfterSec: number) {
    super('too many login-link requests from this address');
  }
}

/**
 * `POST /api/auth/login-link`: sign-in and sign-up are one step. The answer never says whether the
 * address existed, was limited or is suspended (no enumeration); only the per-IP limit is
 * visible (429), since it says nothing about any address.
 *
 * The row is written with no token: the mailer mints the token when it sends (docs/architecture.md §5), so
 * the raw token never sits in Redis or in a job payload.
 */
@Injectable()
export class LoginLinkService {
  private readonly logger = new Logger('LoginLink');

  constructor(
    private readonly ds: DataSource,
    private readonly queues: QueueService,
    private readonly limits: RateLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.requested = metrics.counter('mz_login_links_requested_total', 'Sign-in link requests by outcome (queued | address_limited | ip_limited | inactive)', ['outcome']);
  }

  private readonly requested: Counter<'outcome'>;

  /**
   * Throws IpRateLimitedError over the per-IP limit, BadRequestException for a sign-up choice
   * naming a topic that is not active (before anything is counted or stored); otherwise resolves
   * whatever happened. A `signup` choice is stored on this request's token only.
   */
  async request(email: string, ip: string, signup?: SignupChoiceInput): Promise<LoginLinkOutcome> {
    if (signup) await this.checkTopics(signup.topics);
    try {
      const outcome = await this.requestLink(email, ip, signup ?? null);
      this.requested.inc({ outcome });
      return outcome;
    } catch (err) {
      if (err instanceof IpRateLimitedError) this.requested.inc({ outcome: 'ip_limited' });
      throw err;
    }
  }

  private async checkTopics(codes: string[]): Promise<void> {
    const rows: { code: string }[] = await this.ds.query(`SELECT code FROM topic WHERE active AND code = ANY($1::text[])`, [codes]);
    const known = new Set(rows.map((r) => r.code));
    const unknown = codes.filter((c) => !known.has(c));
    if (unknown.length) throw new BadRequestException(`Unknown topic: ${unknown.map((c) => `"${c}"`).join(', ')}`);
  }

  private async requestLink(email: string, ip: string, signup: SignupChoiceInput | null): Promise<LoginLinkOutcome> {
    const byIp = await this.limits.consume('loginLinkPerIp', ip || 'unknown');
    if (!byIp.allowed) throw new IpRateLimitedError(byIp.retryAfterSec);
    // Keyed on the inbox (hashed: no addresses in Redis), whoever asks and however it is spelled.
    const byAddress = await this.limits.consume('loginLinkPerAddress', hashToken(inboxKey(email)));
    if (!byAddress.allowed) {
      this.logger.warn('login link: per-address limit reached; no mail');
      return 'address_limited';
    }
    const role = this.config.DEFAULT_ADMIN_EMAILS.includes(email) ? 'admin' : 'subscriber';
    const tokenId = await this.ds.transaction(async (m) => {
      const [user]: { id: string; status: UserStatus }[] = await m.query(
        `INSERT INTO app_user (email, role) VALUES ($1, $2)
         ON CONFLICT ((lower(email))) DO UPDATE SET email = app_user.email
         RETURNING id, status`,
        [email, role],
      );
      if (user.status !== 'active') return null;
      const [row]: { id: string }[] = await m.query(
        `INSERT INTO login_token (user_id, token_hash, purpose, expires_at, signup_choice) VALUES ($1, NULL, 'login', $2, $3) RETURNING id`,
        [user.id, new Date(Date.now() + LOGIN_LINK_TTL_MS), signup ? JSON.stringify(signup) : null],
      );
      return row.id;
    });
    if (!tokenId) return 'inactive';
    // Job id = row id: a retried request for the same row never queues a second mail.
    await this.queues.enqueue(JobName.SendLoginLink, { v: 1, loginTokenId: tokenId }, { jobId: tokenId });
    return 'queued';
  }
}
