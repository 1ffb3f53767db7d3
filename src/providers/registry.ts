import { createAnthropicProvider } from './anthropic.js';
import { createOpenAIProvider } from './openai.js';
import type { SdkClientOptions } from './sdk.js';
import { createReplayProvider } from './replay.js';
import type { ModelProvider } from './types.js';

/** The providers that call an API (`replay` needs none). */
export const API_PROVIDERS = ['openai', 'anthropic'] as const;
export type ApiProvider = (typeof API_PROVIDERS)[number];
export type ProviderName = 'replay' | ApiProvider;
export type ModelSpec = { provider: ProviderName; model: string };

/** Parses `provider:model` (or the bare `replay`) and checks the provider exists. */
export function parseModelSpec(spec: string): ({ ok: true } & ModelSpec) | { ok: false; message: string } {
  if (spec === 'replay') return { ok: true, provider: 'replay', model: 'replay' };
  const at = spec.indexOf(':');
  const provider = spec.slice(0, at);
  const model = spec.slice(at + 1);
  if (at < 1 || !model) return { ok: false, message: `expected provider:model (${API_PROVIDERS.join(', ')}) or replay, got "${spec}"` };
  if (!(API_PROVIDERS as readonly string[]).includes(provider)) {
    return { ok: false, message: `unknown model provider "${provider}" (available: ${API_PROVIDERS.join(', ')}, or replay)` };
  }
  return { ok: true, provider: provider as ApiProvider, model };
}

/** A provider for a parsed model spec; an API provider talks through the transport's fetch. */
export function createProvider(provider: ProviderName, deps: () => SdkClientOptions): ModelProvider {
  switch (provider) {
    case 'replay':
      return createReplayProvider();
    case 'openai':
      return createOpenAIProvider(deps());
    case 'anthropic':
      return createAnthropicProvider(deps());
  }
}

/** The environment variable holding each provider's key. */
export const API_KEY_ENV: Record<ApiProvider, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

/** Each provider's own API, as its SDK reaches it by default. */
export const OPENAI_API_BASE = 'https://api.openai.com/v1';
export const ANTHROPIC_API_BASE = 'https://api.anthropic.com';
