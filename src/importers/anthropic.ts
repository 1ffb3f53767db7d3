import { z } from 'zod';
import { fromAnthropicResponse } from '../providers/anthropic.js';
import { resultContent, textOfParts, type Turn } from './conversation.js';
import { openAISign } from './format-signs.js';
import { importConversations, type RecordShape } from './message-log.js';
import { requiredField } from './records.js';
import type { Importer } from './types.js';

const ToolResultSchema = z.object({ type: z.literal('tool_result'), tool_use_id: z.string().min(1), content: z.unknown().optional(), is_error: z.boolean().optional() });
const ToolUseSchema = z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() });

/** Any content block; tool_use and tool_result blocks are held to their own shape. */
const BlockSchema = z
  .object({ type: z.string().min(1) })
  .loose()
  .superRefine((block, ctx) => {
    const schema = block.type === 'tool_use' ? ToolUseSchema : block.type === 'tool_result' ? ToolResultSchema : undefined;
    for (const issue of schema?.safeParse(block, requiredField).error?.issues ?? []) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

const MessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(BlockSchema)]),
});
type AnthropicMessage = z.infer<typeof MessageSchema>;
type Block = z.infer<typeof BlockSchema>;

/** `system` is a string or a list of text blocks. */
const SystemSchema = z.union([z.string(), z.array(BlockSchema)]).optional();

const ResponseSchema = z.object({ id: z.string().optional(), model: z.string().optional(), content: z.array(BlockSchema), usage: z.unknown().optional() });

const SHAPES: RecordShape[] = [
  {
    key: 'messages',
    schema: z.object({ messages: z.array(MessageSchema), system: SystemSchema, model: z.string().optional(), id: z.string().optional(), metadata: z.record(z.string(), z.unknown()).optional() }),
    read: (r: { messages: AnthropicMessage[]; system?: string | Block[]; model?: string; id?: string; metadata?: Record<string, unknown> }) => ({
      turns: [...systemTurn(r.system, 'system'), ...anthropicTurns(r.messages, 'messages')],
      call: false,
      model: r.model,
      id: r.id,
      metadata: r.metadata,
    }),
  },
  {
    key: 'request',
    schema: z.object({
      request: z.object({ model: z.string().optional(), system: SystemSchema, messages: z.array(MessageSchema) }),
      response: ResponseSchema,
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
    read: (r: { request: { model?: string; system?: string | Block[]; messages: AnthropicMessage[] }; response: z.infer<typeof ResponseSchema>; metadata?: Record<string, unknown> }) => {
      const answer = fromAnthropicResponse({ ...r.response, model: r.response.model ?? r.request.model });
      const model = answer.model || r.request.model;
      const turn: Turn = { kind: 'model', ...(model ? { model } : {}), ...(answer.text ? { text: answer.text } : {}), toolCalls: answer.toolCalls, ...(answer.usage ? { usage: answer.usage } : {}), path: 'response.content' };
      return { turns: [...systemTurn(r.request.system, 'request.system'), ...anthropicTurns(r.request.messages, 'request.messages'), turn], call: true, model, id: r.response.id, metadata: r.metadata };
    },
  },
];

function systemTurn(system: string | Block[] | undefined, path: string): Turn[] {
  if (system === undefined || system === '') return [];
  return [{ kind: 'input', role: 'system', content: typeof system === 'string' ? system : (textOfParts(system) ?? system), path }];
}

/**
 * The turns of a Messages list: an assistant message is a model turn (text and
 * tool_use blocks); in a user message each tool_result block is a result (`is_error`
 * makes it a failure), and the other blocks, if any, one input turn after them. Pure.
 */
function anthropicTurns(messages: readonly AnthropicMessage[], path: string): Turn[] {
  return messages.flatMap((m, i): Turn[] => {
    const at = `${path}.${i}`;
    if (m.role === 'assistant') {
      const answer = fromAnthropicResponse({ model: '', content: typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content });
      return [{ kind: 'model', ...(answer.text ? { text: answer.text } : {}), toolCalls: answer.toolCalls, path: at }];
    }
    if (typeof m.content === 'string') return [{ kind: 'input', role: 'user', content: m.content, path: at }];
    const turns: Turn[] = [];
    const rest: Block[] = [];
    m.content.forEach((block, j) => {
      const result = ToolResultSchema.safeParse(block);
      if (result.success) {
        const { tool_use_id, content, is_error } = result.data;
        turns.push({ kind: 'result', toolCallId: tool_use_id, content: resultContent(content ?? null), failed: is_error === true, path: `${at}.content.${j}` });
      } else rest.push(block);
    });
    if (rest.length) turns.push({ kind: 'input', role: 'user', content: textOfParts(rest) ?? rest, path: at });
    return turns;
  });
}

/**
 * Anthropic Messages logs: a JSON file or JSON Lines of conversations, each
 * `{ model?, system?, messages, id?, metadata? }` (or a bare messages list) or one logged
 * call `{ request: { model, system, messages }, response: <message> }`; content is a
 * string or text / tool_use / tool_result blocks. Calls of one agent loop join into one trace.
 */
export const importAnthropicTraces: Importer = (text, options) =>
  importConversations(text, options, { format: 'anthropic', label: 'Anthropic Messages', shapes: SHAPES, other: { name: 'openai', label: 'OpenAI Chat Completions', sign: openAISign } });
