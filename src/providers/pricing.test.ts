import { describe, expect, it } from 'vitest';
import { costOf, priceOf, PRICING_TABLE } from './pricing.js';

describe('priceOf', () => {
  it('falls back from a dated or pinned name to the undated one, and from no other prefix', () => {
    expect(priceOf('gpt-4.1-mini-2025-04-14')).toBe(PRICING_TABLE.models['gpt-4.1-mini']);
    expect(priceOf('openai:gpt-4o-2024-08-06')).toBe(PRICING_TABLE.models['gpt-4o']);
    expect(priceOf('claude-haiku-4-5-20251001')).toBe(PRICING_TABLE.models['claude-haiku-4-5']);
    expect(priceOf('o3-pro')).toBeUndefined(); // not priced like o3
    expect(priceOf('gpt-5-nano')).toBeUndefined(); // not priced like gpt-5
  });

  it('takes a suite override first, keeping a name with a colon of its own', () => {
    const local = { input: 0, output: 0 };
    expect(priceOf('openai:llama3.1:8b', { 'llama3.1:8b': local })).toBe(local);
    expect(priceOf('gpt-4.1', { 'gpt-4.1': local })).toBe(local);
  });
});

describe('costOf', () => {
  it('prices fresh, cached and cache-write input apart', () => {
    // 1000 input of which 400 cached and 100 written: 500·3 + 400·0.3 + 100·3.75 + 200·15 = 1500 + 120 + 375 + 3000 = 4995 per million
    expect(costOf({ inputTokens: 1000, cachedInputTokens: 400, cacheWriteInputTokens: 100, outputTokens: 200 }, { input: 3, output: 15, cachedInput: 0.3 })).toBeCloseTo(0.004995, 12);
  });
});
