/**
 * Streamed model answers (server-sent events) in the providers' own event shapes:
 * Chat Completions chunks, Responses events and Anthropic Messages events. A stream
 * is kept whole, as the SSE text the provider sent, in the cache and in cassettes, and
 * served again as a stream; for recording and pricing it is folded into the answer
 * the same request would have had without `stream: true`, which the existing parsers read.
 * Pure: no I/O.
 */

export type StreamKind = 'chat' | 'responses' | 'messages';

/** Which streamed API a request is, from its URL and body; undefined for a request that does not stream. */
export function streamKind(url: string, body: unknown): StreamKind | undefined {
  if ((body as { stream?: unknown } | null)?.stream !== true) return undefined;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  if (path.endsWith('/chat/completions')) return 'chat';
  if (path.endsWith('/responses')) return 'responses';
  if (path.endsWith('/messages')) return 'messages';
  return undefined;
}

/**
 * The request as it is forwarded: a streamed Chat Completions request asks for the final
 * usage chunk (`stream_options.include_usage`), without which a stream reports no tokens
 * and could not be priced or budgeted. The other streamed APIs always report usage.
 */
export function withStreamUsage(url: string, body: unknown): unknown {
  if (streamKind(url, body) !== 'chat') return body;
  const b = body as { stream_options?: Record<string, unknown> | null };
  if (b.stream_options?.include_usage === true) return body;
  return { ...b, stream_options: { ...(b.stream_options ?? {}), include_usage: true } };
}

/** Whether the caller asked for the usage chunk itself; if not, it is taken out of what the caller gets. */
export function callerWantsUsage(body: unknown): boolean {
  return (body as { stream_options?: { include_usage?: unknown } | null } | null)?.stream_options?.include_usage === true;
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** The events of an SSE body, by the spec's rules: fields per line, events split by blank lines, data lines joined. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | undefined;
  let data: string[] = [];
  const flush = () => {
    if (data.length > 0) events.push({ ...(event !== undefined ? { event } : {}), data: data.join('\n') });
    event = undefined;
    data = [];
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  flush();
  return events;
}

function jsonOf(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A stream folded into the body its API returns without streaming: a `chat.completion`,
 * a Responses `response`, or an Anthropic `message`. Usage comes from the final usage
 * chunk, `response.completed`, or `message_start` updated by `message_delta`.
 */
export function collectStream(kind: StreamKind, text: string): Record<string, unknown> {
  const events = parseSse(text).flatMap((e) => {
    const json = jsonOf(e.data);
    return json ? [json] : [];
  });
  switch (kind) {
    case 'chat':
      return collectChat(events);
    case 'responses':
      return collectResponses(events);
    case 'messages':
      return collectMessages(events);
  }
}

interface ChatDelta {
  content?: string | null;
  tool_calls?: { index: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
}

function collectChat(chunks: Record<string, unknown>[]): Record<string, unknown> {
  let content = '';
  let finish: unknown = null;
  const calls: { id: string; type: string; function: { name: string; arguments: string } }[] = [];
  let usage: unknown;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    const choice = (chunk.choices as { index?: number; delta?: ChatDelta; finish_reason?: unknown }[] | undefined)?.find((c) => (c.index ?? 0) === 0);
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string') content += delta.content;
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) call.function.arguments += part.function.arguments;
    }
  }
  const first = chunks[0] ?? {};
  return {
    id: first.id,
    object: 'chat.completion',
    created: first.created,
    model: first.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: content || null, ...(calls.length ? { tool_calls: calls.filter(Boolean) } : {}) },
        finish_reason: finish,
      },
    ],
    ...(usage ? { usage } : {}),
  };
}

/** The last `response.*` event that carries the whole response (completed, incomplete or failed). */
function collectResponses(events: Record<string, unknown>[]): Record<string, unknown> {
  const done = events.findLast((e) => ['response.completed', 'response.incomplete', 'response.failed'].includes(e.type as string));
  const response = (done ?? events.findLast((e) => typeof e.response === 'object'))?.response;
  return response !== null && typeof response === 'object' ? (response as Record<string, unknown>) : {};
}

function collectMessages(events: Record<string, unknown>[]): Record<string, unknown> {
  let message: Record<string, unknown> = { content: [] };
  const blocks: Record<string, unknown>[] = [];
  const partialJson = new Map<number, string>();
  for (const e of events) {
    switch (e.type) {
      case 'message_start':
        message = { ...(e.message as Record<string, unknown>) };
        break;
      case 'content_block_start':
        blocks[e.index as number] = { ...(e.content_block as Record<string, unknown>) };
        break;
      case 'content_block_delta': {
        const block = blocks[e.index as number];
        const delta = e.delta as { type?: string; text?: string; partial_json?: string; thinking?: string };
        if (!block) break;
        if (delta.type === 'text_delta') block.text = `${(block.text as string | undefined) ?? ''}${delta.text ?? ''}`;
        else if (delta.type === 'thinking_delta') block.thinking = `${(block.thinking as string | undefined) ?? ''}${delta.thinking ?? ''}`;
        else if (delta.type === 'input_json_delta') partialJson.set(e.index as number, `${partialJson.get(e.index as number) ?? ''}${delta.partial_json ?? ''}`);
        break;
      }
      case 'content_block_stop': {
        const json = partialJson.get(e.index as number);
        const block = blocks[e.index as number];
        if (block && json !== undefined) block.input = jsonOf(json) ?? (json === '' ? {} : json);
        break;
      }
      case 'message_delta': {
        // message_delta's usage is cumulative: its counts replace those of message_start.
        const usage = Object.fromEntries(Object.entries((e.usage as Record<string, unknown> | undefined) ?? {}).filter(([, v]) => v !== null && v !== undefined));
        message = { ...message, ...(e.delta as Record<string, unknown>), usage: { ...((message.usage as Record<string, unknown>) ?? {}), ...usage } };
        break;
      }
    }
  }
  return { ...message, content: blocks.filter(Boolean) };
}

/**
 * A Chat Completions stream as a caller that did not ask for usage gets it: without the
 * final usage chunk, and without the `usage: null` the other chunks carry when it is asked.
 */
export function withoutUsageChunk(text: string): string {
  return text
    .split(/\n\n/)
    .flatMap((block) => {
      const match = /^data: (.*)$/m.exec(block);
      const chunk = match ? jsonOf(match[1]!) : undefined;
      if (!chunk || !('usage' in chunk)) return [block];
      if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return [];
      const { usage: _usage, ...rest } = chunk;
      return [block.replace(match![1]!, () => JSON.stringify(rest))];
    })
    .join('\n\n');
}
