import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { logEvent, SuppressionRepository, type SuppressionRow } from '@mz/db';
import type { SessionUser } from '../auth/session.service';
import { likeEscape, type Page } from '../common/pagination';
import { logAdminAction } from './admin-audit';
import type { SuppressionsParams } from '@mz/api-schemas';

/**
 * The suppression list, visible and reversible (docs/architecture.md §8): why each address is
 * suppressed, the message or letter that did it (from its SUPPRESSED event), and lifting — an
 * admin action, audited, that lets mail reach the address again.
 */
@Injectable()
export class AdminSuppressionsService {
  constructor(private readonly ds: DataSource, private readonly suppressions: SuppressionRepository) {}

  async list(q: SuppressionsParams): Promise<Page<SuppressionRow>> {
    const { items, total } = await this.suppressions.list({
      addressLike: q.q ? likeEscape(q.q.toLowerCase()) : undefined, reason: q.reason, page: q.page, pageSize: q.pageSize,
    });
    return { items, page: q.page, pageSize: q.pageSize, total };
  }

  /** Removes the address from the list; audited, and a SUPPRESSION_LIFTED event on the user's history. */
  async lift(admin: SessionUser, id: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const row = await this.suppressions.lift(m, id);
      if (!row) throw new NotFoundException('Suppression not found');
      const details = { suppressionId: id, reason: row.reason, suppressedAt: row.createdAt };
      await logAdminAction(m, admin, { action: 'suppression.lift', userId: row.userId, details });
      if (row.userId) await logEvent(m, { type: 'SUPPRESSION_LIFTED', actor: admin.id, userId: row.userId, metadata: { reason: row.reason } });
    });
  }
}
