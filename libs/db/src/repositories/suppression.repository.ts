import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SuppressionReason } from '@mz/contracts';
import { logEvent } from '../events';
import { queryRows, type Queryable } from './rows';

export interface SuppressInput {
  address: string;
  reason: SuppressionReason;
  detail: string | null;
  /** Written as a SUPPRESSED event, in the same transaction, when the address is new on the list. */
  event?: { userId: string | null; letterId: string | null; actor?: string; metadata?: Record<string, unknown> };
}

export interface SuppressionFilter {
  /** Part of the address (lower case, LIKE-escaped by the caller). */
  addressLike?: string;
  reason?: string;
  page: number;
  pageSize: number;
}

export interface SuppressionRow {
  id: string;
  address: string;
  reason: string;
  detail: string | null;
  createdAt: Date;
  userId: string | null;
  letterId: string | null;
  inboundMessageId: string | null;
}

/**
 * The suppression list: addresses no mail may be sent to (docs/architecture.md §8). Addresses
 * compare case-insensitively (the unique index is on lower(address)). Every writer — the mailer
 * after a hard SMTP bounce, the reply worker after a verified DSN or complaint, a provider's
 * event webhook, the console's lift, account erasure — goes through here.
 */
@Injectable()
export class SuppressionRepository {
  constructor(private readonly ds: DataSource) {}

  /**
   * Adds an address (and its SUPPRESSED event) inside the caller's transaction; false when it was
   * already there, for any reason — the first reason stays.
   */
  async add(m: Queryable, s: SuppressInput): Promise<boolean> {
    const rows = await queryRows(
      m,
      `INSERT INTO suppression (address, reason, detail) VALUES (lower($1), $2, $3) ON CONFLICT ((lower(address))) DO NOTHING RETURNING id`,
      [s.address, s.reason, s.detail],
    );
    if (!rows.length) return false;
    if (s.event) {
      await logEvent(m, {
        type: 'SUPPRESSED', actor: s.event.actor, userId: s.event.userId, letterId: s.event.letterId, metadata: { reason: s.reason, ...s.event.metadata },
      });
    }
    return true;
  }

  async isSuppressed(address: string, q: Queryable = this.ds): Promise<boolean> {
    const rows = await queryRows(q, `SELECT 1 FROM suppression WHERE lower(address) = lower($1) LIMIT 1`, [address]);
    return rows.length > 0;
  }

  /** The console's list, newest first, with the letter or message that caused each entry. */
  async list(f: SuppressionFilter): Promise<{ items: SuppressionRow[]; total: number }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (f.addressLike) {
      params.push(`%${f.addressLike}%`);
      where.push(`s.address LIKE $${params.length}`);
    }
    if (f.reason) {
      params.push(f.reason);
      where.push(`s.reason = $${params.length}`);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await queryRows<{ total: number }>(this.ds, `SELECT count(*)::int AS total FROM suppression s ${w}`, params);
    const items = await queryRows<SuppressionRow>(
      this.ds,
      `SELECT s.id, s.address, s.reason, s.detail, s.created_at AS "createdAt", u.id AS "userId",
              src.letter_id AS "letterId", src.metadata->>'inbound_message_id' AS "inboundMessageId"
         FROM suppression s
         LEFT JOIN app_user u ON lower(u.email) = s.address
         -- The event written with this suppression (same transaction, so not before it): the first
         -- SUPPRESSED event since. An older one belongs to an earlier, lifted suppression.
         LEFT JOIN LATERAL (SELECT e.letter_id, e.metadata FROM event_log e
                             WHERE e.type = 'SUPPRESSED' AND e.user_id = u.id AND e.created_at >= s.created_at
                             ORDER BY e.id LIMIT 1) src ON true
         ${w} ORDER BY s.created_at DESC, s.id LIMIT ${Math.trunc(f.pageSize)} OFFSET ${Math.trunc((f.page - 1) * f.pageSize)}`,
      params,
    );
    return { items, total };
  }

  /** Removes one entry (the console's lift) inside the caller's transaction; null when there is none. */
  async lift(m: Queryable, id: string): Promise<{ reason: string; createdAt: Date; userId: string | null } | null> {
    const [row] = await queryRows<{ reason: string; created_at: Date; user_id: string | null }>(
      m,
      `DELETE FROM suppression WHERE id = $1 RETURNING reason, created_at, (SELECT id FROM app_user WHERE lower(email) = suppression.address) AS user_id`,
      [id],
    );
    return row ? { reason: row.reason, createdAt: row.created_at, userId: row.user_id } : null;
  }

  /** Account erasure: the address leaves the list with the rest of the person's data. */
  async removeAddress(m: Queryable, address: string): Promise<void> {
    await m.query(`DELETE FROM suppression WHERE lower(address) = lower($1)`, [address]);
  }
}
