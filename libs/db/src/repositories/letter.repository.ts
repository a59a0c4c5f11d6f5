import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type FailureClass, type LetterKind, type LetterStatus, PENDING_LETTER_STATUSES } from '@mz/contracts';
import { logEvent, logEventSql } from '../events';
import { GroupCommit } from '../group-commit';
import { type NamedStatement, namedStatement, queryNamed } from '../named-statement';
import { queryRows, type Queryable } from './rows';
import { SuppressionRepository } from './suppression.repository';

/**
 * The letter's status machine (docs/architecture.md §3) has one home: every transition of a
 * `letter` row is a named method here, each one statement guarded by the status it leaves, so a
 * letter cancelled, re-driven or taken over meanwhile is never overwritten.
 *
 *   scheduled ─claimForCompose→ composing ─markComposed→ composed ─claimForSend→ sending ─markSent→ sent
 *   composing ─markComposeRetrying→ retrying (no body) ─claimForCompose→ composing
 *   sending ─markSendFailure→ retrying (body) ─claimForSend→ sending       (or → failed)
 *   composing ─markComposeFailed / markComposeCancelled→ failed / cancelled
 *   composed|retrying ─settleRefused→ skipped (suppressed) / cancelled (user, subscription, pause)
 *   composing|sending, lease run out ─releaseExpiredLeases→ retrying      (the sweeper)
 *   failed|retrying ─resetForRetry→ scheduled / composed                    (the console's retry)
 *   pending ─cancelPending→ cancelled                                      (disable, unsubscribe, pause)
 *
 * The hot-path statements are named prepared statements (named-statement.ts) that claim or settle
 * and write their event in one round trip.
 */

/** The composer's lease-holding claim, with everything its prompt needs (see CLAIM_FOR_COMPOSE). */
export interface ComposeClaimRow {
  id: string;
  subscription_id: string;
  user_id: string;
  topic_id: string;
  kind: LetterKind;
  scheduled_for: Date | string;
  local_date: string;
  /** False when the subscription, user, topic or persona row is missing (the letter is still claimed). */
  has_context: boolean;
  context_note: string | null;
  /** The subscription's language (canonical BCP 47). */
  language: string | null;
  active: boolean | null;
  user_name: string | null;
  code: string;
  topic_name: string;
  description: string;
  model: string | null;
  temperature: number | null;
  response_length: string;
  creativity: number;
  instructions: string | null;
  persona_name: string;
  era: string;
  style_notes: string;
  prompts: unknown[];
  streak: number;
  letter_number: number;
  recent_notes: string[];
  recent_letters: unknown[];
  /** A batch request exists for this letter (docs/architecture.md §7): only then is it looked up. */
  has_batch_item: boolean;
}

/** What composing wrote (the letter's content and what it cost). */
export interface ComposedFields {
  subject: string;
  bodyText: string;
  bodyHtml: string;
  summary: string;
  themes: string[];
  tone: string;
  adviceFocus: string;
  variationTags: string[];
  model: string;
  promptTemplateId: string | null;
  promptVersion: number | null;
  promptTokens: number | null;
  cachedTokens: number | null;
  completionTokens: number | null;
  /** USD at the model's price; null offline or for a model with no known price. */
  costUsd: number | null;
  composeMs: number;
  /** Degraded mode: why the offline composer stood in for the LLM (null: it did not). */
  fallbackReason: string | null;
  /** The LLM failure that led to the fallback (short, no personal data). */
  fallbackError: string | null;
  /** BCP 47 tag the letter is written in ('en' from the offline composer, whatever was asked). */
  language: string;
}

/** The prompt and raw answer kept in letter_prompt when `log_prompts` is on. */
export interface PromptRecord { messages: readonly unknown[]; response: string | null }

/** Why the mailer's claim left a claimable letter alone (computed in CLAIM_FOR_SEND, in this order). */
export type SendRefusal = 'sending_paused' | 'not_due' | 'user_inactive' | 'subscription_disabled' | 'subscription_paused' | 'suppressed';

/** What the mailer's claim returns: the claimable row (if any), why it was refused, or what was claimed. */
export interface SendClaimRow {
  id: string;
  subscription_id: string;
  user_id: string;
  kind: 'scheduled' | 'send_now';
  scheduled_for: Date;
  message_id: string;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  email: string;
  topic_code: string;
  topic_name: string;
  /** The language the letter was written in ('en' for letters composed before languages): its footer's. */
  language: string;
  refusal: SendRefusal | null;
  /** Set when the claim went through (attempts after it). */
  claimed_attempts: number | null;
  quote_text: string | null;
  quote_author: string | null;
  /** A concurrent letter for this user recorded the same quote first: choose again. */
  quote_contended: boolean;
}

export interface SendClaimInput {
  letterId: string;
  /** Letters scheduled after this are not due yet (now + a small early tolerance). */
  dueBy: Date;
  leaseUntil: Date;
  /** The footer's sign-in link: stored hashed, with the claim. */
  loginTokenHash: string;
  loginTokenExpiresAt: Date;
}

export interface SendFailureInput {
  letterId: string;
  userId: string;
  subscriptionId: string;
  failureClass: FailureClass;
  summary: string;
  attempts: number;
  /** When to try again; null: failed for good (LETTER_FAILED). */
  retryAt: Date | null;
  /** A hard bounce: the recipient's address goes on the suppression list in the same transaction. */
  suppressAddress: string | null;
}

/** A row the sweeper re-drives. */
export interface DrivableRow {
  id: string;
  scheduled_for: Date;
  has_body: boolean;
}

/** How many earlier letters and notes feed the prompt (enough to avoid repeats, small enough to stay cheap). */
const RECENT_LETTERS = 7;
const RECENT_NOTES = 5;

/**
 * The streak of subscription `sub` (an SQL expression), as every reader counts it: progress
 * grouped per letter (a "done" and a later note on the same letter count once), newest first,
 * letters marked done until the first that was not.
 */
export interface FailedLetterFilter {
  since: Date;
  until: Date;
  /** Topic code; any topic when absent. */
  topic?: string;
  /** Failure class (FAILURE_CLASSES); any when absent. */
  errorType?: FailureClass;
}

export interface FailedLetterRow { id: string; topic: string; errorType: FailureClass | null; failedAt: Date }

