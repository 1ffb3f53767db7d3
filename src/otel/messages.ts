/**
 * Chat messages as OpenTelemetry instrumentations record them, brought to one shape:
 * the GenAI conventions' `parts` messages (gen_ai.input.messages / gen_ai.output.messages),
 * the OpenAI-style messages of older versions (gen_ai.prompt / gen_ai.completion attributes,
 * gen_ai.* span events, gen_ai.choice bodies) and OpenInference's flattened
 * llm.input_messages / llm.output_messages attributes. Pure.
 */
import { GENAI, GENAI_EVENTS, OPENINFERENCE } from './conventions.js';
import type { FlatSpan } from './otlp-json.js';

/** A tool call as a model asked for it; `args` null when absent or not a JSON object. */
export interface MessageToolCall {
  id: string | null;
  name: string;
  args: Record<string, unknown> | null;
}

export interface Message {
  role: string;
  text?: string;
  toolCalls: MessageToolCall[];
  /** Results of tool calls sent back to the model (role tool), by call id. */
  toolResponses: { id: string | null; result: unknown }[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string holding a JSON object or array, parsed; anything else as it is. */
export function parseJsonish(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return value;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return value;
  }
}

/** Tool-call arguments: an object, or a string holding one; null otherwise. */
export function parseArgs(value: unknown): Record<string, unknown> | null {
  const parsed = parseJsonish(value);
  return isObject(parsed) ? parsed : null;
}

/** A tool result: a JSON string parsed (numbers and booleans too), other text kept as text. */
export function parseResult(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const texts = content.map((c) => (typeof c === 'string' ? c : isObject(c) && typeof c.text === 'string' ? c.text : isObject(c) && c.type === 'text' && typeof c.content === 'string' ? c.content : null));
    const kept = texts.filter((t): t is string => t !== null);
    return kept.length ? kept.join('') : undefined;
  }
  return undefined;
}

function callOf(raw: unknown): MessageToolCall | null {
  if (!isObject(raw)) return null;
  const fn = isObject(raw.function) ? raw.function : raw;
  const name = typeof fn.name === 'string' ? fn.name : null;
  if (!name) return null;
  const id = typeof raw.id === 'string' ? raw.id : null;
  return { id, name, args: parseArgs(fn.arguments ?? raw.arguments ?? raw.args ?? raw.input) };
}

/** One message in any of the known shapes; null when it is none of them. */
function normaliseMessage(raw: unknown, defaultRole: string): Message | null {
  if (!isObject(raw)) return typeof raw === 'string' ? { role: defaultRole, text: raw, toolCalls: [], toolResponses: [] } : null;
  // gen_ai.choice bodies wrap the message.
  const m = isObject(raw.message) ? raw.message : raw;
  const role = typeof m.role === 'string' ? m.role : defaultRole;
  const message: Message = { role, toolCalls: [], toolResponses: [] };
  if (Array.isArray(m.parts)) {
    const texts: string[] = [];
    for (const part of m.parts) {
      if (!isObject(part)) continue;
      if (part.type === 'text' && typeof part.content === 'string') texts.push(part.content);
      else if (part.type === 'tool_call') {
        const call = callOf(part);
        if (call) message.toolCalls.push(call);
      } else if (part.type === 'tool_call_response') {
        message.toolResponses.push({ id: typeof part.id === 'string' ? part.id : null, result: parseResult(part.response ?? part.result) });
      }
    }
    if (texts.length) message.text = texts.join('');
    return message;
  }
  const text = textOf(m.content);
  if (role === 'tool') {
    const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : typeof m.id === 'string' ? m.id : null;
    message.toolResponses.push({ id, result: parseResult(m.content) });
    return message;
  }
  if (text !== undefined) message.text = text;
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  for (const c of calls) {
    const call = callOf(isObject(c) && isObject(c.tool_call) ? c.tool_call : c);
    if (call) message.toolCalls.push(call);
  }
  return message;
}

