/**
 * The benchmark's database: created from scratch (`dist/libs/db/src/cli.js setup`: create,
 * migrate, seed), filled with set-based INSERT … SELECT generate_series statements (one statement
 * per batch of letters, never row by row), dropped at the end.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';

export const BENCH_EMAIL_DOMAIN = 'bench.example';

/** Zones the seeded readers live in: whole-, half- and quarter-hour offsets, both hemispheres. */
export const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Kathmandu'];

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function connect(url: string, applicationName = 'mz-bench-harness'): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  return client;
}

/** Creates, migrates and seeds through the product's own CLI (what operators run). */
export function setupDatabase(root: string, dist: string, url: string): void {
  execFileSync(process.execPath, [join(dist, 'libs/db/src/cli.js'), 'setup'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = await connect(databaseUrl(serverUrl, 'postgres'));
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Empties everything the pipeline writes, keeping the seed (topics, prompts, footer, quotes, config). */
export async function resetPipelineTables(db: Client): Promise<void> {
  await db.query(`TRUNCATE letter, letter_prompt, llm_batch_item, progress, inbound_message, provider_event, event_log, login_token, app_session, quote_history, suppression, subscription`);
  await db.query(`DELETE FROM app_user WHERE email LIKE '%@${BENCH_EMAIL_DOMAIN}'`);
  await db.query(`VACUUM ANALYZE app_user, subscription, letter, event_log, login_token, quote_history`);
}

/**
 * `n` readers with one subscription each (topics and zones in turn), all with `next_run_at` = `at`
 * and a send time that is `at`'s wall clock in their zone. One statement; returns when committed.
 */
export async function seedSubscriptions(db: Client, opts: { tag: string; n: number; at: Date }): Promise<void> {
  await db.query(
    `WITH topics AS (SELECT array_agg(id ORDER BY code) AS ids FROM topic WHERE active),
          g AS MATERIALIZED (SELECT i, gen_random_uuid() AS user_id, ($3::text[])[1 + i % cardinality($3::text[])] AS tz FROM generate_series(1, $2::int) i),
          u AS (INSERT INTO app_user (id, email, name)
                SELECT user_id, format('%s-%s@${BENCH_EMAIL_DOMAIN}', $1::text, i), format('Reader %s', i) FROM g)
     INSERT INTO subscription (user_id, topic_id, timezone, send_time_local, next_run_at)
     SELECT g.user_id, topics.ids[1 + g.i % cardinality(topics.ids)], g.tz, to_char($4::timestamptz AT TIME ZONE g.tz, 'HH24:MI'), $4::timestamptz
       FROM g, topics`,
    [opts.tag, opts.n, ZONES, opts.at.toISOString()],
  );
}

export interface SeededBody {
  subject: string;
  text: string;
  html: string;
}

/**
 * `n` readers with a letter each in `status` ('composed' for the mailer stage, 'scheduled' for
 * the composer), scheduled for `at`. The composed ones carry `body` as if the composer wrote it.
 */
export async function seedLetters(
  db: Client,
  opts: { tag: string; n: number; at: Date; status: 'composed' | 'scheduled'; body: SeededBody; replyDomain: string },
): Promise<void> {
  // Not due for the scheduler: these readers' next run is tomorrow.
  await seedSubscriptions(db, { tag: opts.tag, n: opts.n, at: new Date(opts.at.getTime() + 86_400_000) });
  const composed = opts.status === 'composed';
  await db.query(
    `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id,
                         subject, body_text, body_html, summary, themes, tone, advice_focus, variation_tags, model, composed_at)
     SELECT s.lid, s.id, s.user_id, s.topic_id, 'scheduled', $2, $3::timestamptz, ($3::timestamptz AT TIME ZONE s.timezone)::date,
            format('<mz.%s@%s>', s.lid, $4::text),
            $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
       FROM (SELECT sub.*, gen_random_uuid() AS lid FROM subscription sub
               JOIN app_user u ON u.id = sub.user_id WHERE u.email LIKE $1::text || '-%') s`,
    [
      opts.tag,
      opts.status,
      opts.at.toISOString(),
      opts.replyDomain,
      composed ? opts.body.subject : null,
      composed ? opts.body.text : null,
      composed ? opts.body.html : null,
      composed ? 'A short letter about one small step.' : null,
      composed ? ['focus', 'momentum'] : [],
      composed ? 'warm' : null,
      composed ? 'one small concrete step today' : null,
      composed ? ['bench'] : [],
      composed ? 'bench-model' : null,
      composed ? new Date().toISOString() : null,
    ],
  );
}

/** Ids of the letters seeded under `tag`, for enqueueing their jobs. */
export async function letterIds(db: Client, tag: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT l.id FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE $1::text || '-%' ORDER BY l.id`,
    [tag],
  );
  return rows.map((r: { id: string }) => r.id);
}

export interface RoundLetters {
  total: number;
  byStatus: Record<string, number>;
  firstCreatedMs: number | null;
  lastCreatedMs: number | null;
  lastComposedMs: number | null;
  firstSentMs: number | null;
  lastSentMs: number | null;
  /** Lateness (sent_at − scheduled_for) in seconds. */
  latenessP50: number | null;
  latenessP99: number | null;
  latenessMax: number | null;
}

/** What happened to the letters of one round's readers. */
export async function roundLetters(db: Client, tag: string): Promise<RoundLetters> {
  const { rows } = await db.query(
    `SELECT l.status, count(*)::int AS n,
            extract(epoch FROM min(l.created_at)) * 1000 AS first_created, extract(epoch FROM max(l.created_at)) * 1000 AS last_created,
            extract(epoch FROM max(l.composed_at)) * 1000 AS last_composed,
            extract(epoch FROM min(l.sent_at)) * 1000 AS first_sent, extract(epoch FROM max(l.sent_at)) * 1000 AS last_sent,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM l.sent_at - l.scheduled_for)) AS p99,
            max(extract(epoch FROM l.sent_at - l.scheduled_for)) AS pmax
       FROM letter l JOIN app_user u ON u.id = l.user_id
      WHERE u.email LIKE $1::text || '-%'
      GROUP BY l.status`,
    [tag],
  );
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const pick = (f: (r: any) => unknown, agg: (a: number, b: number) => number) =>
    rows.map((r) => num(f(r))).filter((v): v is number => v !== null).reduce<number | null>((a, b) => (a === null ? b : agg(a, b)), null);
  const sent = rows.find((r) => r.status === 'sent');
  return {
    total: rows.reduce((s, r) => s + r.n, 0),
    byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    firstCreatedMs: pick((r) => r.first_created, Math.min),
    lastCreatedMs: pick((r) => r.last_created, Math.max),
    lastComposedMs: pick((r) => r.last_composed, Math.max),
    firstSentMs: num(sent?.first_sent),
    lastSentMs: num(sent?.last_sent),
    latenessP50: num(sent?.p50),
    latenessP99: num(sent?.p99),
    latenessMax: num(sent?.pmax),
  };
}

/** Cheap progress poll: letters of the round in a status (uses the user email prefix). */
export async function countLetters(db: Client, tag: string, statuses: string[]): Promise<{ done: number; failed: number }> {
  const { rows } = await db.query(
    `SELECT count(*) FILTER (WHERE l.status = ANY($2::text[]))::int AS done,
            count(*) FILTER (WHERE l.status IN ('failed', 'cancelled', 'skipped'))::int AS failed
       FROM letter l JOIN app_user u ON u.id = l.user_id WHERE u.email LIKE $1::text || '-%'`,
    [tag, statuses],
  );
  return rows[0];
}

export interface BackendCpuInfo {
  pid: number;
  app: string;
}

/** Postgres backends serving the benchmark database, with the service that opened each. */
export async function backends(db: Client, database: string): Promise<BackendCpuInfo[]> {
  const { rows } = await db.query(
    `SELECT pid, coalesce(nullif(application_name, ''), '?') AS app FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  return rows;
}

export async function databaseStats(db: Client, database: string): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted
       FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
}

export async function tableStats(db: Client): Promise<Record<string, Record<string, number>>> {
  const { rows } = await db.query(
    `SELECT relname, seq_scan, coalesce(idx_scan, 0) AS idx_scan, seq_tup_read, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del
       FROM pg_stat_user_tables`,
  );
  return Object.fromEntries(rows.map((r: Record<string, unknown>) => [r.relname, Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'relname').map(([k, v]) => [k, Number(v)]))]));
}