export const streakSql = (sub: string) => `(SELECT count(*) FROM (
           SELECT bool_and(g.done) OVER (ORDER BY g.at DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS unbroken
             FROM (SELECT bool_or(pr.completed) AS done, max(pr.created_at) AS at
                     FROM progress pr WHERE pr.subscription_id = ${sub}
                    GROUP BY coalesce(pr.letter_id, pr.id)) g
          ) x WHERE x.unbroken)::int`;

/** letter_prompt upsert as a CTE over `u` (the updated letter); no row when the prompt param is NULL. */
const savePrompt = (messages: string, response: string) => `
  INSERT INTO letter_prompt (letter_id, messages, response)
  SELECT u.id, ${messages}::jsonb, ${response}::text FROM u WHERE ${messages}::jsonb IS NOT NULL
  ON CONFLICT (letter_id) DO UPDATE SET messages = EXCLUDED.messages, response = EXCLUDED.response, created_at = now()`;

/** Per letter of CTE `locked`: everything the prompt needs if CTE `c` claimed it (NULLs if not). */
const COMPOSE_CONTEXT = `
SELECT locked.id AS locked_id, c.id, c.subscription_id, c.user_id, c.topic_id, c.kind, c.scheduled_for, c.local_date,
       s.id IS NOT NULL AND u.id IS NOT NULL AND t.id IS NOT NULL AND p.id IS NOT NULL AS has_context,
       s.context_note, s.language, s.enabled AND u.status = 'active' AS active, u.name AS user_name,
       t.code, t.name AS topic_name, t.description, t.model, t.temperature::float8 AS temperature,
       coalesce(t.response_length, p.response_length) AS response_length, coalesce(t.creativity, p.creativity)::float8 AS creativity,
       coalesce(t.instructions, p.instructions) AS instructions,
       p.name AS persona_name, p.era, p.style_notes,
       (SELECT coalesce(json_agg(json_build_object('id', pt.id, 'version', pt.version, 'systemTemplate', pt.system_template,
                                                   'userTemplate', pt.user_template, 'weight', pt.weight) ORDER BY pt.version), '[]')
          FROM prompt_template pt WHERE pt.topic_id = c.topic_id AND pt.active) AS prompts,
       ${streakSql('c.subscription_id')} AS streak,
       (SELECT count(*) FROM letter l2
         WHERE l2.subscription_id = c.subscription_id AND l2.id <> c.id AND l2.scheduled_for <= c.scheduled_for
           AND l2.status NOT IN ('skipped', 'cancelled', 'failed'))::int + 1 AS letter_number,
       (SELECT coalesce(json_agg(n.note ORDER BY n.created_at DESC), '[]')
          FROM (SELECT note, created_at FROM progress
                 WHERE subscription_id = c.subscription_id AND note IS NOT NULL AND btrim(note) <> ''
                 ORDER BY created_at DESC LIMIT ${RECENT_NOTES}) n) AS recent_notes,
       (SELECT coalesce(json_agg(json_build_object('localDate', r.local_date, 'subject', r.subject, 'summary', r.summary,
                                                   'themes', r.themes, 'variationTags', r.variation_tags, 'opening', r.opening) ORDER BY r.scheduled_for DESC), '[]')
          FROM (SELECT local_date::text AS local_date, subject, summary, themes, variation_tags, left(body_text, 300) AS opening, scheduled_for FROM letter
                 WHERE subscription_id = c.subscription_id AND id <> c.id AND body_text IS NOT NULL
                   AND status NOT IN ('failed', 'cancelled', 'skipped')
                 ORDER BY scheduled_for DESC LIMIT ${RECENT_LETTERS}) r) AS recent_letters,
       EXISTS (SELECT 1 FROM llm_batch_item b WHERE b.letter_id = c.id) AS has_batch_item
  FROM locked LEFT JOIN c ON c.id = locked.id
  LEFT JOIN subscription s ON s.id = c.subscription_id
  LEFT JOIN app_user u ON u.id = s.user_id
  LEFT JOIN topic t ON t.id = c.topic_id
  LEFT JOIN persona p ON p.id = t.persona_id`;

/**
 * The claim and everything the prompt needs, in one statement: one round trip where six reads
 * and a write used to be (docs/performance.md). The claim runs as a data-modifying CTE; the rest
 * reads in the statement's snapshot, which is from before the claim — harmless, as the only
 * subqueries on `letter` leave the claimed letters out. Subscription, user, topic and persona are
 * LEFT JOINed on purpose: the CTE claims the row whatever the outer query returns, so a missing one
 * must still return the claimed row (the composer fails it for good) rather than leave it
 * `composing` until the lease runs out.
 *
 * Written for a group of letters (group commit, docs/architecture.md §3.6): one row per letter the
 * statement locked (`locked_id`; the context columns are NULL where the letter was not claimable).
 * Whether a row is claimable is read by the locking SELECT (on the row's latest version, which the
 * lock then keeps) and the UPDATE only joins on the id: with the status test in the UPDATE, a
 * generic plan scanned the status index (every letter in flight) instead of the primary key.
 * `lock` is `SKIP LOCKED` for a group (a letter someone else holds has no row) or empty for a
 * letter claimed alone, which waits for the lock. $1 letter ids (padGroup), $2 lease in ms.
 */
const claimForComposeSql = (lock: '' | 'SKIP LOCKED') => `
WITH locked AS (
  SELECT id, (status = 'scheduled' OR (status = 'retrying' AND body_text IS NULL)) AS claimable
    FROM letter WHERE id = ANY($1::uuid[]) FOR UPDATE ${lock}
), c AS (
  UPDATE letter SET status = 'composing', lease_until = now() + $2 * interval '1 millisecond', next_retry_at = NULL, updated_at = now()
    FROM locked
   WHERE letter.id = locked.id AND locked.claimable
   RETURNING letter.id, letter.subscription_id, letter.user_id, letter.topic_id, letter.kind, letter.scheduled_for, letter.local_date::text AS local_date
)${COMPOSE_CONTEXT}`;
const CLAIM_FOR_COMPOSE_MANY = namedStatement('mz_composer_claim_many', claimForComposeSql('SKIP LOCKED'));
const CLAIM_FOR_COMPOSE = namedStatement('mz_composer_claim', claimForComposeSql(''));

