import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { type AppConfig, type FailureClass, type LetterKind, type ResponseLength, temperatureFor } from '@mz/contracts';
import { logEventSql, namedStatement, queryNamed } from '@mz/db';
import { APP_CONFIG, ReadCache } from '@mz/platform';
import type { ComposeContext, ComposerSettings, PromptVersion, RecentLetter } from './compose-context';
import type { ChatMessage } from '@mz/llm';

export interface ClaimedLetter {
  id: string;
  subscriptionId: string;
  userId: string;
  topicId: string;
  kind: LetterKind;
  scheduledFor: Date;
  localDate: string;
}

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
}

export interface PromptLog { messages: ChatMessage[]; response: string | null }

/** How many earlier letters and notes feed the prompt (enough to avoid repeats, small enough to stay cheap). */
const RECENT_LETTERS = 7;
const RECENT_NOTES = 5;

const Settings = z.object({
  log_prompts: z.boolean().catch(false).default(false),
  llm_offline_fallback: z.boolean().catch(true).default(true),
});

/** The claim's result: the letter, now `composing` and ours, with its prompt context. */
export interface Claimed {
  letter: ClaimedLetter;
  /** Null when the subscription, user, topic or persona row is missing (the letter is still claimed). */
  context: (ComposeContext & { active: boolean }) | null;
}

/** How long app_config's composer toggles are reused before they are read again. */
export const SETTINGS_TTL_MS = 5_000;

/** letter_prompt upsert as a CTE over `u` (the updated letter); no row when the prompt param is NULL. */
const savePrompt = (messages: string, response: string) => `
  INSERT INTO letter_prompt (letter_id, messages, response)
  SELECT u.id, ${messages}::jsonb, ${response}::text FROM u WHERE ${messages}::jsonb IS NOT NULL
  ON CONFLICT (letter_id) DO UPDATE SET messages = EXCLUDED.messages, response = EXCLUDED.response, created_at = now()`;


/**
 * The claim and everything the prompt needs, in one statement (docs/performance.md, P4). The
 * claim runs as a data-modifying CTE; the rest reads in the statement's snapshot, which is from
 * before the claim — harmless, as the only subqueries on `letter` leave this letter out.
 * Subscription, user, topic and persona are LEFT JOINed on purpose: the CTE claims the row
 * whatever the outer query returns, so a missing one must still return the claimed row (the
 * service fails it for good) rather than leave it `composing` until the lease runs out.
 * Streak: the subscription's progress grouped per letter (a "done" and a later note on the same
 * letter count once), newest first, counting letters marked done until the first that was not.
 * $1 letter, $2 lease in ms.
 */
const CLAIM = namedStatement('mz_composer_claim', `
WITH c AS (
  UPDATE letter
     SET status = 'composing', lease_until = now() + $2 * interval '1 millisecond', next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND (status = 'scheduled' OR (status = 'retrying' AND body_text IS NULL))
   RETURNING id, subscription_id, user_id, topic_id, kind, scheduled_for, local_date::text AS local_date
)
SELECT c.id, c.subscription_id, c.user_id, c.topic_id, c.kind, c.scheduled_for, c.local_date,
       s.id IS NOT NULL AND u.id IS NOT NULL AND t.id IS NOT NULL AND p.id IS NOT NULL AS has_context,
       s.context_note, s.enabled AND u.status = 'active' AS active, u.name AS user_name,
       t.code, t.name AS topic_name, t.description, t.model, t.temperature::float8 AS temperature,
       coalesce(t.response_length, p.response_length) AS response_length, coalesce(t.creativity, p.creativity)::float8 AS creativity,
       coalesce(t.instructions, p.instructions) AS instructions,
       p.name AS persona_name, p.era, p.style_notes,
       (SELECT coalesce(json_agg(json_build_object('id', pt.id, 'version', pt.version, 'systemTemplate', pt.system_template,
                                                   'userTemplate', pt.user_template, 'weight', pt.weight) ORDER BY pt.version), '[]')
          FROM prompt_template pt WHERE pt.topic_id = c.topic_id AND pt.active) AS prompts,
       (SELECT count(*) FROM (
           SELECT bool_and(g.done) OVER (ORDER BY g.at DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS unbroken
             FROM (SELECT bool_or(pr.completed) AS done, max(pr.created_at) AS at
                     FROM progress pr WHERE pr.subscription_id = c.subscription_id
                    GROUP BY coalesce(pr.letter_id, pr.id)) g
          ) x WHERE x.unbroken)::int AS streak,
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
                 ORDER BY scheduled_for DESC LIMIT ${RECENT_LETTERS}) r) AS recent_letters
  FROM c
  LEFT JOIN subscription s ON s.id = c.subscription_id
  LEFT JOIN app_user u ON u.id = s.user_id
  LEFT JOIN topic t ON t.id = c.topic_id
  LEFT JOIN persona p ON p.id = t.persona_id`);

