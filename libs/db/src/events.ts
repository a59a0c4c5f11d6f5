import type { DataSource, EntityManager } from 'typeorm';
import type { EventType } from '@mz/contracts';

export interface EventInput {
  type: EventType;
  actor?: string;
  userId?: string | null;
  letterId?: string | null;
  subscriptionId?: string | null;
  metadata?: Record<string, unknown>;
}

/** Appends to event_log inside the caller's transaction (so the event commits with its effect). */
export async function logEvent(m: EntityManager | DataSource, e: EventInput): Promise<void> {
  await m.query(
    `INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [e.type, e.actor ?? 'system', e.userId ?? null, e.letterId ?? null, e.subscriptionId ?? null, JSON.stringify(e.metadata ?? {})],
  );
}

/**
 * The same row as `logEvent`, as SQL for a data-modifying statement: an INSERT … SELECT over the
 * rows of CTE `from` (which must return `id` — the letter's — `user_id` and `subscription_id`),
 * so an event is written exactly for the rows the statement changed, atomically with them.
 * `type` and `metadata` are SQL expressions (a parameter such as `$4`, or a quoted literal).
 */
export function logEventSql(from: string, type: string, metadata: string): string {
  return `INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata)
  SELECT ${type}, 'system', ${from}.user_id, ${from}.id, ${from}.subscription_id, ${metadata}::jsonb FROM ${from}`;
}
