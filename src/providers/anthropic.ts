import type { ChatMessage, ModelProvider, ModelRequest, ModelResponse, ModelToolCall } from './types.js';
import { answerSource, createAnthropicClient, type SdkClientOptions } from './sdk.js';
import { TRIAL_HEADER } from './transport.js';
import type { Usage } from '../trace/schema.js';

/** Anthropic requires max_tokens; this is used when the suite sets none. */
export const DEFAULT_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;

/** The Messages API request body for a provider-neutral request. Pure. */
export function toAnthropicRequest(request: ModelRequest): Record<string, unknown> {
  const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n\n');
  const messages: { role: 'user' | 'assistant'; content: string | Block[] }[] = [];
  for (const m of request.messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      // Tool results go back as tool_result blocks of one user message.
      const block = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.content };
      const last = messages.at(-1);
      if (last?.role === 'user' && Array.isArray(last.content) && last.content.every((b) => b.type === 'tool_result')) last.content.push(block);
      else messages.push({ role: 'user', content: [block] });
      continue;
    }
    messages.push(toAnthropicMessage(m));
  }
  const p = request.params ?? {};
  return {
    model: request.model,
    max_tokens: p.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(system ? { system } : {}),
    messages,
    ...(request.tools.length > 0
      ? { tools: request.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters })) }
      : {}),
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.topP !== undefined ? { top_p: p.topP } : {}),
  };
}

function toAnthropicMessage(m: Exclude<ChatMessage, { role: 'system' | 'tool' }>): { role: 'user' | 'assistant'; content: string | Block[] } {
  if (m.role === 'user') return { role: 'user', content: m.content };
  const blocks: Block[] = [];
  if (m.content) blocks.push({ type: 'text', text: m.content });
  for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args });
  return { role: 'assistant', content: blocks };
}

interface AnthropicMessage {
  model: string;
  content: ({ type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown } | { type: string })[];
  usage?: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens?: number | null;
    cache_creation_input_tokens?: number | null;
  };
}

/** A provider-neutral response from a Messages answer. Pure. */
export function fromAnthropicResponse(data: unknown): Omit<ModelResponse, 'latencyMs' | 'servedFrom'> {
  const m = data as AnthropicMessage;
  const text = m.content
    .flatMap((b) => (b.type === 'text' ? [(b as { text: string }).text] : []))
    .join('');
  const toolCalls: ModelToolCall[] = m.content.flatMap((b) => {
    if (b.type !== 'tool_use') return [];
    const { id, name, input } = b as { id: string; name: string; input: unknown };
    return input !== null && typeof input === 'object' && !Array.isArray(input)
      ? [{ id, name, args: input as Record<string, unknown> }]
      : [{ id, name, args: {}, invalidArguments: JSON.stringify(input) }];
  });
  return { model: m.model, ...(text ? { text } : {}), toolCalls, ...(m.usage ? { usage: anthropicUsage(m.usage) } : {}) };
}

/** Anthropic counts uncached input apart from cache reads and writes; our inputTokens is their sum. */
function anthropicUsage(u: NonNullable<AnthropicMessage['usage']>): Usage {
  const read = u.cache_read_input_tokens ?? 0;
  const written = u.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: u.input_tokens + read + written,
    outputTokens: u.output_tokens,
    ...(read ? { cachedInputTokens: read } : {}),
    ...(written ? { cacheWriteInputTokens: written } : {}),
  };
}

/** Anthropic Messages with tool_use / tool_result blocks, on the official SDK. */
export function createAnthropicProvider(options: SdkClientOptions): ModelProvider {
  let client: ReturnType<typeof createAnthropicClient> | undefined;
  return {
    id: 'anthropic',
    async complete(request, context) {
      client ??= createAnthropicClient(options);
      const started = performance.now();
      const body = toAnthropicRequest(request) as unknown as import('@anthropic-ai/sdk').Anthropic.MessageCreateParamsNonStreaming;
      const { data, response } = await client.messages
        .create(body, { headers: { [TRIAL_HEADER]: String(request.trial) }, signal: context.signal })
        .withResponse();
      return { ...fromAnthropicResponse(data), ...answerSource(response, performance.now() - started) };
    },
  };
}
