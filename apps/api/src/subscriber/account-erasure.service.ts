import { Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { logEvent, ProviderEventRepository, SuppressionRepository } from '@mz/db';
import { LetterCommands } from '@mz/domain';

/** Metadata values kept on an erased person's events: ids, enums, dates, numbers — never prose. */
const SAFE_VALUE = /^[A-Za-z0-9_.:+-]{0,64}$/;

export const tombstoneEmail = (userId: string) => `deleted+${userId}@invalid`;

/**
 * Erasure (GDPR art. 17), for `DELETE /api/me` and the admin's delete. In one transaction:
 * pending letters are cancelled, then letters, prompts, progress, subscriptions, tokens, sessions
 * and quote history are deleted; received mail keeps only its Message-ID (so a re-delivery stays
 * a no-op) with raw bytes, text and addresses wiped, as do mail providers' events about them; suppressions of the address go (the person
 * asked to be forgotten — should they come back, it is a new consent); events about them keep
 * only non-prose metadata; the account row stays as a tombstone (status deleted, email
 * `deleted+<id>@invalid`, no name) so ids in the audit trail still resolve to "a deleted user".
 * Queued jobs are removed after commit; a job that still runs finds no row and does nothing.
 */
@Injectable()
export class AccountErasureService {
  constructor(
    private readonly ds: DataSource,
    private readonly letters: LetterCommands,
    private readonly suppressions: SuppressionRepository,
    private readonly providerEvents: ProviderEventRepository,
  ) {}

  /** `inTransaction` runs inside the erasure's transaction (the admin's audit entry commits with it). */
  async erase(userId: string, by: { actor: string; kind: 'self' | 'admin' }, inTransaction?: (m: EntityManager) => Promise<void>): Promise<void> {
    const letterIds = await this.ds.transaction(async (m) => {
      const [user] = await m.query(`SELECT id, email, name, status FROM app_user WHERE id = $1 FOR UPDATE`, [userId]);
      if (!user || user.status === 'deleted') throw new NotFoundException('User not found');
      const email: string = user.email;

      const subs: { id: string }[] = await m.query(`SELECT id FROM subscription WHERE user_id = $1`, [userId]);
      for (const s of subs) await this.letters.cancelPending(m, s.id, 'user_deleted', by.actor);
      const letters: { id: string }[] = await m.query(`SELECT id FROM letter WHERE user_id = $1`, [userId]);

      await m.query(
        `UPDATE inbound_message
            SET raw = ''::bytea, raw_size = 0, raw_truncated = false, envelope_from = NULL, envelope_to = NULL, remote_address = NULL, helo = NULL,
                from_address = NULL, subject = NULL,
                reply_text = NULL, note = NULL, analysis = NULL, error = NULL, matched_user_id = NULL, matched_letter_id = NULL
          WHERE matched_user_id = $1 OR lower(from_address) = $2 OR lower(envelope_from) = $2 OR matched_letter_id = ANY($3::uuid[])`,
        [userId, email, letters.map((l) => l.id)],
      );
      const tokens: { id: string }[] = await m.query(`SELECT id FROM login_token WHERE user_id = $1`, [userId]);
      await this.providerEvents.erase(m, email, letters.map((l) => l.id), tokens.map((t) => t.id));
      // letter_prompt and progress go with their letters and subscriptions (ON DELETE CASCADE).
      await m.query(`DELETE FROM letter WHERE user_id = $1`, [userId]);
      await m.query(`DELETE FROM subscription WHERE user_id = $1`, [userId]);
      await m.query(`DELETE FROM login_token WHERE user_id = $1`, [userId]);
      await m.query(`DELETE FROM app_session WHERE user_id = $1`, [userId]);
      await m.query(`DELETE FROM quote_history WHERE user_id = $1`, [userId]);
      await this.suppressions.removeAddress(m, email);
      await this.scrubEvents(m, userId, [email, email.split('@')[0], user.name].filter((x): x is string => Boolean(x) && x.length >= 3));
      await m.query(
        `UPDATE app_user SET email = $2, name = NULL, status = 'deleted', role = 'subscriber', last_login_at = NULL WHERE id = $1`,
        [userId, tombstoneEmail(userId)],
      );
      await logEvent(m, { type: 'USER_DELETED', actor: by.actor, userId, metadata: { by: by.kind } });
      if (inTransaction) await inTransaction(m);
      return letters.map((l) => l.id);
    });
    if (letterIds.length) await this.letters.removeQueuedJobs(letterIds);
  }

  /** Keeps the audit trail's shape (what happened, when) and drops anything that could be personal. */
  private async scrubEvents(m: EntityManager, userId: string, personal: string[]): Promise<void> {
    const events: { id: string; metadata: Record<string, unknown> }[] = await m.query(
      `SELECT id, metadata FROM event_log WHERE user_id = $1 AND metadata <> '{}'::jsonb`,
      [userId],
    );
    for (const e of events) {
      const kept = scrubMetadata(e.metadata, personal);
      if (JSON.stringify(kept) !== JSON.stringify(e.metadata)) {
        await m.query(`UPDATE event_log SET metadata = $2::jsonb WHERE id = $1`, [e.id, JSON.stringify(kept)]);
      }
    }
  }
}

/** Keeps numbers, booleans and short token-like strings that mention none of `personal`. */
export function scrubMetadata(meta: Record<string, unknown>, personal: readonly string[] = []): Record<string, unknown> {
  const lowered = personal.map((p) => p.toLowerCase());
  const safe = (x: unknown) => typeof x === 'string' && SAFE_VALUE.test(x) && !lowered.some((p) => x.toLowerCase().includes(p));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) out[k] = v;
    else if (safe(v)) out[k] = v;
    else if (Array.isArray(v) && v.every(safe)) out[k] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = scrubMetadata(v as Record<string, unknown>, personal);
    else out[k] = '[erased]';
  }
  return out;
}
