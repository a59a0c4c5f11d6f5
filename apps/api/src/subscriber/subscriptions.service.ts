import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { LetterCommands } from '@mz/domain';
import { type AppConfig, DEFAULT_LANGUAGE, llmConfigured } from '@mz/contracts';
import { APP_CONFIG, Clock } from '@mz/platform';
import type { SignupChoiceInput, SubscriptionSettingsInput } from '@mz/api-schemas';

export interface TopicSummary { code: string; name: string; description: string; persona: { name: string; era: string } }

export interface SubscriptionItem {
  topic: TopicSummary;
  subscribed: boolean;
  enabled: boolean;
  sendTime: string;
  timezone: string | null;
  contextNote: string | null;
  /** Canonical BCP 47 tag the letters are asked for in. */
  language: string;
  /** What letters are written in: `language` with an LLM, English without one (docs/architecture.md §3.3). */
  letterLanguage: string;
  nextRunAt: Date | null;
  pausedUntil: Date | null;
  streak: number;
  lastLetterAt: Date | null;
  /** The subscriber-local date the scheduler last created a letter for: it skips that date (the settings preview needs it). */
  lastScheduledLocalDate: string | null;
}

const DEFAULT_SEND_TIME = '07:30';

/** What confirming a landing-page choice did, per topic code (recorded on the LOGIN event). */
export interface SignupApplied {
  /** New subscriptions, at the chosen time and zone. */
  subscribed: string[];
  /** Switched-off subscriptions switched back on, at the chosen time and zone (note and pause kept). */
  resumed: string[];
  /** Already receiving it: left exactly as it was (its own time, zone, note, pause). */
  kept: string[];
  /** No longer active when the link was confirmed: not joined. */
  unavailable: string[];
}