/**
 * composing → composed + LETTER_COMPOSED (+ the prompt log) as one statement: atomic without
 * START/COMMIT round trips. The inserts read the UPDATE's RETURNING, so nothing is written unless
 * we still owned the row. Written for a group (docs/architecture.md §3.6): $1 the letters as a
 * JSON array of records (the columns of `v`), $2 their ids (padGroup); the status is read by the
 * locking SELECT, the UPDATE joins on the id (see claimForComposeSql), and `lock` as there.
 * Returns each locked letter and whether it was still ours to mark.
 */
const markComposedSql = (lock: '' | 'SKIP LOCKED') => `
WITH v AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
    id uuid, subject text, body_text text, body_html text, summary text, themes text[], tone text, advice_focus text,
    variation_tags text[], model text, prompt_template_id uuid, prompt_version int, prompt_tokens int, completion_tokens int,
    compose_ms int, metadata jsonb, messages jsonb, response text, fallback_reason text, cached_tokens int, cost_usd numeric, language text)
), locked AS (
  SELECT l.id, l.status = 'composing' AS composing FROM letter l WHERE l.id = ANY($2::uuid[]) FOR UPDATE ${lock}
), u AS (
  UPDATE letter
     SET status = 'composed', subject = v.subject, body_text = v.body_text, body_html = v.body_html, summary = v.summary, themes = v.themes,
         tone = v.tone, advice_focus = v.advice_focus, variation_tags = v.variation_tags, model = v.model, prompt_template_id = v.prompt_template_id,
         prompt_version = v.prompt_version, prompt_tokens = v.prompt_tokens, completion_tokens = v.completion_tokens, compose_ms = v.compose_ms,
         fallback_reason = v.fallback_reason, cached_tokens = v.cached_tokens, cost_usd = v.cost_usd, language = v.language, composed_at = now(),
         lease_until = NULL, error_type = NULL, last_error = NULL, next_retry_at = NULL, updated_at = now()
    FROM v JOIN locked ON locked.id = v.id
   WHERE letter.id = v.id AND locked.composing
   RETURNING letter.id, letter.user_id, letter.subscription_id, v.metadata, v.messages, v.response
), e AS (${logEventSql('u', "'LETTER_COMPOSED'", 'u.metadata')}
), p AS (${savePrompt('u.messages', 'u.response')}
)
SELECT locked.id, EXISTS (SELECT 1 FROM u WHERE u.id = locked.id) AS marked FROM locked`;
const MARK_COMPOSED_MANY = namedStatement('mz_composer_mark_composed_many', markComposedSql('SKIP LOCKED'));
const MARK_COMPOSED = namedStatement('mz_composer_mark_composed', markComposedSql(''));

// The compose failure paths are rare: the same one-statement shape, sent unnamed (not worth a
// prepared statement on every pooled connection).
const MARK_COMPOSE_RETRYING = `
WITH u AS (
  UPDATE letter SET status = 'retrying', error_type = $2, last_error = $3, next_retry_at = $4, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id
), p AS (${savePrompt('$5', '$6')}
)
SELECT count(*)::int AS n FROM u`;

const MARK_COMPOSE_FAILED = `
WITH u AS (
  UPDATE letter SET status = 'failed', error_type = $2, last_error = $3, next_retry_at = NULL, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id, user_id, subscription_id
), e AS (${logEventSql('u', "'LETTER_FAILED'", '$4')}
), p AS (${savePrompt('$5', '$6')}
)
SELECT count(*)::int AS n FROM u`;

/**
 * composing → scheduled, the claim given back (docs/architecture.md §7, batch composing): the
 * letter waits for its batch answer, and `next_retry_at` holds the deadline at which its compose
 * job composes it synchronously instead — the sweeper leaves it alone until then.
 */
const RELEASE_FOR_BATCH = `
WITH u AS (
  UPDATE letter SET status = 'scheduled', lease_until = NULL, next_retry_at = $2, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id
)
SELECT count(*)::int AS n FROM u`;

const MARK_COMPOSE_CANCELLED = `
WITH u AS (
  UPDATE letter SET status = 'cancelled', skip_reason = $2, lease_until = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id, user_id, subscription_id
), e AS (${logEventSql('u', "'LETTER_CANCELLED'", '$3')}
)
SELECT count(*)::int AS n FROM u`;

/** A letter the mailer may send: composed, or retrying after a send failure (it has a body). */
const sendable = (t: string) => `(${t}.status = 'composed' OR (${t}.status = 'retrying' AND ${t}.body_text IS NOT NULL))`;

/**
 * Records a quote choice in quote_history unless another letter for the user changed that row
 * since this statement's snapshot (optimistic: the upsert's WHERE sees the latest committed row).
 * Expects CTE `pick (id, used_at)`; `userId` is the SQL for the user's id.
 */
const recordQuoteUse = (userId: string, from: string) => `
  INSERT INTO quote_history (user_id, quote_id, used_at)
  SELECT ${userId}, pick.id, clock_timestamp() FROM ${from}
  ON CONFLICT (user_id, quote_id) DO UPDATE SET used_at = EXCLUDED.used_at
   WHERE quote_history.used_at IS NOT DISTINCT FROM (SELECT used_at FROM pick)
  RETURNING quote_id`;

/**
 * The least recently used active quote for user `userId` (a parameter, or the user of the row a
 * LATERAL join runs it for), never used first, at random among equals. The user's history is read
 * by one range scan of quote_history's primary key (user_id, quote_id) and hashed against the
 * quotes: a plain join let the planner hash the whole table — every user's history — for each
 * letter, and a correlated lookup per quote cost a probe of the index per active quote (113 of the
 * claim's 166 buffer hits with 56 quotes; docs/performance.md, issue 14).
 */
const pickQuote = (userId: string) => `
  SELECT q.id, q.text, q.author, h.used_at
    FROM bottom_quote q
    LEFT JOIN (SELECT quote_id, used_at FROM quote_history WHERE user_id = ${userId}) h ON h.quote_id = q.id
   WHERE q.active
   ORDER BY 4 ASC NULLS FIRST, random()
   LIMIT 1`;

