import { createAnthropicProvider } from './anthropic.js';
import { createOpenAIProvider } from './openai.js';
import { createReplayProvider } from './replay.js';
import type { ModelProvider } from './types.js';

export const PROVIDERS = ['replay', 'openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export type ModelSpec = { provider: ProviderName; model: string };

/** Parses `provider:model` (or the bare `replay`) and checks the provider exists. */
export function parseModelSpec(spec: string): ({ ok: true } & ModelSpec) | { ok: false; message: string } {
  if (spec === 'replay') return { ok: true, provider: 'replay', model: 'replay' };
  const at = spec.indexOf(':');
  const provider = spec.slice(0, at);
  const model = spec.slice(at + 1);
  if (at < 1 || !model) return { ok: false, message: `expected provider:model (${PROVIDERS.slice(1).join(', ')}) or replay, got "${spec}"` };
  if (!(PROVIDERS as readonly string[]).includes(provider) || provider === 'replay') {
    return { ok: false, message: `unknown model provider "${provider}" (available: ${PROVIDERS.slice(1).join(', ')}, or replay)` };
  }
  return { ok: true, provider: provider as ProviderName, model };
}

export interface ProviderDeps {
  /** The transport's fetch for this provider. */
  fetch: typeof fetch;
  apiKey?: string;
  baseURL?: string;
}

export function createProvider(provider: ProviderName, deps: ProviderDeps): ModelProvider {
  switch (provider) {
    case 'replay':
      return createReplayProvider();
    case 'openai':
      return createOpenAIProvider(deps);
    case 'anthropic':
      return createAnthropicProvider(deps);
  }
}

/** The environment variable holding each provider's key. */
export const API_KEY_ENV: Record<Exclude<ProviderName, 'replay'>, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};
