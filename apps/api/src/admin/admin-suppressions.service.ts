import { Injectable, NotFoundException } from '@nestjs/common';
import { SuppressionRepository, type SuppressionRow } from '@mz/db';
import { AdminCommandError, AdminCommands } from '@mz/domain';
import type { SessionUser } from '../auth/session.service';
import { likeEscape, type Page } from '../common/pagination';
import type { SuppressionsParams } from '@mz/api-schemas';

/**
 * The suppression list, visible and reversible (docs/architecture.md §8): why each address is
 * suppressed, the message or letter that did it (from its SUPPRESSED event), and lifting — an
 * admin action, audited, that lets mail reach the address again.
 */
@Injectable()
export class AdminSuppressionsService {
  constructor(private readonly suppressions: SuppressionRepository, private readonly commands: AdminCommands) {}

  async list(q: SuppressionsParams): Promise<Page<SuppressionRow>> {
    const { items, total } = await this.suppressions.list({
      addressLike: q.q ? likeEscape(q.q.toLowerCase()) : undefined, reason: q.reason, page: q.page, pageSize: q.pageSize,
    });
    return { items, page: q.page, pageSize: q.pageSize, total };
  }

  /** Removes the address from the list; audited, and a SUPPRESSION_LIFTED event on the user's history. */
  async lift(admin: SessionUser, id: string): Promise<void> {
    try {
      await this.commands.liftSuppression(admin, id);
    } catch (err) {
      if (err instanceof AdminCommandError && err.kind === 'not_found') throw new NotFoundException(err.message);
      throw err;
    }
  }
}
