import { z } from 'zod';

/**
 * The runtime toggles in `app_config` (docs/architecture.md §5): one schema for the console that
 * writes them and the services that read them. A value an admin may set is validated strictly on
 * write; a reader falls back to the default for a missing or malformed row, so a bad row never
 * stops a letter.
 */
export const RUNTIME_SETTINGS = {
  /** Keep each letter's prompt and raw LLM answer (letter_prompt) for the console. */
  log_prompts: { schema: z.boolean(), default: false },
  /** Hold every send: letters wait, composed, until it is switched off. */
  sending_paused: { schema: z.boolean(), default: false },
  /** An unsubscribe read from a reply below this confidence is kept as a note and flagged for review. */
  unsubscribe_confidence: { schema: z.number().min(0.5).max(1), default: 0.85 },
  /** When the LLM fails for good, may the offline composer write the letter instead? */
  llm_offline_fallback: { schema: z.boolean(), default: true },
  /**
   * Compose letters whose slot is further than LLM_BATCH_MARGIN away through the provider's Batch
   * API, at its lower price (docs/architecture.md §7); the scheduler then creates letters
   * COMPOSE_LEAD_BATCH ahead. Off: every letter is composed synchronously, as before.
   */
  llm_batch_compose: { schema: z.boolean(), default: false },
  /** Topic codes whose letters are never batched (always composed synchronously), while batch composing is on. */
  llm_batch_excluded_topics: { schema: z.array(z.string().min(1).max(100)).max(500), default: [] as string[] },
} as const;

export type RuntimeSettingKey = keyof typeof RUNTIME_SETTINGS;
export type RuntimeSettings = { [K in RuntimeSettingKey]: z.infer<(typeof RUNTIME_SETTINGS)[K]['schema']> };
export const RUNTIME_SETTING_KEYS = Object.keys(RUNTIME_SETTINGS) as RuntimeSettingKey[];

export function isRuntimeSettingKey(key: string): key is RuntimeSettingKey {
  return Object.prototype.hasOwnProperty.call(RUNTIME_SETTINGS, key);
}

/** Stored rows → typed settings; each missing or malformed value becomes its default. */
export function parseRuntimeSettings(rows: readonly { key: string; value: unknown }[]): RuntimeSettings {
  const out: Record<string, unknown> = {};
  for (const key of RUNTIME_SETTING_KEYS) out[key] = RUNTIME_SETTINGS[key].default;
  for (const r of rows) {
    if (!isRuntimeSettingKey(r.key)) continue;
    const parsed = RUNTIME_SETTINGS[r.key].schema.safeParse(r.value);
    if (parsed.success) out[r.key] = parsed.data;
  }
  return out as RuntimeSettings;
}
