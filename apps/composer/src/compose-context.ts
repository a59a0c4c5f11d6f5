import type { LetterKind, ResponseLength } from '@mz/contracts';

/** One active version of a topic's prompt (several active → weighted A/B choice). */
export interface PromptVersion {
  id: string;
  version: number;
  systemTemplate: string;
  userTemplate: string;
  weight: number;
}

/** What an earlier letter of the same subscription was about (newest first in the context). */
export interface RecentLetter {
  localDate: string;
  subject: string | null;
  summary: string | null;
  themes: string[];
  variationTags: string[];
  /** The beginning of its body (the quality guard keeps a new letter from opening the same way). */
  opening: string | null;
}

/** Everything the composer needs to write one letter, loaded in one query (compose-letter.repository). */
export interface ComposeContext {
  letter: { id: string; subscriptionId: string; userId: string; topicId: string; kind: LetterKind; scheduledFor: Date; localDate: string };
  /**
   * Reader-provided text: data for the model, never instructions. `language`: the subscription's
   * canonical BCP 47 tag, validated at the API — the letter is written in it (offline: English).
   */
  reader: { name: string | null; contextNote: string | null; language: string };
  topic: {
    id: string; code: string; name: string; description: string; model: string | null;
    temperature: number; responseLength: ResponseLength; creativity: number;
  };
  /** `instructions`: the editor's extra instructions (the topic's when it overrides them; '' none). */
  persona: { name: string; era: string; styleNotes: string; instructions: string };
  /** Active versions of the topic's prompt, lowest version first. */
  prompts: PromptVersion[];
  /** Consecutive most recent letters the reader marked done. */
  streak: number;
  /** 1 for the first letter of this subscription. */
  letterNumber: number;
  /** The reader's recent reply notes, newest first (reader text). */
  recentNotes: string[];
  recentLetters: RecentLetter[];
}

/** Runtime toggles from app_config that the composer reads per letter. */
export interface ComposerSettings {
  logPrompts: boolean;
  /** app_config llm_offline_fallback: may the offline composer stand in when the LLM fails? */
  offlineFallback: boolean;
  /** app_config llm_batch_compose: may letters far from their slot go through the Batch API (docs/architecture.md §7)? */
  batchCompose: boolean;
  /** app_config llm_batch_excluded_topics: topic codes never batched. */
  batchExcludedTopics: readonly string[];
}
