import { z } from 'zod';
import { fromOpenAIResponse } from '../providers/openai.js';
import { resultContent, textOfParts, type Turn } from './conversation.js';
import { anthropicSign } from './format-signs.js';
import { importConversations, type RecordShape } from './message-log.js';
import type { Importer } from './types.js';

const ToolCallSchema = z.object({
  id: z.string().min(1),
  type: z.string().optional(),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const MessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer', 'user']), content: z.unknown() }),
  z.object({ role: z.literal('assistant'), content: z.unknown().optional(), tool_calls: z.array(ToolCallSchema).nullish() }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: z.unknown() }),
]);
export type OpenAIMessage = z.infer<typeof MessageSchema>;

export const OpenAIMessagesSchema = z.array(MessageSchema);

const ResponseSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z.array(z.object({ message: z.object({ role: z.literal('assistant').optional() }).loose() })).min(1),
  usage: z.unknown().optional(),
});

const SHAPES: RecordShape[] = [
  {
    key: 'messages',
    schema: z.object({ messages: OpenAIMessagesSchema, model: z.string().optional(), id: z.string().optional(), metadata: z.record(z.string(), z.unknown()).optional() }),
    read: (r: { messages: OpenAIMessage[]; model?: string; id?: string; metadata?: Record<string, unknown> }) => ({ turns: openAITurns(r.messages, 'messages'), call: false, model: r.model, id: r.id, metadata: r.metadata }),
  },
  {
    key: 'request',
    schema: z.object({ request: z.object({ model: z.string().optional(), messages: OpenAIMessagesSchema }), response: ResponseSchema, metadata: z.record(z.string(), z.unknown()).optional() }),
    read: (r: { request: { model?: string; messages: OpenAIMessage[] }; response: z.infer<typeof ResponseSchema>; metadata?: Record<string, unknown> }) => {
      const answer = fromOpenAIResponse(r.response);
      const model = answer.model || r.request.model;
      const turn: Turn = { kind: 'model', ...(model ? { model } : {}), ...(answer.text ? { text: answer.text } : {}), toolCalls: answer.toolCalls, ...(answer.usage ? { usage: answer.usage } : {}), path: 'response.choices.0.message' };
      return { turns: [...openAITurns(r.request.messages, 'request.messages'), turn], call: true, model, id: r.response.id, metadata: r.metadata };
    },
  },
];

/**
 * The turns of a Chat Completions message list. A tool message is a result; the format
 * has no error flag, so `failed` (tau-bench: content starting with `Error`) decides
 * which results are failures. Pure.
 */
export function openAITurns(messages: readonly OpenAIMessage[], path: string, failed: (content: unknown) => boolean = () => false): Turn[] {
  return messages.map((m, i): Turn => {
    const at = `${path}.${i}`;
    switch (m.role) {
      case 'assistant': {
        // An assistant message in a history may hold content parts rather than a string.
        const content = typeof m.content === 'string' ? m.content : (textOfParts(m.content) ?? null);
        const answer = fromOpenAIResponse({ choices: [{ message: { ...m, content } }] });
        return { kind: 'model', ...(answer.text ? { text: answer.text } : {}), toolCalls: answer.toolCalls, path: at };
      }
      case 'tool':
        return { kind: 'result', toolCallId: m.tool_call_id, content: resultContent(m.content), failed: failed(m.content), path: at };
      default:
        return { kind: 'input', role: m.role, content: m.content, path: at };
    }
  });
}

/**
 * OpenAI Chat Completions message logs: a JSON file or JSON Lines of conversations, each a
 * `messages` list (bare, or in `{ messages, model?, id?, metadata? }`) or one logged call
 * `{ request: { model, messages }, response: { id, model, choices, usage } }`. Calls of one
 * agent loop (each request repeating the conversation so far) join into one trace.
 */
export const importOpenAITraces: Importer = (text, options) =>
  importConversations(text, options, { format: 'openai', label: 'OpenAI Chat Completions', shapes: SHAPES, other: { name: 'anthropic', label: 'Anthropic Messages', sign: anthropicSign } });