/**
 * The send ledger's claim and everything the mail needs, in one statement (one round trip, one
 * commit), written for a group (docs/architecture.md §3.6). Per letter: the row lock makes
 * concurrent jobs for one letter queue up, and the loser's re-check finds the row no longer
 * claimable and sends nothing; a refused claim changes nothing and says why; on a first attempt the
 * closing quote is chosen (kept on the letter, so a retry closes with the same one) and a footer
 * login token is stored. $1 ids (padGroup), $2 due-by, $3 lease ends, $4 token hashes, $5 token
 * expiries, one per id.
 *
 * As in the other grouped statements the locking SELECT reads what the claim needs (the row's
 * latest version, kept by the lock), and with `lock` = SKIP LOCKED a row another transaction holds
 * is skipped. Two letters of one user never go in one group: both would choose against the same
 * history, and one statement cannot upsert the same quote_history row twice. One letter per user
 * is handled (a sendable one first); the others, like the rows held elsewhere, are missing from
 * the result, and their callers run the statement alone, waiting for the lock (`lock` = '').
 * One row per letter handled (`locked_id`), with nulls when it was not claimable.
 */
const claimForSendSql = (lock: '' | 'SKIP LOCKED') => `
WITH v AS (
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::timestamptz[])
           AS v(id, due_by, lease_until, token_hash, token_expires)
), locked AS MATERIALIZED (
  SELECT l.id, l.subscription_id, l.user_id, l.topic_id, l.kind, l.scheduled_for, l.message_id, l.subject, l.body_text, l.body_html,
         l.quote_id, l.attempts, l.language, ${sendable('l')} AS sendable
    FROM letter l WHERE l.id = ANY($1::uuid[]) FOR UPDATE ${lock}
), mine AS MATERIALIZED (
  SELECT DISTINCT ON (user_id) * FROM locked ORDER BY user_id, sendable DESC, id
), cand AS MATERIALIZED (
  SELECT l.id, l.subscription_id, l.user_id, l.kind, l.scheduled_for, l.message_id, l.subject, l.body_text, l.body_html,
         l.quote_id, l.attempts, u.email, t.code AS topic_code, t.name AS topic_name, coalesce(l.language, 'en') AS language,
         v.lease_until, v.token_hash, v.token_expires,
         CASE
           WHEN (SELECT value FROM app_config WHERE key = 'sending_paused') = 'true'::jsonb THEN 'sending_paused'
           WHEN l.scheduled_for > v.due_by THEN 'not_due'
           WHEN u.status <> 'active' THEN 'user_inactive'
           WHEN NOT s.enabled THEN 'subscription_disabled'
           -- Same rule as the scheduler: a slot inside a pause gets no letter (send-now is an explicit ask).
           WHEN l.kind = 'scheduled' AND s.paused_until > l.scheduled_for THEN 'subscription_paused'
           WHEN EXISTS (SELECT 1 FROM suppression WHERE lower(address) = lower(u.email)) THEN 'suppressed'
         END AS refusal
    FROM mine l
    JOIN v ON v.id = l.id
    JOIN app_user u ON u.id = l.user_id
    JOIN subscription s ON s.id = l.subscription_id
    JOIN topic t ON t.id = l.topic_id
   WHERE l.sendable
),
ok AS MATERIALIZED (SELECT * FROM cand WHERE refusal IS NULL),
pick AS MATERIALIZED (
  SELECT ok.id AS letter_id, ok.user_id, p.id, p.text, p.author, p.used_at
    FROM ok CROSS JOIN LATERAL (${pickQuote('ok.user_id')}) p
   WHERE ok.quote_id IS NULL
),
claimed AS (
  UPDATE letter l
     SET status = 'sending', attempts = ok.attempts + 1, lease_until = ok.lease_until, next_retry_at = NULL,
         quote_id = coalesce(ok.quote_id, pick.id), updated_at = now()
    FROM ok LEFT JOIN pick ON pick.letter_id = ok.id
   WHERE l.id = ok.id
  RETURNING l.id, l.attempts, l.quote_id
),
recorded AS (
  INSERT INTO quote_history (user_id, quote_id, used_at)
  SELECT pick.user_id, pick.id, clock_timestamp() FROM pick
  ON CONFLICT (user_id, quote_id) DO UPDATE SET used_at = EXCLUDED.used_at
   WHERE quote_history.used_at IS NOT DISTINCT FROM
         (SELECT p.used_at FROM pick p WHERE p.user_id = quote_history.user_id AND p.id = quote_history.quote_id)
  RETURNING user_id, quote_id
),
token AS (
  INSERT INTO login_token (user_id, token_hash, purpose, expires_at)
  SELECT ok.user_id, ok.token_hash, 'footer_login', ok.token_expires FROM ok
  RETURNING id
)
SELECT mine.id AS locked_id, cand.id, cand.subscription_id, cand.user_id, cand.kind, cand.scheduled_for, cand.message_id, cand.subject,
       cand.body_text, cand.body_html, cand.email, cand.topic_code, cand.topic_name, cand.language, cand.refusal,
       claimed.attempts AS claimed_attempts, q.text AS quote_text, q.author AS quote_author,
       (pick.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM recorded r WHERE r.user_id = pick.user_id AND r.quote_id = pick.id)) AS quote_contended
  FROM mine
  LEFT JOIN cand ON cand.id = mine.id
  LEFT JOIN claimed ON claimed.id = mine.id
  LEFT JOIN pick ON pick.letter_id = mine.id
  LEFT JOIN bottom_quote q ON q.id = claimed.quote_id`;
const CLAIM_FOR_SEND_MANY = namedStatement('mz_mailer_claim_many', claimForSendSql('SKIP LOCKED'));
const CLAIM_FOR_SEND = namedStatement('mz_mailer_claim', claimForSendSql(''));

/** A fresh choice after a contended one: recorded only if nobody took it meanwhile. $1 letter, $2 user. */
const REPICK_QUOTE = namedStatement('mz_mailer_repick_quote', `
WITH pick AS MATERIALIZED (${pickQuote('$2')}),
recorded AS (${recordQuoteUse('$2::uuid', 'pick')}),
linked AS (UPDATE letter SET quote_id = recorded.quote_id FROM recorded WHERE letter.id = $1 RETURNING 1)
SELECT pick.text, pick.author, EXISTS (SELECT 1 FROM recorded) AS recorded FROM pick`);

