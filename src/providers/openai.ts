import type { ChatMessage, ModelParams, ModelProvider, ModelRequest, ModelResponse, ModelToolCall } from './types.js';
import { answerSource, createOpenAIClient, type SdkClientOptions } from './sdk.js';
import { TRIAL_HEADER } from './transport.js';
import type { Usage } from '../trace/schema.js';

/** The Chat Completions request body for a provider-neutral request. Pure. */
export function toOpenAIRequest(request: ModelRequest): Record<string, unknown> {
  return {
    model: request.model,
    messages: request.messages.map(toOpenAIMessage),
    ...(request.tools.length > 0
      ? { tools: request.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })) }
      : {}),
    ...openAIParams(request.params),
  };
}

function openAIParams(p: ModelParams = {}): Record<string, unknown> {
  return {
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.topP !== undefined ? { top_p: p.topP } : {}),
    ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
  };
}

function toOpenAIMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content ?? null,
        ...(m.toolCalls?.length
          ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } })) }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}

interface OpenAICompletion {
  model: string;
  choices: { message: { content?: string | null; tool_calls?: { id: string; type?: string; function?: { name: string; arguments: string } }[] | null } }[];
  usage?: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
}

/** A provider-neutral response from a Chat Completions answer; malformed tool arguments are kept, not thrown. Pure. */
export function fromOpenAIResponse(data: unknown): Omit<ModelResponse, 'latencyMs' | 'servedFrom'> {
  const c = data as OpenAICompletion;
  const message = c.choices?.[0]?.message ?? {};
  const toolCalls: ModelToolCall[] = (message.tool_calls ?? []).flatMap((call) => {
    if (!call.function) return [];
    const parsed = parseArguments(call.function.arguments);
    return [{ id: call.id, name: call.function.name, ...parsed }];
  });
  return {
    model: c.model,
    ...(message.content ? { text: message.content } : {}),
    toolCalls,
    ...usageOf(c.usage),
  };
}

function usageOf(u: OpenAICompletion['usage']): { usage?: Usage } {
  if (typeof u?.prompt_tokens !== 'number') return {}; // a server that reports no usage is not made to cost nothing
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return { usage: { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens ?? 0, ...(cached ? { cachedInputTokens: cached } : {}) } };
}

export function parseArguments(raw: string): { args: Record<string, unknown>; invalidArguments?: string } {
  try {
    const value: unknown = JSON.parse(raw === '' ? '{}' : raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return { args: value as Record<string, unknown> };
  } catch {
    // fall through: kept as invalid below
  }
  return { args: {}, invalidArguments: raw };
}

/** OpenAI Chat Completions, or any OpenAI-compatible server through `baseURL`, on the official SDK. */
export function createOpenAIProvider(options: SdkClientOptions): ModelProvider {
  let client: ReturnType<typeof createOpenAIClient> | undefined;
  return {
    id: 'openai',
    async complete(request, context) {
      client ??= createOpenAIClient(options);
      const started = performance.now();
      const body = toOpenAIRequest(request) as unknown as import('openai').OpenAI.ChatCompletionCreateParamsNonStreaming;
      const { data, response } = await client.chat.completions
        .create(body, { headers: { [TRIAL_HEADER]: String(request.trial) }, signal: context.signal })
        .withResponse();
      return { ...fromOpenAIResponse(data), ...answerSource(response, performance.now() - started) };
    },
  };
}

interface OpenAIResponsesBody {
  model?: unknown;
  output?: ({ type: 'message'; content?: { type: string; text?: string }[] } | { type: 'function_call'; call_id: string; name: string; arguments: string } | { type: string })[];
  usage?: { input_tokens?: number; output_tokens?: number; input_tokens_details?: { cached_tokens?: number } | null } | null;
}

/** A provider-neutral response from a Responses API answer: its output text, function calls and usage. Pure. */
export function fromOpenAIResponsesResponse(data: unknown): Omit<ModelResponse, 'latencyMs' | 'servedFrom'> {
  const r = (data ?? {}) as OpenAIResponsesBody;
  const output = Array.isArray(r.output) ? r.output : [];
  const text = output
    .flatMap((item) => (item.type === 'message' ? ((item as { content?: { type: string; text?: string }[] }).content ?? []) : []))
    .flatMap((part) => (part.type === 'output_text' && typeof part.text === 'string' ? [part.text] : []))
    .join('');
  const toolCalls: ModelToolCall[] = output.flatMap((item) => {
    if (item.type !== 'function_call') return [];
    const call = item as { call_id: string; name: string; arguments: string };
    return [{ id: call.call_id, name: call.name, ...parseArguments(call.arguments ?? '') }];
  });
  const u = r.usage;
  const cached = u?.input_tokens_details?.cached_tokens ?? 0;
  return {
    model: typeof r.model === 'string' ? r.model : 'unknown',
    ...(text ? { text } : {}),
    toolCalls,
    ...(typeof u?.input_tokens === 'number'
      ? { usage: { inputTokens: u.input_tokens, outputTokens: u.output_tokens ?? 0, ...(cached ? { cachedInputTokens: cached } : {}) } }
      : {}),
  };
}
