import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { logEvent, SuppressionRepository } from '@mz/db';
import { type AdminActor, logAdminAction } from './admin-audit';

/**
 * Refusals of the admin commands. `kind` tells an HTTP caller how to answer (not_found → 404,
 * conflict → 409) and the operator CLI to exit 1, without the domain knowing about either.
 */
export class AdminCommandError extends Error {
  constructor(readonly kind: 'not_found' | 'conflict', message: string) {
    super(message);
    this.name = 'AdminCommandError';
  }
}

export interface LiftedSuppression { id: string; reason: string; suppressedAt: Date; userId: string | null }
export interface AdminRoleResult { userId: string; created: boolean; changed: boolean }

/**
 * Admin actions shared by the console (api) and the operator CLI (apps/ops), so both change the
 * same rows the same way and leave the same ADMIN_ACTION in the audit log (docs/architecture.md §14).
 */
@Injectable()
export class AdminCommands {
  constructor(private readonly ds: DataSource, private readonly suppressions: SuppressionRepository) {}

  /** The user with this address (lower-cased by the caller), or null: the CLI names people by address. */
  async userIdByEmail(email: string): Promise<string | null> {
    const [u] = await this.ds.query(`SELECT id FROM app_user WHERE lower(email) = $1`, [email]);
    return (u?.id as string | undefined) ?? null;
  }

  /** Removes the address from the list (docs/architecture.md §8); audited, and SUPPRESSION_LIFTED on the user's history. */
  async liftSuppression(actor: AdminActor, id: string): Promise<LiftedSuppression> {
    return this.ds.transaction(async (m) => {
      const row = await this.suppressions.lift(m, id);
      if (!row) throw new AdminCommandError('not_found', 'Suppression not found');
      const details = { suppressionId: id, reason: row.reason, suppressedAt: row.createdAt };
      await logAdminAction(m, actor, { action: 'suppression.lift', userId: row.userId, details });
      if (row.userId) await logEvent(m, { type: 'SUPPRESSION_LIFTED', actor: actor.id, userId: row.userId, metadata: { reason: row.reason } });
      return { id, reason: row.reason, suppressedAt: row.createdAt, userId: row.userId };
    });
  }

  /**
   * Makes the address an admin: a new active user, or an existing one promoted (a suspended or
   * erased account is refused — lifting a suspension is its own console action). `email` must
   * already be validated and lower-cased by the caller (the stored form, see AppUser).
   */
  async grantAdmin(actor: AdminActor, email: string, name: string | null = null): Promise<AdminRoleResult> {
    return this.ds.transaction(async (m) => {
      const [u] = await m.query(`SELECT id, role, status FROM app_user WHERE lower(email) = $1 FOR UPDATE`, [email]);
      if (!u) {
        const [created] = await m.query(`INSERT INTO app_user (email, name, role, status) VALUES ($1, $2, 'admin', 'active') RETURNING id`, [email, name]);
        await logAdminAction(m, actor, { action: 'user.create_admin', userId: created.id });
        return { userId: created.id as string, created: true, changed: true };
      }
      if (u.status !== 'active') throw new AdminCommandError('conflict', `user is ${u.status}; only an active user can be made an admin`);
      if (u.role === 'admin') return { userId: u.id as string, created: false, changed: false };
      await m.query(`UPDATE app_user SET role = 'admin' WHERE id = $1`, [u.id]);
      await logAdminAction(m, actor, { action: 'user.promote', userId: u.id, details: { from: u.role, to: 'admin' } });
      return { userId: u.id as string, created: false, changed: true };
    });
  }

  /**
   * Admin → subscriber. Refused for the last active admin: nobody could sign in to the console
   * to undo it. The admins are locked in one order, so two concurrent demotions of the last two
   * cannot both pass the count.
   */
  async demoteAdmin(actor: AdminActor, email: string): Promise<AdminRoleResult> {
    return this.ds.transaction(async (m) => {
      const admins: { id: string; email: string; status: string }[] = await m.query(
        `SELECT id, lower(email) AS email, status FROM app_user WHERE role = 'admin' ORDER BY id FOR UPDATE`,
      );
      const target = admins.find((a) => a.email === email);
      if (!target) {
        const [u] = await m.query(`SELECT id FROM app_user WHERE lower(email) = $1`, [email]);
        if (!u) throw new AdminCommandError('not_found', 'User not found');
        return { userId: u.id as string, created: false, changed: false };
      }
      if (target.status === 'active' && admins.filter((a) => a.status === 'active').length <= 1) {
        throw new AdminCommandError('conflict', 'refusing to demote the last active admin');
      }
      await m.query(`UPDATE app_user SET role = 'subscriber' WHERE id = $1`, [target.id]);
      await logAdminAction(m, actor, { action: 'user.demote', userId: target.id, details: { from: 'admin', to: 'subscriber' } });
      return { userId: target.id, created: false, changed: true };
    });
  }
}