/** A refused claim settled for good (cancelled or skipped) with its event; nothing if the row moved on. */
const SETTLE_REFUSED = namedStatement('mz_mailer_settle', `
WITH settled AS (
  UPDATE letter SET status = $2, skip_reason = $3, lease_until = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND ${sendable('letter')}
  RETURNING id, user_id, subscription_id
)
${logEventSql('settled', '$4', '$5')}
RETURNING id`);

/**
 * SMTP accepted. 'retrying' too: if the lease ran out mid-send and the sweeper moved the row, it
 * was still sent. The event is written whatever the row's state (as long as the letter exists):
 * the mail went out. Written for a group (docs/architecture.md §3.6): the status is read by the
 * locking SELECT, the UPDATE joins on the id (see claimForComposeSql), and `lock` as there.
 * $1 ids (padGroup), $2 sent times, $3 SMTP responses, $4 send ms, $5 user ids, $6 subscription
 * ids, $7 event metadata. Returns the letters it locked.
 */
const markSentSql = (lock: '' | 'SKIP LOCKED') => `
WITH v AS (
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::int[], $5::uuid[], $6::uuid[], $7::jsonb[])
           AS v(id, sent_at, smtp_response, send_ms, user_id, subscription_id, metadata)
), locked AS (
  SELECT l.id, l.status IN ('sending', 'retrying') AS sendable FROM letter l WHERE l.id = ANY($1::uuid[]) FOR UPDATE ${lock}
), sent AS (
  UPDATE letter SET status = 'sent', sent_at = v.sent_at, smtp_response = v.smtp_response, send_ms = v.send_ms,
         lease_until = NULL, next_retry_at = NULL, updated_at = now()
    FROM v JOIN locked ON locked.id = v.id
   WHERE letter.id = v.id AND locked.sendable
), e AS (
  INSERT INTO event_log (type, user_id, letter_id, subscription_id, metadata)
  SELECT 'LETTER_SENT', v.user_id, v.id, v.subscription_id, v.metadata FROM v JOIN locked ON locked.id = v.id
)
SELECT id FROM locked`;
const MARK_SENT_MANY = namedStatement('mz_mailer_mark_sent_many', markSentSql('SKIP LOCKED'));
const MARK_SENT = namedStatement('mz_mailer_mark_sent', markSentSql(''));

/** $1 held letter ids, $2 lease in ms. Only live leases of rows still in a leased status. */
const EXTEND_LEASES = namedStatement('mz_lease_extend', `
  UPDATE letter SET lease_until = now() + $2 * interval '1 millisecond'
   WHERE id = ANY($1::uuid[]) AND status IN ('composing', 'sending') AND lease_until > now()
  RETURNING id`);

/**
 * Letters per grouped statement. Each group's arrays are padded to exactly this length (padGroup),
 * the length Postgres assumes for an array parameter it cannot see (10, estimate_array_length), the
 * ids with the nil UUID (one row each to the planner, like a real id; never a letter's: random
 * UUIDs carry version bits). So a custom plan costs what the generic plan costs, and after its five
 * trial runs the prepared statement keeps the generic plan. Unpadded, a group of two or three looked
 * cheaper planned for its values every time, and the claim's context query was planned anew on
 * every call (about a millisecond, more than grouping saved).
 */
export const GROUP_SIZE = 10;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const padGroup = <T, P>(values: readonly T[], pad: P): (T | P)[] => [...values, ...new Array<P>(Math.max(0, GROUP_SIZE - values.length)).fill(pad)];

/**
 * How long a letter statement that finds none of its kind in flight waits for company, ms. Jobs
 * reach a service a few at a time, so without it a group held what arrived during one round trip:
 * 1.8 letters on average in the mailer stage, where grouping pays from the second letter on
 * (docs/performance.md, issue 14, fourth round). 5 ms since the sixth round: with 20 sends in
 * flight the mailer's groups grew from 3.6 to 4.9 letters per statement over 2 ms (commits per
 * message 0.55 → 0.41, the stage's CPU per message −9 %). A letter waits minutes in its queue;
 * 5 ms more is nothing to it, and a full group starts without waiting.
 */
export const GROUP_LINGER_MS = 5;
const GROUPING = { maxBatch: GROUP_SIZE, lingerMs: GROUP_LINGER_MS } as const;

/** What markComposed writes for one letter. */
interface ComposedMark { letterId: string; f: ComposedFields; eventMetadata: Record<string, unknown>; prompt: PromptRecord | null }
/** markSent's values for one letter, in MARK_SENT's parameter order. */
type SentMark = readonly [letterId: string, sentAt: Date, smtpResponse: string, sendMs: number, userId: string, subscriptionId: string, metadata: string];

/** The grouped statements, for the spec that checks their plans (letter-group-commit.int-spec.ts). */
export const GROUPED_LETTER_STATEMENTS = { claimForCompose: CLAIM_FOR_COMPOSE_MANY, markComposed: MARK_COMPOSED_MANY, claimForSend: CLAIM_FOR_SEND_MANY, markSent: MARK_SENT_MANY } as const;

@Injectable()
export class LetterRepository {
  private readonly composeClaimGroups = new Map<number, GroupCommit<string, ComposeClaimRow | null | 'locked_elsewhere'>>();

  constructor(private readonly ds: DataSource, private readonly suppressions: SuppressionRepository) {}

  // ── compose ────────────────────────────────────────────────────────────────────────────────

  /**
   * scheduled, or retrying without a body (a compose retry) → composing with a lease, plus its
   * prompt context. Null: no claimable row, nothing done.
   */
  async claimForCompose(letterId: string, leaseMs: number): Promise<ComposeClaimRow | null> {
    const grouped = await this.composeClaims(leaseMs).call(letterId);
    if (grouped !== 'locked_elsewhere') return grouped;
    // Someone else holds the row: claimed alone, waiting for the lock.
    return (await this.claimForComposeRows(CLAIM_FOR_COMPOSE, [letterId], leaseMs)).get(letterId) ?? null;
  }

