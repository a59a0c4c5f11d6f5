import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { logEvent } from '@mz/db';
import type { SessionUser } from '../auth/session.service';
import { likeEscape, type Page } from '../common/pagination';
import { updateReturning } from '../common/sql';
import { logAdminAction } from './admin-audit';
import type { SuppressionsParams } from './admin.schemas';

/**
 * The suppression list, visible and reversible (docs/architecture.md §8): why each address is
 * suppressed, the message or letter that did it (from its SUPPRESSED event), and lifting — an
 * admin action, audited, that lets mail reach the address again.
 */
@Injectable()
export class AdminSuppressionsService {
  constructor(private readonly ds: DataSource) {}

  async list(q: SuppressionsParams): Promise<Page<Record<string, unknown>>> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.q) {
      params.push(`%${likeEscape(q.q.toLowerCase())}%`);
      where.push(`s.address LIKE $${params.length}`);
    }
    if (q.reason) {
      params.push(q.reason);
      where.push(`s.reason = $${params.length}`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM suppression s ${w}`, params);
    const items = await this.ds.query(
      `SELECT s.id, s.address, s.reason, s.detail, s.created_at AS "createdAt", u.id AS "userId",
              src.letter_id AS "letterId", src.metadata->>'inbound_message_id' AS "inboundMessageId"
         FROM suppression s
         LEFT JOIN app_user u ON lower(u.email) = s.address
         -- The event written with this suppression (same transaction, so not before it): the first
         -- SUPPRESSED event since. An older one belongs to an earlier, lifted suppression.
         LEFT JOIN LATERAL (SELECT e.letter_id, e.metadata FROM event_log e
                             WHERE e.type = 'SUPPRESSED' AND e.user_id = u.id AND e.created_at >= s.created_at
                             ORDER BY e.id LIMIT 1) src ON true
         ${w} ORDER BY s.created_at DESC, s.id LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      params,
    );
    return { items, page: q.page, pageSize: q.pageSize, total };
  }

  /** Removes the address from the list; audited, and a SUPPRESSION_LIFTED event on the user's history. */
  async lift(admin: SessionUser, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const [row] = await updateReturning<{ reason: string; created_at: Date; user_id: string | null }>(
        m,
        `DELETE FROM suppression WHERE id = $1 RETURNING reason, created_at, (SELECT id FROM app_user WHERE lower(email) = suppression.address) AS user_id`,
        [id],
      );
      if (!row) throw new NotFoundException('Suppression not found');
      const details = { suppressionId: id, reason: row.reason, suppressedAt: row.created_at };
      await logAdminAction(m, admin, { action: 'suppression.lift', userId: row.user_id, details });
      if (row.user_id) await logEvent(m, { type: 'SUPPRESSION_LIFTED', actor: admin.id, userId: row.user_id, metadata: { reason: row.reason } });
    });
  }
}
