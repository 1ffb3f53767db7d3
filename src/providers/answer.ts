import { fromAnthropicResponse } from './anthropic.js';
import { fromOpenAIResponse, fromOpenAIResponsesResponse } from './openai.js';
import { callerWantsUsage, collectStream, streamKind, withoutUsageChunk } from './stream.js';
import type { ModelResponse } from './types.js';

/** What a model answer is recorded as, and the body its caller gets. */
export interface ModelAnswer {
  parsed: Omit<ModelResponse, 'latencyMs' | 'servedFrom'>;
  /** The answer as the caller asked for it: a Chat Completions stream loses the usage chunk it did not ask for. */
  body: string;
}

/**
 * Reads a successful answer from any inference endpoint the SDKs call, streamed or not:
 * Chat Completions, Responses and Messages in full (text, tool calls, usage); any other
 * (embeddings, legacy completions) for its model and usage, so that it is priced and
 * budgeted like the rest. `sent` is the request body as the caller wrote it. Pure.
 */
export function readModelAnswer(url: string, sent: unknown, text: string): ModelAnswer {
  const kind = streamKind(url, sent);
  const body = kind ? collectStream(kind, text) : parseJson(text);
  const path = new URL(url).pathname;
  const parsed = path.endsWith('/chat/completions')
    ? fromOpenAIResponse(body)
    : path.endsWith('/responses')
      ? fromOpenAIResponsesResponse(body)
      : path.endsWith('/messages')
        ? fromAnthropicResponse(body)
        : usageOnly(body);
  return { parsed, body: kind === 'chat' && !callerWantsUsage(sent) ? withoutUsageChunk(text) : text };
}

function usageOnly(body: unknown): ModelAnswer['parsed'] {
  const { model, usage } = (body ?? {}) as { model?: unknown; usage?: Record<string, unknown> };
  const count = (...names: string[]) => names.map((n) => usage?.[n]).find((v): v is number => typeof v === 'number');
  const input = count('prompt_tokens', 'input_tokens');
  const output = count('completion_tokens', 'output_tokens') ?? 0;
  return {
    model: typeof model === 'string' ? model : 'unknown',
    toolCalls: [],
    ...(input !== undefined ? { usage: { inputTokens: input, outputTokens: output } } : {}),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
