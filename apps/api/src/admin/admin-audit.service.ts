import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Page } from '../common/pagination';
import type { AuditParams } from '@mz/api-schemas';

/** The audit log: every ADMIN_ACTION event with who did it. */
@Injectable()
export class AdminAuditService {
  constructor(private readonly ds: DataSource) {}

  async list(q: AuditParams): Promise<Page<Record<string, unknown>>> {
    const params: unknown[] = [];
    const where = [`e.type = 'ADMIN_ACTION'`];
    if (q.action) {
      params.push(q.action);
      where.push(`e.metadata->>'action' = $${params.length}`);
    }
    if (q.actor) {
      params.push(q.actor);
      where.push(`e.actor = $${params.length}`);
    }
    const w = `WHERE ${where.join(' AND ')}`;
    const [{ total }] = await this.ds.query(`SELECT count(*)::int AS total FROM event_log e ${w}`, params);
    const items = await this.ds.query(
      `SELECT e.id, e.created_at AS at, e.actor AS "actorId", a.email AS "actorEmail", e.metadata->>'action' AS action,
              e.user_id AS "userId", e.letter_id AS "letterId", e.subscription_id AS "subscriptionId", e.metadata
         FROM event_log e LEFT JOIN app_user a ON a.id::text = e.actor
         ${w} ORDER BY e.created_at DESC, e.id DESC LIMIT ${q.pageSize} OFFSET ${(q.page - 1) * q.pageSize}`,
      params,
    );
    return { items, page: q.page, pageSize: q.pageSize, total };
  }
}