/**
 * composing → composed + LETTER_COMPOSED (+ the prompt log) as one statement: atomic without
 * START/COMMIT round trips. The inserts read the UPDATE's RETURNING, so nothing is written unless
 * we still owned the row. $16 event metadata, $17 prompt messages (NULL: none), $18 raw response,
 * $19 the degraded-mode fallback reason (NULL: written by the LLM or by design offline), $20 cached
 * prompt tokens, $21 cost in USD.
 */
const MARK_COMPOSED = namedStatement('mz_composer_mark_composed', `
WITH u AS (
  UPDATE letter
     SET status = 'composed', subject = $2, body_text = $3, body_html = $4, summary = $5, themes = $6, tone = $7,
         advice_focus = $8, variation_tags = $9, model = $10, prompt_template_id = $11, prompt_version = $12,
         prompt_tokens = $13, completion_tokens = $14, compose_ms = $15, fallback_reason = $19, cached_tokens = $20, cost_usd = $21, composed_at = now(), lease_until = NULL,
         error_type = NULL, last_error = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing'
   RETURNING id, user_id, subscription_id
), e AS (${logEventSql('u', "'LETTER_COMPOSED'", '$16')}
), p AS (${savePrompt('$17', '$18')}
)
SELECT count(*)::int AS n FROM u`);

const SETTINGS = namedStatement('mz_composer_settings', `SELECT key, value FROM app_config WHERE key IN ('log_prompts', 'llm_offline_fallback')`);

// The failure paths are rare: the same one-statement shape, sent unnamed (not worth a prepared
// statement on every pooled connection).
const MARK_RETRYING = `
WITH u AS (
  UPDATE letter SET status = 'retrying', error_type = $2, last_error = $3, next_retry_at = $4, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id
), p AS (${savePrompt('$5', '$6')}
)
SELECT count(*)::int AS n FROM u`;

const MARK_FAILED = `
WITH u AS (
  UPDATE letter SET status = 'failed', error_type = $2, last_error = $3, next_retry_at = NULL, lease_until = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id, user_id, subscription_id
), e AS (${logEventSql('u', "'LETTER_FAILED'", '$4')}
), p AS (${savePrompt('$5', '$6')}
)
SELECT count(*)::int AS n FROM u`;

const MARK_CANCELLED = `
WITH u AS (
  UPDATE letter SET status = 'cancelled', skip_reason = $2, lease_until = NULL, next_retry_at = NULL, updated_at = now()
   WHERE id = $1 AND status = 'composing' RETURNING id, user_id, subscription_id
), e AS (${logEventSql('u', "'LETTER_CANCELLED'", '$3')}
)
SELECT count(*)::int AS n FROM u`;

/**
 * The composer's SQL: the claim that makes one worker the owner of a letter (and loads its
 * context in the same statement), and the status transitions (each guarded by
 * `status = 'composing'` so a letter cancelled or re-driven meanwhile is never overwritten).
 * Each is one statement, so none needs an explicit transaction.
 */
@Injectable()
export class ComposeLetterRepository {
  /**
   * loadSettings() reuses what it read for SETTINGS_TTL_MS: a console change to log_prompts or the
   * token prices reaches new letters within that (tests that flip app_config set ttlMs to 0).
   */
  readonly settingsCache = new ReadCache(() => this.readSettings(), SETTINGS_TTL_MS);