  /** The compose claims of this process, grouped (one group per lease length, in practice one). */
  private composeClaims(leaseMs: number): GroupCommit<string, ComposeClaimRow | null | 'locked_elsewhere'> {
    let group = this.composeClaimGroups.get(leaseMs);
    if (!group) {
      group = new GroupCommit<string, ComposeClaimRow | null | 'locked_elsewhere'>(async (ids) => {
        const claimed = await this.claimForComposeRows(CLAIM_FOR_COMPOSE_MANY, ids, leaseMs);
        return ids.map((id) => (claimed.has(id) ? claimed.get(id)! : 'locked_elsewhere'));
      }, (id) => id, GROUPING);
      this.composeClaimGroups.set(leaseMs, group);
    }
    return group;
  }

  /** Per locked letter: its claim row, or null when it was not claimable. */
  private async claimForComposeRows(stmt: NamedStatement, ids: readonly string[], leaseMs: number): Promise<Map<string, ComposeClaimRow | null>> {
    const rows = await queryNamed<ComposeClaimRow & { locked_id: string }>(this.ds, stmt, [padGroup(ids, NIL_UUID), leaseMs]);
    return new Map(rows.map(({ locked_id, ...row }) => [locked_id, row.id === null ? null : row]));
  }

  /** composing → composed + LETTER_COMPOSED (+ the prompt log). False: we no longer own the row. */
  async markComposed(letterId: string, f: ComposedFields, eventMetadata: Record<string, unknown>, prompt: PromptRecord | null): Promise<boolean> {
    const mark = { letterId, f, eventMetadata, prompt };
    const grouped = await this.composedMarks.call(mark);
    if (grouped !== 'locked_elsewhere') return grouped;
    return (await this.markComposedRows(MARK_COMPOSED, [mark])).get(letterId) ?? false;
  }

  private readonly composedMarks = new GroupCommit<ComposedMark, boolean | 'locked_elsewhere'>(async (marks) => {
    const marked = await this.markComposedRows(MARK_COMPOSED_MANY, marks);
    return marks.map((m) => marked.get(m.letterId) ?? 'locked_elsewhere');
  }, (m) => m.letterId, GROUPING);

  /** Per locked letter: whether it was still composing (and is now composed). */
  private async markComposedRows(stmt: NamedStatement, marks: readonly ComposedMark[]): Promise<Map<string, boolean>> {
    const records = marks.map(({ letterId, f, eventMetadata, prompt }) => ({
      id: letterId, subject: f.subject, body_text: f.bodyText, body_html: f.bodyHtml, summary: f.summary, themes: f.themes, tone: f.tone,
      advice_focus: f.adviceFocus, variation_tags: f.variationTags, model: f.model, prompt_template_id: f.promptTemplateId,
      prompt_version: f.promptVersion, prompt_tokens: f.promptTokens, completion_tokens: f.completionTokens, compose_ms: f.composeMs,
      metadata: eventMetadata, messages: prompt ? prompt.messages : null, response: prompt ? prompt.response : null,
      fallback_reason: f.fallbackReason, cached_tokens: f.cachedTokens, cost_usd: f.costUsd, language: f.language,
    }));
    const rows = await queryNamed<{ id: string; marked: boolean }>(this.ds, stmt, [JSON.stringify(records), padGroup(marks.map((m) => m.letterId), NIL_UUID)]);
    return new Map(rows.map((r) => [r.id, r.marked]));
  }

  /** composing → retrying: the console shows the class, the error and when the next attempt runs. */
  markComposeRetrying(letterId: string, cls: FailureClass, lastError: string, nextRetryAt: Date, prompt: PromptRecord | null): Promise<boolean> {
    return this.changed(MARK_COMPOSE_RETRYING, [letterId, cls, lastError, nextRetryAt, ...promptValues(prompt)]);
  }

  /** composing → failed + LETTER_FAILED (+ the prompt log). */
  markComposeFailed(letterId: string, cls: FailureClass, lastError: string, eventMetadata: Record<string, unknown>, prompt: PromptRecord | null): Promise<boolean> {
    return this.changed(MARK_COMPOSE_FAILED, [letterId, cls, lastError, JSON.stringify(eventMetadata), ...promptValues(prompt)]);
  }

  /** composing → cancelled + LETTER_CANCELLED: the subscription went away after the letter was scheduled. */
  markComposeCancelled(letterId: string, reason: string): Promise<boolean> {
    return this.changed(MARK_COMPOSE_CANCELLED, [letterId, reason, JSON.stringify({ reason, stage: 'compose' })]);
  }

  /** composing → scheduled until `deadline`: waiting for a batch answer (no event: nothing happened to the letter yet). */
  releaseForBatch(letterId: string, deadline: Date): Promise<boolean> {
    return this.changed(RELEASE_FOR_BATCH, [letterId, deadline]);
  }

  // ── send ───────────────────────────────────────────────────────────────────────────────────

  /**
   * composed|retrying(with body) → sending, the only transition that permits an SMTP send. Null:
   * nothing claimable (sent, being sent, cancelled, not composed). A refused claim changes nothing.
   */
  async claimForSend(c: SendClaimInput): Promise<SendClaimRow | null> {
    const grouped = await this.sendClaims.call(c);
    if (grouped !== 'locked_elsewhere') return grouped;
    // Held elsewhere, or another letter of this user was in the group: claimed alone, waiting for the lock.
    return (await this.claimForSendRows(CLAIM_FOR_SEND, [c])).get(c.letterId) ?? null;
  }

  /** The send claims of this process, grouped; 'locked_elsewhere': not handled by the group, claim alone. */
  private readonly sendClaims = new GroupCommit<SendClaimInput, SendClaimRow | null | 'locked_elsewhere'>(async (claims) => {
    const handled = await this.claimForSendRows(CLAIM_FOR_SEND_MANY, claims);
    return claims.map((c) => (handled.has(c.letterId) ? handled.get(c.letterId)! : 'locked_elsewhere'));
  }, (c) => c.letterId, GROUPING);

  /** Per letter the statement handled: its claim row, or null when it was not claimable. */
  private async claimForSendRows(stmt: NamedStatement, claims: readonly SendClaimInput[]): Promise<Map<string, SendClaimRow | null>> {
    const columns = [
      padGroup(claims.map((c) => c.letterId), NIL_UUID),
      padGroup(claims.map((c) => c.dueBy), null),
      padGroup(claims.map((c) => c.leaseUntil), null),
      padGroup(claims.map((c) => c.loginTokenHash), null),
      padGroup(claims.map((c) => c.loginTokenExpiresAt), null),
    ];
    const rows = await queryNamed<SendClaimRow & { locked_id: string }>(this.ds, stmt, columns);
    return new Map(rows.map(({ locked_id, ...row }) => [locked_id, row.id === null ? null : row]));
  }

