/**
 * Rows for tests, written with plain SQL through any `query(sql, params)` (a TypeORM DataSource
 * or a pg Client). The seed (topics, prompts, footer, quotes) must already be in the database.
 */
import { randomUUID } from 'node:crypto';

export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

const rows = (r: any): any[] => (Array.isArray(r) ? r : r.rows);

export async function makeUser(db: Queryable, opts: { email?: string; status?: string; role?: string; name?: string } = {}): Promise<{ id: string; email: string }> {
  const email = opts.email ?? `user-${randomUUID().slice(0, 8)}@example.test`;
  const [u] = rows(await db.query(`INSERT INTO app_user (email, status, role, name) VALUES (lower($1), $2, $3, $4) RETURNING id, email`, [email, opts.status ?? 'active', opts.role ?? 'subscriber', opts.name ?? null]));
  return u;
}

export async function makeSubscription(db: Queryable, userId: string, opts: { topic?: string; enabled?: boolean; timezone?: string; sendTime?: string; nextRunAt?: Date | null } = {}): Promise<string> {
  const [s] = rows(await db.query(
    `INSERT INTO subscription (user_id, topic_id, enabled, timezone, send_time_local, next_run_at)
     SELECT $1, id, $3, $4, $5, $6 FROM topic WHERE code = $2 RETURNING id`,
    [userId, opts.topic ?? 'focus', opts.enabled ?? true, opts.timezone ?? 'Europe/Berlin', opts.sendTime ?? '07:30', opts.nextRunAt ?? null],
  ));
  if (!s) throw new Error(`no topic ${opts.topic ?? 'focus'}: seed the database first`);
  return s.id;
}

let day = 0;
/** A `composed` letter ready for the mailer (a distinct local date each call). */
export async function makeComposedLetter(db: Queryable, subscriptionId: string, replyDomain: string, opts: { scheduledFor?: Date } = {}): Promise<{ id: string; messageId: string }> {
  const id = randomUUID();
  const messageId = `<mz.${id}@${replyDomain}>`;
  const localDate = new Date(Date.UTC(2031, 0, 1) + day++ * 86_400_000).toISOString().slice(0, 10);
  await db.query(
    `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, subject, body_text, body_html, message_id, composed_at, model)
     SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', 'composed', $3, $4, 'One thing at a time [mz:' || t.code || ']',
            'Dear friend,' || chr(10) || chr(10) || 'Today, do one thing at a time.', '<p>Dear friend,</p><p>Today, do one thing at a time.</p>', $5, now(), 'offline'
       FROM subscription s JOIN topic t ON t.id = s.topic_id WHERE s.id = $2`,
    [id, subscriptionId, opts.scheduledFor ?? new Date(Date.now() - 1000), localDate, messageId],
  );
  return { id, messageId };
}
