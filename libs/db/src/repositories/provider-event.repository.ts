import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { WebhookProvider } from '@mz/contracts';
import { queryRows, type Queryable } from './rows';

export type ProviderName = WebhookProvider;
export type ProviderEventType = 'bounce' | 'complaint' | 'delivery' | 'other';

/** One verified event to store (the inbound service maps each provider's shape to this). */
export interface ProviderEventRow {
  provider: ProviderName;
  key: string;
  type: ProviderEventType;
  /** bounce: a permanent failure (suppress) rather than a transient one (count). */
  permanent: boolean;
  recipient: string | null;
  letterId: string | null;
  loginTokenId: string | null;
  /** Our Message-ID as the provider echoed it (SES), when no stamped id is there. */
  messageId: string | null;
  occurredAt: Date | null;
  /** What the provider said, for the console: its event name, status codes, reason (no message content). */
  detail: Record<string, string | number | boolean | null>;
}

interface LoadedRow {
  id: string;
  provider: ProviderName;
  type: ProviderEventType;
  permanent: boolean;
  recipient: string | null;
  letter_id: string | null;
  login_token_id: string | null;
  message_id: string | null;
  detail: Record<string, unknown> | null;
  occurred_at: Date | null;
  processed: boolean;
}

export interface StoredProviderEvent {
  id: string;
  provider: ProviderName;
  type: ProviderEventType;
  permanent: boolean;
  recipient: string | null;
  letterId: string | null;
  loginTokenId: string | null;
  messageId: string | null;
  detail: Record<string, unknown>;
  occurredAt: Date | null;
  processed: boolean;
}

/**
 * `provider_event`: the mail providers' verified bounce, complaint and delivery events (stored once
 * per provider and event key, then worked on by the `replies.process` worker), and their erasure
 * with the rest of a person's data. Marking a letter delivered is LetterRepository's.
 */
@Injectable()
export class ProviderEventRepository {
  constructor(readonly ds: DataSource) {}

  /**
   * Inserts each event once per (provider, event key); returns the id of every row that still has
   * to be worked on — new ones, and earlier copies not processed yet (their job may have been lost).
   */
  async store(db: Queryable, events: ProviderEventRow[]): Promise<{ id: string; duplicate: boolean }[]> {
    const out: { id: string; duplicate: boolean }[] = [];
    for (const e of events) {
      const rows: { id: string; inserted: boolean; processed: boolean }[] = await queryRows(
      db,
        `WITH ins AS (
           INSERT INTO provider_event (provider, event_key, type, permanent, recipient, letter_id, login_token_id, message_id, detail, occurred_at)
           SELECT $1, $2, $3, $4, $5, (SELECT id FROM letter WHERE id = $6::uuid), $7, $8, $9::jsonb, $10
           ON CONFLICT (provider, event_key) DO NOTHING
           RETURNING id
         )
         SELECT id, true AS inserted, false AS processed FROM ins
         UNION ALL
         SELECT id, false, processed_at IS NOT NULL FROM provider_event WHERE provider = $1 AND event_key = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
        // Control characters (NUL above all, which Postgres refuses in text) never reach a column.
        [e.provider, e.key.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 500), e.type, e.permanent, e.recipient, e.letterId, e.loginTokenId, e.messageId?.slice(0, 998) ?? null,
          JSON.stringify(e.detail), e.occurredAt],
      );
      const r = rows[0];
      if (r && (r.inserted || !r.processed)) out.push({ id: r.id, duplicate: !r.inserted });
    }
    return out;
  }

  async load(db: Queryable, id: string): Promise<StoredProviderEvent | null> {
    const [r] = await queryRows<LoadedRow>(
      db,
      `SELECT id, provider, type, permanent, recipient, letter_id, login_token_id, message_id, detail, occurred_at, processed_at IS NOT NULL AS processed
         FROM provider_event WHERE id = $1`,
      [id],
    );
    return r
      ? { id: r.id, provider: r.provider, type: r.type, permanent: r.permanent, recipient: r.recipient, letterId: r.letter_id, loginTokenId: r.login_token_id,
        messageId: r.message_id, detail: r.detail ?? {}, occurredAt: r.occurred_at, processed: r.processed }
      : null;
  }

  /** Locks the row for the effects' transaction; false when another delivery of the job already processed it. */
  async lockUnprocessed(m: EntityManager, id: string): Promise<boolean> {
    const [r] = await m.query(`SELECT processed_at FROM provider_event WHERE id = $1 FOR UPDATE`, [id]);
    return !!r && r.processed_at === null;
  }

  /** Records what the worker did (and which letter it found), in the effects' transaction. */
  async finish(db: Queryable, id: string, outcome: string, letterId: string | null, error: string | null = null): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      db,
      `UPDATE provider_event SET outcome = $2, letter_id = COALESCE($3, letter_id), error = $4, processed_at = now() WHERE id = $1 AND processed_at IS NULL RETURNING id`,
      [id, outcome, letterId, error?.slice(0, 1000) ?? null],
    );
    return rows.length > 0;
  }

  /** Unprocessed events older than the grace (their job was lost between commit and enqueue). */
  async unprocessed(db: Queryable, olderThanMs: number, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await queryRows(
      db,
      `SELECT id FROM provider_event WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1) ORDER BY received_at LIMIT $2`,
      [olderThanMs / 1000, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Erasure: a person's provider events keep their type, outcome and dates (the counts stay true)
   * but lose the address, the ids that lead back to them and what the provider said.
   */
  async erase(m: EntityManager, email: string, letterIds: string[], loginTokenIds: string[]): Promise<void> {
    await m.query(
      `UPDATE provider_event SET recipient = NULL, letter_id = NULL, login_token_id = NULL, message_id = NULL, detail = '{}'::jsonb, error = NULL
        WHERE lower(recipient) = lower($1) OR letter_id = ANY($2::uuid[]) OR login_token_id = ANY($3::uuid[])`,
      [email, letterIds, loginTokenIds],
    );
  }
}
