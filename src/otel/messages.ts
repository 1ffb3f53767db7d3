/**
 * Chat messages as OpenTelemetry instrumentations record them, brought to one shape:
 * the GenAI conventions' `parts` messages (gen_ai.input.messages / gen_ai.output.messages),
 * the OpenAI-style messages of older versions (gen_ai.prompt / gen_ai.completion attributes,
 * gen_ai.* span events, gen_ai.choice bodies), the same flattened into indexed attributes
 * as OpenLLMetry writes them (gen_ai.prompt.0.role, gen_ai.completion.0.tool_calls.0.name)
 * and OpenInference's flattened llm.input_messages / llm.output_messages attributes. Pure.
 */
import { jsonOrText } from '../importers/records.js';
import { GENAI, GENAI_EVENTS, OPENINFERENCE } from './conventions.js';
import type { FlatSpan } from './otlp-json.js';

/** A tool call as a model asked for it; `args` null when absent or not a JSON object. */
export interface MessageToolCall {
  id: string | null;
  name: string;
  args: Record<string, unknown> | null;
  /** Set when arguments were recorded but are not usable: what is wrong with them. */
  argsProblem?: ArgsProblem;
}

export type ArgsProblem = 'arguments are not JSON' | 'arguments are not a JSON object';

export interface Message {
  role: string;
  text?: string;
  toolCalls: MessageToolCall[];
  /** Results of tool calls sent back to the model (role tool), by call id. */
  toolResponses: { id: string | null; result: unknown }[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string holding a JSON object or array, parsed; anything else (a number or boolean written as text too) as it is. */
export function parseJsonish(value: unknown): unknown {
  const parsed = jsonOrText(value);
  return typeof parsed === 'object' && parsed !== null ? parsed : value;
}

/**
 * Tool-call arguments: an object, or a string holding one. Absent arguments (undefined,
 * null) are null with no problem; recorded ones that are not a JSON object are null with
 * what is wrong with them.
 */
export function parseArgs(value: unknown): { args: Record<string, unknown> | null; problem?: ArgsProblem } {
  if (value === undefined || value === null) return { args: null };
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return { args: null, problem: 'arguments are not JSON' };
    }
  }
  return isObject(parsed) ? { args: parsed } : { args: null, problem: 'arguments are not a JSON object' };
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

/** Content parts written as a JSON string (OpenLLMetry does so for list contents), parsed; undefined for anything else. */
function partsOf(content: unknown): unknown[] | undefined {
  const parsed = parseJsonish(content);
  return Array.isArray(parsed) && parsed.length > 0 && parsed.every((p) => isObject(p) && p.type === 'text') ? parsed : undefined;
}

function callOf(raw: unknown): MessageToolCall | null {
  if (!isObject(raw)) return null;
  const fn = isObject(raw.function) ? raw.function : raw;
  const name = typeof fn.name === 'string' ? fn.name : null;
  if (!name) return null;
  const id = typeof raw.id === 'string' ? raw.id : null;
  const { args, problem } = parseArgs(fn.arguments ?? raw.arguments ?? raw.args ?? raw.input);
  return { id, name, args, ...(problem ? { argsProblem: problem } : {}) };
}

/** A message has at least one of these; an object with none is some other layout, not an empty message. */
const MESSAGE_KEYS = ['role', 'content', 'parts', 'tool_calls', 'function_call', 'tool_call_id'];

/** One message in any of the known shapes; null when it is none of them. */
function normaliseMessage(raw: unknown, defaultRole: string): Message | null {
  if (!isObject(raw)) return typeof raw === 'string' ? { role: defaultRole, text: raw, toolCalls: [], toolResponses: [] } : null;
  // gen_ai.choice bodies wrap the message.
  const m = isObject(raw.message) ? raw.message : raw;
  if (!MESSAGE_KEYS.some((k) => k in m)) return null;
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
        message.toolResponses.push({ id: typeof part.id === 'string' ? part.id : null, result: jsonOrText(part.response ?? part.result) });
      }
    }
    if (texts.length) message.text = texts.join('');
    return message;
  }
  const text = textOf(partsOf(m.content) ?? m.content);
  if (role === 'tool') {
    const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : typeof m.id === 'string' ? m.id : null;
    message.toolResponses.push({ id, result: jsonOrText(m.content) });
    return message;
  }
  if (text !== undefined) message.text = text;
  // OpenAI's legacy function_call is one call without an id.
  const calls = [...(Array.isArray(m.tool_calls) ? m.tool_calls : []), ...(isObject(m.function_call) ? [m.function_call] : [])];
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

/**
 * Lists flattened into keys, back as a list: OpenInference's
 * `llm.output_messages.0.message.tool_calls.1.tool_call.function.name`, OpenLLMetry's
 * `gen_ai.completion.0.tool_calls.1.name`. Empty when the keys under `prefix` are not a list.
 */
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

/** The messages flattened under `prefix`, each unwrapped from OpenInference's `message` key where it has one. */
function flattenedMessagesOf(attributes: Record<string, unknown>, prefix: string, defaultRole: string): Message[] {
  return messagesOf(unflatten(attributes, prefix).map((m) => (isObject(m) ? (m.message ?? m) : m)), defaultRole);
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
    () => flattenedMessagesOf(a, GENAI.prompt, 'user'),
    () => flattenedMessagesOf(a, OPENINFERENCE.inputMessages, 'user'),
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
    () => flattenedMessagesOf(a, GENAI.completion, 'assistant'),
    () => flattenedMessagesOf(a, OPENINFERENCE.outputMessages, 'assistant'),
  );
}
