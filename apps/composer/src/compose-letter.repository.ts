import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type AppConfig, canonicalLanguage, DEFAULT_LANGUAGE, type FailureClass, type LetterKind, type ResponseLength, temperatureFor } from '@mz/contracts';
import { AppConfigRepository, type ComposedFields, LetterRepository } from '@mz/db';
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
  /** A batch request was stored for it (read in the claim, so most letters cost no extra query). */
  hasBatchItem?: boolean;
}

export type { ComposedFields } from '@mz/db';

export interface PromptLog { messages: ChatMessage[]; response: string | null }

/** The claim's result: the letter, now `composing` and ours, with its prompt context. */
export interface Claimed {
  letter: ClaimedLetter;
  /** Null when the subscription, user, topic or persona row is missing (the letter is still claimed). */
  context: (ComposeContext & { active: boolean }) | null;
}

/** How long app_config's composer toggles are reused before they are read again. */
export const SETTINGS_TTL_MS = 5_000;

/**
 * What the composer reads and writes, in its own terms: the claim and the compose transitions
 * (LetterRepository, where every letter transition lives), the prompt context mapped to
 * ComposeContext, the console's preview topic and the runtime toggles (AppConfigRepository).
 */
@Injectable()
export class ComposeLetterRepository {
  /**
   * loadSettings() reuses what it read for SETTINGS_TTL_MS: a console change to log_prompts or the
   * token prices reaches new letters within that (tests that flip app_config set ttlMs to 0).
   */
  readonly settingsCache = new ReadCache(() => this.readSettings(), SETTINGS_TTL_MS);

  constructor(
    private readonly ds: DataSource,
    private readonly letters: LetterRepository,
    private readonly appConfig: AppConfigRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * scheduled, or retrying without a body (a compose retry) → composing with a lease, plus its
   * context. Null: no claimable row, nothing done.
   */
  async claim(letterId: string): Promise<Claimed | null> {
    const r = await this.letters.claimForCompose(letterId, this.config.LEASE_MS);
    if (!r) return null;
    const letter: ClaimedLetter = {
      id: r.id as string,
      subscriptionId: r.subscription_id as string,
      userId: r.user_id as string,
      topicId: r.topic_id as string,
      kind: r.kind as LetterKind,
      scheduledFor: new Date(r.scheduled_for as string | Date),
      localDate: r.local_date as string,
      hasBatchItem: r.has_batch_item === true,
    };
    if (r.has_context !== true) return { letter, context: null };
    return {
      letter,
      context: {
        active: r.active === true,
        letter: { ...letter },
        reader: {
          name: (r.user_name as string | null) ?? null,
          contextNote: (r.context_note as string | null) ?? null,
          // Validated at the API; a row that is somehow not a tag is read as English, never sent to the model as is.
          language: canonicalLanguage(r.language ?? '') ?? DEFAULT_LANGUAGE,
        },
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
    const s = await this.appConfig.settings();
    return { logPrompts: s.log_prompts, offlineFallback: s.llm_offline_fallback, batchCompose: s.llm_batch_compose, batchExcludedTopics: s.llm_batch_excluded_topics };
  }

  /**
   * `requestedLanguage`: the subscription's language when the letter is in another (the offline
   * composer writes English only): kept in LETTER_COMPOSED's metadata so the fallback is visible.
   */
  markComposed(letter: ClaimedLetter, f: ComposedFields & { requestedLanguage?: string }, prompt: PromptLog | null): Promise<boolean> {
    const metadata = {
      model: f.model, promptVersion: f.promptVersion, composeMs: f.composeMs, promptTokens: f.promptTokens, completionTokens: f.completionTokens,
      ...(f.costUsd !== null ? { cachedTokens: f.cachedTokens, costUsd: f.costUsd } : {}),
      ...(f.fallbackReason ? { fallbackReason: f.fallbackReason, llmError: f.fallbackError } : {}),
      language: f.language,
      ...(f.requestedLanguage && f.requestedLanguage !== f.language ? { requestedLanguage: f.requestedLanguage } : {}),
    };
    return this.letters.markComposed(letter.id, f, metadata, prompt);
  }

  /** Waiting for a batch answer: back to `scheduled` until `deadline` (docs/architecture.md §7). */
  releaseForBatch(letter: ClaimedLetter, deadline: Date): Promise<boolean> {
    return this.letters.releaseForBatch(letter.id, deadline);
  }

  markRetrying(letterId: string, cls: FailureClass, lastError: string, nextRetryAt: Date, prompt: PromptLog | null): Promise<boolean> {
    return this.letters.markComposeRetrying(letterId, cls, lastError, nextRetryAt, prompt);
  }

  markFailed(letter: ClaimedLetter, cls: FailureClass, lastError: string, attempt: number, prompt: PromptLog | null): Promise<boolean> {
    return this.letters.markComposeFailed(letter.id, cls, lastError, { stage: 'compose', errorType: cls, attempt, error: lastError }, prompt);
  }

  /** The subscription went away (disabled, user suspended/deleted) after the letter was scheduled. */
  markCancelled(letter: ClaimedLetter, reason: string): Promise<boolean> {
    return this.letters.markComposeCancelled(letter.id, reason);
  }
}

/**
 * The effective voice of a topic: its creativity and length (the topic's, else its persona's),
 * and the temperature — the topic's explicit override, else what the creativity maps to.
 */
export function voiceSettings(temperatureOverride: number | null, creativity: number, responseLength: ResponseLength) {
  return { temperature: temperatureOverride ?? temperatureFor(creativity), creativity, responseLength };
}