  constructor(private readonly ds: DataSource, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * scheduled, or retrying without a body (a compose retry) → composing with a lease, plus its
   * context. Null: no claimable row, nothing done.
   */
  async claim(letterId: string): Promise<Claimed | null> {
    const [r] = await queryNamed(this.ds, CLAIM, [letterId, this.config.LEASE_MS]);
    if (!r) return null;
    const letter: ClaimedLetter = {
      id: r.id as string,
      subscriptionId: r.subscription_id as string,
      userId: r.user_id as string,
      topicId: r.topic_id as string,
      kind: r.kind as LetterKind,
      scheduledFor: new Date(r.scheduled_for as string | Date),
      localDate: r.local_date as string,
    };
    if (r.has_context !== true) return { letter, context: null };
    return {
      letter,
      context: {
        active: r.active === true,
        letter: { ...letter },
        reader: { name: (r.user_name as string | null) ?? null, contextNote: (r.context_note as string | null) ?? null },
        topic: {
          id: letter.topicId,
          code: r.code as string,
          name: r.topic_name as string,
          description: r.description as string,
          model: (r.model as string | null) ?? null,
          ...voiceSettings(r.temperature as number | null, Number(r.creativity), r.response_length as ResponseLength),
        },
        persona: { name: r.persona_name as string, era: r.era as string, styleNotes: r.style_notes as string, instructions: (r.instructions as string | null) ?? '' },
        prompts: r.prompts as PromptVersion[],
        streak: Number(r.streak),
        letterNumber: Number(r.letter_number),
        recentNotes: r.recent_notes as string[],
        recentLetters: r.recent_letters as RecentLetter[],
      },
    };
  }

  /**
   * A topic with its persona and active prompt versions, for the console's sample letter (no
   * letter row, no reader). Null when the topic does not exist.
   */
  async loadPreviewTopic(topicId: string): Promise<Pick<ComposeContext, 'topic' | 'persona' | 'prompts'> | null> {
    const [r] = await this.ds.query(
      `SELECT t.id, t.code, t.name, t.description, t.model, p.name AS persona_name, p.era, p.style_notes,
              (SELECT coalesce(json_agg(json_build_object('id', pt.id, 'version', pt.version, 'systemTemplate', pt.system_template,
                                                          'userTemplate', pt.user_template, 'weight', pt.weight) ORDER BY pt.version), '[]')
                 FROM prompt_template pt WHERE pt.topic_id = t.id AND pt.active) AS prompts
         FROM topic t JOIN persona p ON p.id = t.persona_id WHERE t.id = $1`,
      [topicId],
    );
    if (!r) return null;
    return {
      topic: {
        id: r.id, code: r.code, name: r.name, description: r.description, model: r.model ?? null,
        // the caller sets the voice being previewed
        temperature: 0, creativity: 0, responseLength: 'medium',
      },
      persona: { name: r.persona_name, era: r.era, styleNotes: r.style_notes, instructions: '' },
      prompts: r.prompts as PromptVersion[],
    };
  }

  /** Runtime toggles (app_config), validated: a malformed value falls back to its safe default. Cached (settingsCache). */
  loadSettings(): Promise<ComposerSettings> {
    return this.settingsCache.get();
  }

  private async readSettings(): Promise<ComposerSettings> {
    const rows = await queryNamed<{ key: string; value: unknown }>(this.ds, SETTINGS, []);
    const s = Settings.parse(Object.fromEntries(rows.map((r) => [r.key, r.value])));
    return { logPrompts: s.log_prompts, offlineFallback: s.llm_offline_fallback };
  }

  /** composing → composed + LETTER_COMPOSED (+ the prompt log). False: we no longer own the row. */
  async markComposed(letter: ClaimedLetter, f: ComposedFields, prompt: PromptLog | null): Promise<boolean> {
    const metadata = {
      model: f.model, promptVersion: f.promptVersion, composeMs: f.composeMs, promptTokens: f.promptTokens, completionTokens: f.completionTokens,
      ...(f.costUsd !== null ? { cachedTokens: f.cachedTokens, costUsd: f.costUsd } : {}),
      ...(f.fallbackReason ? { fallbackReason: f.fallbackReason, llmError: f.fallbackError } : {}),
    };
    const [r] = await queryNamed<{ n: number }>(this.ds, MARK_COMPOSED, [
      letter.id, f.subject, f.bodyText, f.bodyHtml, f.summary, f.themes, f.tone, f.adviceFocus, f.variationTags, f.model,
      f.promptTemplateId, f.promptVersion, f.promptTokens, f.completionTokens, f.composeMs,
      JSON.stringify(metadata), ...promptValues(prompt), f.fallbackReason, f.cachedTokens, f.costUsd,
    ]);
    return r.n > 0;
  }

  /** composing → retrying: the console shows the class, the error and when the next attempt runs. */
  async markRetrying(letterId: string, cls: FailureClass, lastError: string, nextRetryAt: Date, prompt: PromptLog | null): Promise<boolean> {
    return this.mutate(MARK_RETRYING, [letterId, cls, lastError, nextRetryAt, ...promptValues(prompt)]);
  }

  /** composing → failed + LETTER_FAILED (+ the prompt log). */
  async markFailed(letter: ClaimedLetter, cls: FailureClass, lastError: string, attempt: number, prompt: PromptLog | null): Promise<boolean> {
    const metadata = { stage: 'compose', errorType: cls, attempt, error: lastError };
    return this.mutate(MARK_FAILED, [letter.id, cls, lastError, JSON.stringify(metadata), ...promptValues(prompt)]);
  }

  /** The subscription went away (disabled, user suspended/deleted) after the letter was scheduled. */
  async markCancelled(letter: ClaimedLetter, reason: string): Promise<boolean> {
    return this.mutate(MARK_CANCELLED, [letter.id, reason, JSON.stringify({ reason, stage: 'compose' })]);
  }

  private async mutate(sql: string, values: unknown[]): Promise<boolean> {
    const [r] = unwrap(await this.ds.query(sql, values));
    return Number(r?.n) > 0;
  }
}

/**
 * The effective voice of a topic: its creativity and length (the topic's, else its persona's),
 * and the temperature — the topic's explicit override, else what the creativity maps to.
 */
export function voiceSettings(temperatureOverride: number | null, creativity: number, responseLength: ResponseLength) {
  return { temperature: temperatureOverride ?? temperatureFor(creativity), creativity, responseLength };
}

/** The prompt log as the last two parameters of the mark statements: NULL messages = not logged. */
function promptValues(prompt: PromptLog | null): [string | null, string | null] {
  return prompt ? [JSON.stringify(prompt.messages), prompt.response] : [null, null];
}

/** TypeORM's postgres driver returns [rows, count] for UPDATE … RETURNING. */
function unwrap(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0];
  return result as Record<string, unknown>[];
}