  /** Chooses the closing quote again; `recorded` false: another letter took it first. Null: no active quote. */
  async repickQuote(letterId: string, userId: string): Promise<{ text: string; author: string; recorded: boolean } | null> {
    const [q] = await queryNamed<{ text: string; author: string; recorded: boolean }>(this.ds, REPICK_QUOTE, [letterId, userId]);
    return q ?? null;
  }

  /** composed|retrying → skipped or cancelled for good, with its event. False: the row moved on. */
  async settleRefused(letterId: string, s: { status: 'skipped' | 'cancelled'; reason: string; event: 'LETTER_SKIPPED' | 'LETTER_CANCELLED'; metadata: Record<string, unknown> }): Promise<boolean> {
    const rows = await queryNamed(this.ds, SETTLE_REFUSED, [letterId, s.status, s.reason, s.event, JSON.stringify(s.metadata)]);
    return rows.length > 0;
  }

  /** sending (or retrying, if the sweeper moved it mid-send) → sent, and LETTER_SENT in any case. */
  async markSent(l: { letterId: string; userId: string; subscriptionId: string }, sentAt: Date, smtpResponse: string, sendMs: number, eventMetadata: Record<string, unknown>): Promise<void> {
    const mark: SentMark = [l.letterId, sentAt, smtpResponse.slice(0, 500), sendMs, l.userId, l.subscriptionId, JSON.stringify(eventMetadata)];
    if (await this.sentMarks.call(mark)) return;
    await this.markSentRows(MARK_SENT, [mark]); // someone else held the row: marked alone, waiting for the lock
  }

  /** True per letter marked by the grouped statement; false: someone else held the row. */
  private readonly sentMarks = new GroupCommit<SentMark, boolean>(async (marks) => {
    const locked = await this.markSentRows(MARK_SENT_MANY, marks);
    return marks.map((m) => locked.has(m[0]));
  }, (m) => m[0], GROUPING);

  /** The letters the statement locked (and marked, if still sending). */
  private async markSentRows(stmt: NamedStatement, marks: readonly SentMark[]): Promise<Set<string>> {
    const columns = [0, 1, 2, 3, 4, 5, 6].map((c) => padGroup(marks.map((m) => m[c]), c === 0 ? NIL_UUID : null));
    return new Set((await queryNamed<{ id: string }>(this.ds, stmt, columns)).map((r) => r.id));
  }

  /**
   * sending → retrying (at `retryAt`) or failed + LETTER_FAILED, and for a hard bounce the
   * address on the suppression list, in one transaction. Returns whether the address was new there.
   */
  async markSendFailure(f: SendFailureInput): Promise<{ suppressed: boolean }> {
    return this.ds.transaction(async (m) => {
      const suppressed = f.suppressAddress !== null && await this.suppressions.add(m, {
        address: f.suppressAddress, reason: 'hard_bounce', detail: f.summary, event: { userId: f.userId, letterId: f.letterId },
      });
      if (f.retryAt) {
        await m.query(
          `UPDATE letter SET status = 'retrying', error_type = $2, last_error = $3, next_retry_at = $4, lease_until = NULL, updated_at = now()
            WHERE id = $1 AND status = 'sending'`,
          [f.letterId, f.failureClass, f.summary, f.retryAt],
        );
      } else {
        await m.query(
          `UPDATE letter SET status = 'failed', error_type = $2, last_error = $3, next_retry_at = NULL, lease_until = NULL, updated_at = now()
            WHERE id = $1 AND status = 'sending'`,
          [f.letterId, f.failureClass, f.summary],
        );
        await logEvent(m, {
          type: 'LETTER_FAILED', letterId: f.letterId, userId: f.userId, subscriptionId: f.subscriptionId,
          metadata: { stage: 'send', errorType: f.failureClass, attempts: f.attempts, error: f.summary },
        });
      }
      return { suppressed };
    });
  }

  // ── leases and the sweeper ───────────────────────────────────────────────────────────────

  /** Extends the leases of rows this process still holds; a lease that ran out is never revived. */
  async extendLeases(letterIds: readonly string[], leaseMs: number): Promise<number> {
    return (await queryNamed(this.ds, EXTEND_LEASES, [[...letterIds], leaseMs])).length;
  }

  /**
   * composing|sending whose lease ran out → retrying (body kept), atomically, with an event per
   * row. SKIP LOCKED: a row a worker is committing right now is left to the worker.
   */
  releaseExpiredLeases(now: Date, limit: number): Promise<(DrivableRow & { was: 'composing' | 'sending' })[]> {
    return queryRows(
      this.ds,
      `WITH stuck AS (
         SELECT id, status AS was FROM letter
          WHERE status IN ('composing', 'sending') AND lease_until < $1
          ORDER BY lease_until
          LIMIT ${Math.trunc(limit)}
          FOR UPDATE SKIP LOCKED
       ), moved AS (
         UPDATE letter l
            SET status = 'retrying', lease_until = NULL, next_retry_at = $1, updated_at = now(),
                last_error = 'lease expired while ' || stuck.was || ': the worker was lost'
           FROM stuck
          WHERE l.id = stuck.id
          RETURNING l.id, l.user_id, l.subscription_id, l.scheduled_for, l.body_text IS NOT NULL AS has_body, stuck.was
       ), events AS (
         INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata)
         SELECT 'LETTER_RETRY_REQUESTED', 'sweeper', user_id, id, subscription_id,
                jsonb_build_object('reason', 'lease_expired', 'from', was)
           FROM moved
       )
       SELECT id, scheduled_for, has_body, was FROM moved`,
      [now],
    );
  }

