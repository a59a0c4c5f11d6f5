import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { likeEscape, type Page } from '../common/pagination';
import { sanitizeLetterHtml } from '../common/sanitize';
import type { SessionUser } from '../auth/session.service';
import { SubscriptionsService } from '../subscriber/subscriptions.service';
import { logAdminAction } from '@mz/domain';
import type { UsersParams } from '@mz/api-schemas';

export type ThreadItem =
  | { type: 'letter'; at: Date; letter: Record<string, unknown> }
  | { type: 'reply'; at: Date; reply: Record<string, unknown> };

/** Users in the console: search, suspend/unsuspend, and a person's conversation as one thread. */
@Injectable()
export class AdminUsersService {
  constructor(private readonly ds: DataSource, private readonly subscriptions: SubscriptionsService) {}

  async search(q: UsersParams): Promise<Page<Record<string, unknown>>> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.q) {
      params.push(`%${likeEscape(q.q.toLowerCase())}%`);
      where.push(`(u.email LIKE $${params.length} OR lower(u.name) LIKE $${params.length})`);
    }
    if (q.status) {
      params.push(q.status);
      where.push(`u.status = $${params.length}`);
    }
    if (q.role) {
      params.push(q.role);
      where.push(`u.role = $${params.length}`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM app_user u ${w}`, params);
    const items = await this.ds.query(
      `SELECT u.id, u.email, u.name, u.role, u.status, u.created_at AS "createdAt", u.last_login_at AS "lastLoginAt",
              (SELECT count(*)::int FROM subscription s WHERE s.user_id = u.id AND s.enabled) AS "activeSubscriptions",
              (SELECT count(*)::int FROM letter l WHERE l.user_id = u.id AND l.status = 'sent') AS "lettersSent"
         FROM app_user u ${w}
        ORDER BY u.created_at DESC
        LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      params,
    );
    return { items, page: q.page, pageSize: q.pageSize, total };
  }

  async detail(id: string) {
    const [user] = await this.ds.query(
      `SELECT id, email, name, role, status, created_at AS "createdAt", last_login_at AS "lastLoginAt" FROM app_user WHERE id = $1`,
      [id],
    );
    if (!user) throw new NotFoundException('User not found');
    const [counts] = await this.ds.query(
      `SELECT (SELECT count(*)::int FROM letter WHERE user_id = $1) AS letters,
              (SELECT count(*)::int FROM letter WHERE user_id = $1 AND status = 'failed') AS "failedLetters",
              (SELECT count(*)::int FROM inbound_message WHERE matched_user_id = $1) AS replies,
              (SELECT count(*)::int FROM app_session WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()) AS "activeSessions"`,
      [id],
    );
    const subscriptions = (await this.subscriptions.list(id)).filter((s) => s.subscribed);
    return { user, counts, subscriptions };
  }

  /** Suspends an account: its sessions end now; the pipeline sends it nothing while suspended. */
  async setSuspended(admin: SessionUser, id: string, suspended: boolean) {
    if (id === admin.id) throw new ConflictException('You cannot suspend your own account');
    await this.ds.transaction(async (m) => {
      const [u] = await m.query(`SELECT status FROM app_user WHERE id = $1 FOR UPDATE`, [id]);
      if (!u || u.status === 'deleted') throw new NotFoundException('User not found');
      const target = suspended ? 'suspended' : 'active';
      if (u.status === target) return;
      await m.query(`UPDATE app_user SET status = $2 WHERE id = $1`, [id, target]);
      if (suspended) await m.query(`UPDATE app_session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [id]);
      await logAdminAction(m, admin, { action: suspended ? 'user.suspend' : 'user.unsuspend', userId: id, details: { from: u.status, to: target } });
    });
    return this.detail(id);
  }

  /** Letters and the replies to them, interleaved by time (letters at sent or scheduled time). */
  async thread(id: string): Promise<{ user: { id: string; email: string; status: string }; items: ThreadItem[] }> {
    const [user] = await this.ds.query(`SELECT id, email, status FROM app_user WHERE id = $1`, [id]);
    if (!user) throw new NotFoundException('User not found');
    const letters: Record<string, unknown>[] = await this.ds.query(
      `SELECT l.id, t.code AS topic, t.name AS "topicName", l.kind, l.status, l.scheduled_for AS "scheduledFor", l.sent_at AS "sentAt",
              l.subject, l.body_text AS "bodyText", l.body_html AS "bodyHtml", l.prompt_version AS "promptVersion", l.model,
              l.error_type AS "errorType", l.last_error AS "lastError", COALESCE(l.sent_at, l.scheduled_for) AS at
         FROM letter l JOIN topic t ON t.id = l.topic_id WHERE l.user_id = $1 AND l.status <> 'cancelled'`,
      [id],
    );
    const replies: Record<string, unknown>[] = await this.ds.query(
      `SELECT id, matched_letter_id AS "letterId", source, kind, intent, confidence::float8 AS confidence, needs_review AS "needsReview",
              subject, reply_text AS text, (analysis->'extraction'->>'forwardedAt')::int AS "forwardedAt", note, error, received_at AS at
         FROM inbound_message WHERE matched_user_id = $1`,
      [id],
    );
    const items: ThreadItem[] = [
      ...letters.map((l) => ({ type: 'letter' as const, at: l.at as Date, letter: { ...l, at: undefined, bodyHtml: sanitizeLetterHtml(l.bodyHtml as string | null) } })),
      ...replies.map((r) => ({ type: 'reply' as const, at: r.at as Date, reply: { ...r, at: undefined } })),
    ].sort((a, b) => a.at.getTime() - b.at.getTime());
    return { user, items };
  }
}