/**
 * A subscriber's topics. Every save goes through LetterCommands.applySubscriptionChange in the
 * same transaction, so the schedule cursor (next_run_at) always matches the settings and a
 * disabled topic's pending letters are cancelled with it; queued jobs go after commit.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly ds: DataSource,
    private readonly letters: LetterCommands,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async topics(): Promise<TopicSummary[]> {
    const rows = await this.ds.query(
      `SELECT t.code, t.name, t.description, p.name AS persona_name, p.era AS persona_era
         FROM topic t JOIN persona p ON p.id = t.persona_id WHERE t.active ORDER BY t.name`,
    );
    return rows.map(topicOf);
  }

  /** Every active topic (and any inactive one the user still has), with the user's settings. */
  async list(userId: string, m: EntityManager = this.ds.manager): Promise<SubscriptionItem[]> {
    const rows = await m.query(
      `SELECT t.code, t.name, t.description, p.name AS persona_name, p.era AS persona_era,
              s.id AS subscription_id, s.enabled, s.send_time_local, s.timezone, s.context_note, s.language, s.next_run_at, s.paused_until,
              s.last_scheduled_local_date::text AS last_scheduled_local_date,
              (SELECT pr.streak_at_time FROM progress pr WHERE pr.subscription_id = s.id ORDER BY pr.created_at DESC LIMIT 1) AS streak,
              (SELECT max(l.sent_at) FROM letter l WHERE l.subscription_id = s.id) AS last_letter_at
         FROM topic t
         JOIN persona p ON p.id = t.persona_id
         LEFT JOIN subscription s ON s.topic_id = t.id AND s.user_id = $1
        WHERE t.active OR s.id IS NOT NULL
        ORDER BY t.name`,
      [userId],
    );
    return rows.map((r: Record<string, unknown>) => ({
      topic: topicOf(r),
      subscribed: r.subscription_id !== null,
      enabled: r.enabled === true,
      sendTime: (r.send_time_local as string | null) ?? DEFAULT_SEND_TIME,
      timezone: (r.timezone as string | null) ?? null,
      contextNote: (r.context_note as string | null) ?? null,
      language: (r.language as string | null) ?? DEFAULT_LANGUAGE,
      letterLanguage: llmConfigured(this.config) ? ((r.language as string | null) ?? DEFAULT_LANGUAGE) : DEFAULT_LANGUAGE,
      nextRunAt: (r.next_run_at as Date | null) ?? null,
      pausedUntil: (r.paused_until as Date | null) ?? null,
      streak: Number(r.streak ?? 0),
      lastLetterAt: (r.last_letter_at as Date | null) ?? null,
      lastScheduledLocalDate: (r.last_scheduled_local_date as string | null) ?? null,
    }));
  }

  /** Saves several topics at once: all or nothing. Unknown topics → 404 and nothing changes. */
  async save(userId: string, changes: (SubscriptionSettingsInput & { topic: string })[]): Promise<SubscriptionItem[]> {
    const cancelled = await this.ds.transaction(async (m) => {
      const ids: string[] = [];
      for (const c of changes) ids.push(...(await this.saveOne(m, userId, c)));
      return ids;
    });
    if (cancelled.length) await this.letters.removeQueuedJobs(cancelled);
    return this.list(userId);
  }

  /**
   * Applies a landing-page choice inside the transaction that consumes its login token
   * (docs/architecture.md §5), so it happens exactly once, for the token's own account. It only ever
   * adds: a topic already on keeps its time, zone, note and pause (someone who signs in again from
   * the landing page must not have their settings rewritten by a form's defaults); a topic they had
   * switched off comes back on at the chosen time and zone; topics not chosen are not touched.
   */
  async applySignupChoice(m: EntityManager, userId: string, choice: SignupChoiceInput): Promise<SignupApplied> {
    const applied: SignupApplied = { subscribed: [], resumed: [], kept: [], unavailable: [] };
    for (const code of choice.topics) {
      const [topic] = await m.query(`SELECT id FROM topic WHERE code = $1 AND active`, [code]);
      if (!topic) {
        applied.unavailable.push(code);
        continue;
      }
      // The WHERE leaves an enabled subscription alone (no row back); xmax = 0 tells an insert from an update.
      const [row] = await m.query(
        `INSERT INTO subscription (user_id, topic_id, enabled, send_time_local, timezone)
         VALUES ($1, $2, true, $3, $4)
         ON CONFLICT (user_id, topic_id) DO UPDATE SET
           enabled = true, send_time_local = EXCLUDED.send_time_local, timezone = EXCLUDED.timezone, updated_at = now()
         WHERE NOT subscription.enabled
         RETURNING id, (xmax = 0) AS inserted`,
        [userId, topic.id, choice.sendTime, choice.timezone],
      );
      if (!row) {
        applied.kept.push(code);
        continue;
      }
      await this.letters.applySubscriptionChange(m, row.id, this.clock.now());
      (row.inserted ? applied.subscribed : applied.resumed).push(code);
    }
    return applied;
  }

  private async saveOne(m: EntityManager, userId: string, c: SubscriptionSettingsInput & { topic: string }): Promise<string[]> {
    // An inactive topic can still be changed (e.g. switched off) by someone already on it, never joined.
    const [topic] = await m.query(
      `SELECT t.id FROM topic t WHERE t.code = $1
          AND (t.active OR EXISTS (SELECT 1 FROM subscription s WHERE s.topic_id = t.id AND s.user_id = $2))`,
      [c.topic, userId],
    );
    if (!topic) throw new NotFoundException(`Unknown topic "${c.topic}"`);
    const keepNote = c.contextNote === undefined;
    const note = c.contextNote ? c.contextNote : null;
    const [row] = await m.query(
      `INSERT INTO subscription (user_id, topic_id, enabled, send_time_local, timezone, context_note, language)
       VALUES ($1, $2, $3, $4, $5, $6, coalesce($8, '${DEFAULT_LANGUAGE}'))
       ON CONFLICT (user_id, topic_id) DO UPDATE SET
         enabled = EXCLUDED.enabled,
         send_time_local = EXCLUDED.send_time_local,
         timezone = EXCLUDED.timezone,
         context_note = CASE WHEN $7 THEN subscription.context_note ELSE EXCLUDED.context_note END,
         language = coalesce($8, subscription.language),
         updated_at = now()
       RETURNING id`,
      // language: canonical already (LanguageTag); omitted → kept, or English for a new subscription.
      [userId, topic.id, c.enabled, c.sendTime, c.timezone, keepNote ? null : note, keepNote, c.language ?? null],
    );
    const change = await this.letters.applySubscriptionChange(m, row.id, this.clock.now());
    return change.cancelledLetterIds;
  }
}

function topicOf(r: Record<string, unknown>): TopicSummary {
  return {
    code: r.code as string,
    name: r.name as string,
    description: r.description as string,
    persona: { name: r.persona_name as string, era: r.persona_era as string },
  };
}
