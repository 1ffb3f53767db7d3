import type { Usage } from '../trace/schema.js';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Price of cached input tokens. @default input */
  cachedInput?: number;
  /** Price of input tokens written to the prompt cache. @default 1.25 × input, Anthropic's five-minute cache write */
  cacheWrite?: number;
}

/**
 * The bundled pricing table: list prices per million tokens as the providers
 * publish them, as of `version`. Suites override or extend it under `pricing:`.
 */
export const PRICING_TABLE = {
  version: '2026-11-01',
  models: {
    'gpt-4.1': { input: 2.0, output: 8.0, cachedInput: 0.5 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
    'gpt-4o': { input: 2.5, output: 10.0, cachedInput: 1.25 },
    'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
    'o3': { input: 2.0, output: 8.0, cachedInput: 0.5 },
    'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
    'gpt-5': { input: 1.25, output: 10.0, cachedInput: 0.125 },
    'gpt-5-mini': { input: 0.25, output: 2.0, cachedInput: 0.025 },
    'claude-opus-4-1': { input: 15.0, output: 75.0, cachedInput: 1.5 },
    'claude-sonnet-4': { input: 3.0, output: 15.0, cachedInput: 0.3 },
    'claude-sonnet-4-5': { input: 3.0, output: 15.0, cachedInput: 0.3 },
    'claude-haiku-4-5': { input: 1.0, output: 5.0, cachedInput: 0.1 },
    'claude-3-5-haiku': { input: 0.8, output: 4.0, cachedInput: 0.08 },
  } satisfies Record<string, Price>,
} as const;

/**
 * The price of a model: an override first, then the bundled table. A dated or
 * pinned name (`gpt-4.1-mini-2025-04-14`, `claude-haiku-4-5-20251001`, `…-latest`)
 * falls back to its undated name; no other prefix is taken, since `o3-pro` is not
 * priced like `o3`. A `provider:` prefix is dropped; the rest of the name (an
 * Ollama `llama3.1:8b`) is kept. Returns undefined for a model nobody priced.
 */
export function priceOf(model: string, overrides: Record<string, Price> = {}): Price | undefined {
  const name = model.replace(/^(openai|anthropic):/, '');
  const undated = name.replace(/-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$/, '');
  for (const candidate of [name, undated]) {
    const price = overrides[candidate] ?? (PRICING_TABLE.models as Record<string, Price>)[candidate];
    if (price) return price;
  }
  return undefined;
}

/** Cost in USD of one call's usage. `inputTokens` includes the cached and cache-write ones. */
export function costOf(usage: Usage, price: Price): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const written = Math.min(usage.cacheWriteInputTokens ?? 0, usage.inputTokens - cached);
  const fresh = usage.inputTokens - cached - written;
  return (
    (fresh * price.input +
      cached * (price.cachedInput ?? price.input) +
      written * (price.cacheWrite ?? price.input * 1.25) +
      usage.outputTokens * price.output) /
    1e6
  );
}
