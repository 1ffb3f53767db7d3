import { createReplayProvider } from './replay.js';
import type { ModelProvider } from './types.js';

export type ModelSpec = { provider: string; model: string };

const PROVIDERS: Record<string, () => ModelProvider> = {
  replay: createReplayProvider,
};

/** Parses `provider:model` (or the bare `replay`) and checks the provider exists. */
export function parseModelSpec(spec: string): ({ ok: true } & ModelSpec) | { ok: false; message: string } {
  const [provider, ...rest] = spec.split(':');
  const model = rest.join(':');
  if (provider === 'replay') return { ok: true, provider: 'replay', model: 'replay' };
  if (!provider || !model) return { ok: false, message: `expected provider:model or replay, got "${spec}"` };
  if (!(provider in PROVIDERS)) {
    return {
      ok: false,
      message: `model provider "${provider}" is not available in this version (available: ${Object.keys(PROVIDERS).join(', ')})`,
    };
  }
  return { ok: true, provider, model };
}

export function createProvider(provider: string): ModelProvider {
  const make = PROVIDERS[provider];
  if (!make) throw new Error(`unknown provider ${provider}`);
  return make();
}