  /**
   * One keyset page (by id, after `afterId`) of rows the sweeper may have to re-drive:
   * `scheduled` untouched since `before` (one waiting for a batch answer only once its deadline,
   * `next_retry_at`, passed too), `composed` since `before`, or `retrying` whose retry time passed
   * before `before`.
   */
  stalePage(status: 'scheduled' | 'composed' | 'retrying', before: Date, afterId: string, limit: number): Promise<DrivableRow[]> {
    const where = {
      scheduled: `status = 'scheduled' AND updated_at < $1 AND (next_retry_at IS NULL OR next_retry_at < $1)`,
      composed: `status = 'composed' AND COALESCE(composed_at, updated_at) < $1`,
      retrying: `status = 'retrying' AND (next_retry_at IS NULL OR next_retry_at < $1)`,
    }[status];
    return queryRows(
      this.ds,
      `SELECT id, scheduled_for, body_text IS NOT NULL AS has_body FROM letter WHERE ${where} AND id > $2 ORDER BY id LIMIT ${Math.trunc(limit)}`,
      [before, afterId],
    );
  }

  // ── what happened after the send ─────────────────────────────────────────────────────────

  /**
   * A provider's delivery report (docs/architecture.md §8): the first one wins — a provider's
   * duplicate or a second provider's report changes nothing. The status stays `sent`.
   */
  async markDelivered(m: Queryable, letterId: string, provider: string, at: Date): Promise<boolean> {
    const rows = await queryRows(
      m,
      `UPDATE letter SET delivered_at = $3, delivered_by = $2, updated_at = now() WHERE id = $1 AND delivered_at IS NULL RETURNING id`,
      [letterId, provider, at],
    );
    return rows.length > 0;
  }

  /**
   * One keyset page (by id, after `afterId`) of `failed` letters matching an operator's filter,
   * for `mz redrive` (docs/operations.md): topic code, error class, and when it failed — the row's
   * last transition (`updated_at`), `since` inclusive, `until` exclusive. Read-only: each letter
   * is then reset by `resetForRetry` through LetterCommands.retryNow.
   */
  failedPage(f: FailedLetterFilter, afterId: string, limit: number): Promise<FailedLetterRow[]> {
    return queryRows(
      this.ds,
      `SELECT l.id, t.code AS topic, l.error_type AS "errorType", l.updated_at AS "failedAt"
         FROM letter l JOIN topic t ON t.id = l.topic_id
        WHERE l.status = 'failed' AND l.updated_at >= $1 AND l.updated_at < $2
          AND ($3::text IS NULL OR t.code = $3) AND ($4::text IS NULL OR l.error_type = $4)
          AND l.id > $5
        ORDER BY l.id LIMIT ${Math.trunc(limit)}`,
      [f.since, f.until, f.topic ?? null, f.errorType ?? null, afterId],
    );
  }

  // ── commands (console, settings, replies) ─────────────────────────────────────────────────

  /**
   * The console's retry: failed|retrying → the start of the stage it failed in (`scheduled`
   * without a body, `composed` with one), errors cleared. Inside the caller's transaction, which
   * holds the row's lock (lockForRetry).
   */
  async resetForRetry(m: EntityManager, letterId: string, status: Extract<LetterStatus, 'scheduled' | 'composed'>): Promise<void> {
    await m.query(
      `UPDATE letter SET status = $2, error_type = NULL, last_error = NULL, next_retry_at = NULL, lease_until = NULL, updated_at = now()
        WHERE id = $1 AND status IN ('failed', 'retrying')`,
      [letterId, status],
    );
  }

  /**
   * The subscription's letters still on their way → cancelled, each with LETTER_CANCELLED, inside
   * the caller's transaction. A letter already `sending` is left alone (its SMTP conversation may
   * be under way). `before`: only letters scheduled before then (a pause). Returns the ids, for
   * removing their jobs after commit.
   */
  async cancelPending(m: EntityManager, subscriptionId: string, o: { reason: string; actor: string; before?: Date }): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      m,
      `WITH cancelled AS (
         UPDATE letter SET status = 'cancelled', skip_reason = $2, lease_until = NULL, next_retry_at = NULL, updated_at = now()
          WHERE subscription_id = $1 AND status = ANY($3::text[]) AND ($5::timestamptz IS NULL OR scheduled_for < $5)
          RETURNING id, user_id, subscription_id
       ), events AS (
         INSERT INTO event_log (type, actor, user_id, letter_id, subscription_id, metadata)
         SELECT 'LETTER_CANCELLED', $4, user_id, id, subscription_id, jsonb_build_object('reason', $2::text) FROM cancelled
       )
       SELECT id FROM cancelled`,
      [subscriptionId, o.reason, [...PENDING_LETTER_STATUSES], o.actor, o.before ?? null],
    );
    return rows.map((r) => r.id);
  }

  /**
   * The subscription's scheduled-kind letters created but not yet composed whose slot is after
   * `now`, locked inside the caller's transaction: what a settings change may re-time (a letter can
   * exist up to COMPOSE_LEAD_BATCH ahead, docs/architecture.md §7).
   */
  lockUncomposedSlots(m: EntityManager, subscriptionId: string, now: Date): Promise<{ id: string; local_date: string; scheduled_for: Date }[]> {
    return queryRows(
      m,
      `SELECT id, local_date::text AS local_date, scheduled_for FROM letter
        WHERE subscription_id = $1 AND kind = 'scheduled' AND status = 'scheduled' AND scheduled_for > $2
        ORDER BY scheduled_for FOR UPDATE`,
      [subscriptionId, now],
    );
  }

  /**
   * scheduled → scheduled at a new slot (same local date); no event of its own, the subscription
   * change is the record. `next_retry_at` is cleared so that a compose job parked for
   * the old slot's batch deadline is promoted by the sweeper and parks itself again for the new one.
   */
  async retimeUncomposed(m: EntityManager, letterId: string, scheduledFor: Date): Promise<boolean> {
    const rows = await queryRows(
      m,
      `UPDATE letter SET scheduled_for = $2, next_retry_at = NULL, updated_at = now() WHERE id = $1 AND status = 'scheduled' RETURNING id`,
      [letterId, scheduledFor],
    );
    return rows.length > 0;
  }

  /** Runs an unnamed one-statement transition that answers `SELECT count(*) AS n`. */
  private async changed(sql: string, values: unknown[]): Promise<boolean> {
    const [r] = await queryRows<{ n: number }>(this.ds, sql, values);
    return Number(r?.n) > 0;
  }
}

/** The prompt log as the last two parameters of the mark statements: NULL messages = not logged. */
function promptValues(prompt: PromptRecord | null): [string | null, string | null] {
  return prompt ? [JSON.stringify(prompt.messages), prompt.response] : [null, null];
}
