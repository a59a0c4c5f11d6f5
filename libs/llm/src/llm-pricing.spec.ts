import { costUsd, DEFAULT_LLM_PRICES, priceFor } from './llm-pricing';

describe('priceFor', () => {
  it('finds a model exactly, or by its dated/suffixed name, never a shorter sibling', () => {
    expect(priceFor('gpt-4o-mini')).toBe(DEFAULT_LLM_PRICES['gpt-4o-mini']);
    expect(priceFor('gpt-4o-mini-2024-07-18')).toBe(DEFAULT_LLM_PRICES['gpt-4o-mini']);
    expect(priceFor('GPT-4o')).toBe(DEFAULT_LLM_PRICES['gpt-4o']);
    expect(priceFor('gpt-4o-2024-08-06')).toBe(DEFAULT_LLM_PRICES['gpt-4o']);
    // the longest key wins, and only when a separator follows it
    expect(priceFor('gpt-4o-mini-high')).toBe(DEFAULT_LLM_PRICES['gpt-4o-mini']);
    expect(priceFor('gpt-4oz')).toBeNull();
    expect(priceFor('qwen2.5:7b')).toBeNull();
  });

  it('configured prices win over the defaults and add models', () => {
    const configured = { 'gpt-4o-mini': { input: 1, cached_input: 0.5, output: 2 }, 'qwen2.5': { input: 0, cached_input: 0, output: 0 } };
    expect(priceFor('gpt-4o-mini-2024-07-18', configured)).toEqual(configured['gpt-4o-mini']);
    expect(priceFor('qwen2.5:7b', configured)).toEqual(configured['qwen2.5']);
    expect(priceFor('gpt-4o', configured)).toBe(DEFAULT_LLM_PRICES['gpt-4o']);
  });
});

describe('costUsd', () => {
  const price = { input: 0.4, cached_input: 0.1, output: 1.6 };

  it('bills uncached input, cached input and output each at its own price per 1M tokens', () => {
    expect(costUsd({ promptTokens: 2000, cachedTokens: 1024, completionTokens: 500 }, price)).toBeCloseTo((976 * 0.4 + 1024 * 0.1 + 500 * 1.6) / 1e6, 12);
    expect(costUsd({ promptTokens: 1_000_000, cachedTokens: 0, completionTokens: 0 }, price)).toBeCloseTo(0.4, 12);
  });

  it('never bills more cached tokens than prompt tokens, nor negative counts', () => {
    expect(costUsd({ promptTokens: 100, cachedTokens: 500, completionTokens: -3 }, price)).toBeCloseTo((100 * 0.1) / 1e6, 12);
  });

  it('takes the Batch API discount off the whole call (LLM_BATCH_DISCOUNT), clamped to 0..1', () => {
    const usage = { promptTokens: 2000, cachedTokens: 1024, completionTokens: 500 };
    const list = costUsd(usage, price);
    expect(costUsd(usage, price, 0.5)).toBeCloseTo(list / 2, 12);
    expect(costUsd(usage, price, 0)).toBeCloseTo(list, 12);
    expect(costUsd(usage, price, 2)).toBe(0);
    expect(costUsd(usage, price, -1)).toBeCloseTo(list, 12);
  });
});
