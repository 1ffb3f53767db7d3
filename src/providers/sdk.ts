import { createRequire } from 'node:module';
import { LATENCY_HEADER, NO_KEY, SOURCE_HEADER } from './transport.js';
import type { ModelResponse } from './types.js';

type OpenAIClient = import('openai').OpenAI;
type AnthropicClient = import('@anthropic-ai/sdk').Anthropic;

export interface SdkClientOptions {
  apiKey?: string;
  baseURL?: string;
  /** The transport's fetch: cache, cassette, rate limits and retries (so the SDK's own retries are off). */
  fetch: typeof fetch;
}

// The official SDKs, loaded on first use, synchronously (their CommonJS builds), so that a
// run that never calls a model does not load them.
const requireSdk = createRequire(import.meta.url);

export function createOpenAIClient(options: SdkClientOptions): OpenAIClient {
  const { OpenAI } = requireSdk('openai') as typeof import('openai');
  return new OpenAI({ apiKey: options.apiKey || NO_KEY, baseURL: options.baseURL, fetch: options.fetch, maxRetries: 0, timeout: 10 * 60_000 });
}

export function createAnthropicClient(options: SdkClientOptions): AnthropicClient {
  const { Anthropic } = requireSdk('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk');
  return new Anthropic({ apiKey: options.apiKey || NO_KEY, baseURL: options.baseURL, fetch: options.fetch, maxRetries: 0, timeout: 10 * 60_000 });
}

/**
 * Where an answer came from, and its latency as the transport measured it: the
 * provider's own time (not the wait for a rate-limit slot or a retry), or the
 * original one for an answer served from the cache or a cassette.
 */
export function answerSource(response: Response, measuredMs: number): Pick<ModelResponse, 'servedFrom' | 'latencyMs'> {
  const source = response.headers.get(SOURCE_HEADER);
  const header = response.headers.get(LATENCY_HEADER);
  const latencyMs = header !== null && Number.isFinite(Number(header)) ? Number(header) : measuredMs;
  return source === 'cache' || source === 'cassette' ? { servedFrom: source, latencyMs } : { latencyMs };
}
