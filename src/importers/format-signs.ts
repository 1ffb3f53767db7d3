/**
 * Signs that a message-log record is in the other provider's format: a field the asked-for
 * format does not have, which its importer would reject with schema errors that do not say
 * why, or drop without a word (an Anthropic `tool_use` part read as OpenAI content, OpenAI
 * `tool_calls` on a message read as Anthropic). Only fields that cannot belong to the
 * asked-for format count, so a record in that format never shows one. Pure.
 */

/** Where a sign was found (a path in the record) and what it is. */
export interface FormatSign {
  path: string;
  what: string;
}

/** The other format of a message-log importer: its command name, its label, and how to spot it. */
export interface OtherFormat {
  name: string;
  label: string;
  sign: (record: unknown) => FormatSign | undefined;
}

const OPENAI_ONLY_ROLES = new Set(['system', 'developer', 'tool']);

/** An OpenAI Chat Completions field: a system, developer or tool message, `tool_calls`, `tool_call_id`, `response.choices`. */
export function openAISign(record: unknown): FormatSign | undefined {
  if (has(get(record, 'response'), 'choices')) return { path: 'response.choices', what: '`choices`' };
  for (const { path, message } of messagesOf(record)) {
    const role = get(message, 'role');
    if (typeof role === 'string' && OPENAI_ONLY_ROLES.has(role)) return { path: `${path}.role`, what: `role "${role}"` };
    for (const key of ['tool_calls', 'tool_call_id']) if (has(message, key)) return { path: `${path}.${key}`, what: `\`${key}\`` };
  }
  return undefined;
}

/** An Anthropic Messages field: a `tool_use` or `tool_result` content block, a response with `content` blocks and no `choices`. */
export function anthropicSign(record: unknown): FormatSign | undefined {
  const response = get(record, 'response');
  if (Array.isArray(get(response, 'content')) && !has(response, 'choices')) return { path: 'response.content', what: 'response `content` blocks' };
  for (const { path, message } of messagesOf(record)) {
    const content = get(message, 'content');
    if (!Array.isArray(content)) continue;
    const at = content.findIndex((part) => ['tool_use', 'tool_result'].includes(get(part, 'type') as string));
    if (at !== -1) return { path: `${path}.content.${at}.type`, what: `a "${get(content[at], 'type') as string}" block` };
  }
  return undefined;
}

/** The messages of a record (`messages`, or `request.messages` of a logged call), with their paths. */
function messagesOf(record: unknown): { path: string; message: unknown }[] {
  for (const [path, list] of [
    ['messages', get(record, 'messages')],
    ['request.messages', get(get(record, 'request'), 'messages')],
  ] as const) {
    if (Array.isArray(list)) return list.map((message, i) => ({ path: `${path}.${i}`, message }));
  }
  return [];
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const get = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined);
const has = (value: unknown, key: string): boolean => isObject(value) && key in value;