/** Messages from an attribute value: a JSON string or array of messages, or one message. */
function messagesOf(value: unknown, defaultRole: string): Message[] {
  const parsed = parseJsonish(value);
  const list = Array.isArray(parsed) ? parsed : parsed === undefined || parsed === null ? [] : [parsed];
  return list.map((m) => normaliseMessage(m, defaultRole)).filter((m): m is Message => m !== null);
}

/** OpenInference flattens lists into keys: `llm.output_messages.0.message.tool_calls.1.tool_call.function.name`. */
export function unflatten(attributes: Record<string, unknown>, prefix: string): unknown[] {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const path = key.slice(prefix.length + 1).split('.');
    let node = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) node[segment] = value;
      else node = (isObject(node[segment]) ? node[segment] : (node[segment] = {})) as Record<string, unknown>;
    });
  }
  const toArrays = (v: unknown): unknown => {
    if (!isObject(v)) return v;
    const keys = Object.keys(v);
    const mapped = Object.fromEntries(keys.map((k) => [k, toArrays(v[k])]));
    return keys.length > 0 && keys.every((k) => /^\d+$/.test(k)) ? keys.sort((a, b) => Number(a) - Number(b)).map((k) => mapped[k]) : mapped;
  };
  const out = toArrays(root);
  return Array.isArray(out) ? out : [];
}

function eventBody(attributes: Record<string, unknown>): unknown {
  // Some instrumentations put an event's body in one JSON attribute.
  const packed = attributes['gen_ai.event.content'] ?? attributes['event.body'] ?? attributes.body;
  if (packed !== undefined) return parseJsonish(packed);
  return Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, parseJsonish(v)]));
}

const firstNonEmpty = (...lists: (() => Message[])[]): Message[] => {
  for (const list of lists) {
    const messages = list();
    if (messages.length) return messages;
  }
  return [];
};

/** What the model was sent, in the first convention the span uses. */
export function inputMessagesOf(span: FlatSpan): Message[] {
  const a = span.attributes;
  const eventRoles: Record<string, string> = {
    [GENAI_EVENTS.userMessage]: 'user',
    [GENAI_EVENTS.systemMessage]: 'system',
    [GENAI_EVENTS.assistantMessage]: 'assistant',
    [GENAI_EVENTS.toolMessage]: 'tool',
  };
  return firstNonEmpty(
    () => messagesOf(a[GENAI.inputMessages], 'user'),
    () => messagesOf(a[GENAI.prompt], 'user'),
    () =>
      span.events.flatMap((e) => {
        if (e.name === GENAI_EVENTS.contentPrompt) return messagesOf(e.attributes[GENAI.prompt], 'user');
        const role = eventRoles[e.name];
        const body = eventBody(e.attributes);
        return role ? messagesOf(isObject(body) && !body.role ? { ...body, role } : body, role) : [];
      }),
    () => messagesOf(unflatten(a, OPENINFERENCE.inputMessages).map((m) => (isObject(m) ? (m.message ?? m) : m)), 'user'),
  );
}

/** What the model answered, in the first convention the span uses. */
export function outputMessagesOf(span: FlatSpan): Message[] {
  const a = span.attributes;
  return firstNonEmpty(
    () => messagesOf(a[GENAI.outputMessages], 'assistant'),
    () => messagesOf(a[GENAI.completion], 'assistant'),
    () =>
      span.events.flatMap((e) => {
        if (e.name === GENAI_EVENTS.choice) return messagesOf(eventBody(e.attributes), 'assistant');
        if (e.name === GENAI_EVENTS.contentCompletion) return messagesOf(e.attributes[GENAI.completion], 'assistant');
        return [];
      }),
    () => messagesOf(unflatten(a, OPENINFERENCE.outputMessages).map((m) => (isObject(m) ? (m.message ?? m) : m)), 'assistant'),
  );
}
