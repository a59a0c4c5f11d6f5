import type { LlmPrice } from '@mz/contracts';

/**
 * List prices in USD per 1M tokens for common models (input, cached input, output), as their
 * providers published them. Operators override or extend them with LLM_PRICES (a JSON object
 * keyed by model); a model found in neither has no cost (null), and the console says so rather
 * than show a made-up figure. Batch prices are half of these where a provider offers batches.
 */
export const DEFAULT_LLM_PRICES: Readonly<Record<string, LlmPrice>> = Object.freeze({
  'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
  'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
  'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
  'gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4 },
  'gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2 },
  'gpt-5': { input: 1.25, cached_input: 0.125, output: 10 },
  'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
});

/**
 * The price of `model`: an exact key first, else the longest key the model name starts with
 * followed by a separator ("gpt-4o-mini-2024-07-18" → "gpt-4o-mini"; never "gpt-4o" for
 * "gpt-4o-mini"). Configured prices win over the defaults.
 */
export function priceFor(model: string, configured: Readonly<Record<string, LlmPrice>> = {}): LlmPrice | null {
  const name = model.trim().toLowerCase();
  for (const table of [configured, DEFAULT_LLM_PRICES]) {
    const keys = Object.keys(table).map((k) => [k, k.toLowerCase()] as const);
    const exact = keys.find(([, k]) => k === name);
    if (exact) return table[exact[0]];
    const prefix = keys
      .filter(([, k]) => name.startsWith(k) && /[-:@/_.]/.test(name.charAt(k.length)))
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (prefix) return table[prefix[0]];
  }
  return null;
}

export interface TokenUsage {
  promptTokens: number;
  /** Of promptTokens, how many the provider served from its prompt cache. */
  cachedTokens: number;
  completionTokens: number;
}

/**
 * USD for one call: uncached input, cached input and output at their own prices. `discount` is the
 * share taken off for a Batch API call (LLM_BATCH_DISCOUNT, 0.5 = half price); 0 for a synchronous one.
 */
export function costUsd(usage: TokenUsage, price: LlmPrice, discount = 0): number {
  const cached = Math.min(Math.max(0, usage.cachedTokens), Math.max(0, usage.promptTokens));
  const uncached = Math.max(0, usage.promptTokens) - cached;
  const list = (uncached * price.input + cached * price.cached_input + Math.max(0, usage.completionTokens) * price.output) / 1_000_000;
  return list * (1 - Math.min(1, Math.max(0, discount)));
}
