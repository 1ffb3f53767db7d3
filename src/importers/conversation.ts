import { canonicalJson } from '../trace/canonical.js';
import type { ModelToolCall } from '../providers/types.js';
import type { Outcome, Step, Usage } from '../trace/schema.js';
import { jsonOrText } from './records.js';

/**
 * A message log in a provider-neutral form, the one thing the OpenAI, Anthropic and
 * tau-bench importers turn into trace steps. `path` locates the turn in its record.
 */
export type Turn =
  /** What the model was given besides tool results: system prompts, user messages. */
  | { kind: 'input'; role: string; content: unknown; path: string }
  | { kind: 'model'; model?: string; text?: string; toolCalls: ModelToolCall[]; usage?: Usage; path: string }
  | { kind: 'result'; toolCallId: string | undefined; content: unknown; failed: boolean; path: string };

/** Reports a problem at a path inside the record. */
export type Report = (path: string, message: string) => void;

/**
 * The steps of a conversation: each model turn is an `llm` step (its text and tool
 * calls; as `messages`, the system and user messages that came since the previous model
 * turn, so that the conversation is kept without repeating its history at every step),
 * and each tool result a `tool` step with the arguments of the call it answers. A
 * failed result is the step's `error`. A result that answers no earlier call is left
 * out, with an issue. A call that was never answered (the run stopped) stays among
 * the model step's tool calls and makes no tool step: it never ran. Logs may use a call
 * id again for a later call (tau-bench's do): a result answers the latest call with its id.
 *
 * A call whose arguments are not a JSON object is recorded with `{}` and listed, and it
 * makes the trace not replayable: a replay would mock that tool with arguments the agent
 * never sent. `notReplayable` names each such step (the tool step where the call ran, else
 * the model step that made it) for `metadata.notReplayableReason`.
 */
export function stepsOf(turns: readonly Turn[], model: string, report: Report): { steps: Step[]; notReplayable: string[] } {
  const steps: Step[] = [];
  const calls = new Map<string, ModelToolCall>();
  // Calls with arguments that are not a JSON object, by call, with the model step that made them, until they run.
  const unanswered = new Map<ModelToolCall, number>();
  const notReplayable: string[] = [];
  let pending: { role: string; content: unknown }[] = [];
  for (const turn of turns) {
    switch (turn.kind) {
      case 'input':
        pending.push({ role: turn.role, content: turn.content });
        break;
      case 'model': {
        for (const call of turn.toolCalls) {
          if (call.invalidArguments !== undefined) {
            report(turn.path, `tool call ${call.id} (${call.name}): arguments are not a JSON object, recorded as {}; the trace is marked not replayable: ${call.invalidArguments.slice(0, 80)}`);
            unanswered.set(call, steps.length);
          }
          calls.set(call.id, call);
        }
        const toolCalls = turn.toolCalls.map(({ id, name, args }) => ({ id, name, args }));
        steps.push({
          type: 'llm',
          model: turn.model ?? model,
          ...(pending.length ? { messages: pending } : {}),
          output: { ...(turn.text ? { text: turn.text } : {}), ...(toolCalls.length ? { toolCalls } : {}) },
          ...(turn.usage ? { usage: turn.usage } : {}),
        });
        pending = [];
        break;
      }
      case 'result': {
        const call = turn.toolCallId === undefined ? undefined : calls.get(turn.toolCallId);
        if (!call) {
          report(turn.path, `tool result for ${turn.toolCallId === undefined ? 'no tool call id' : `tool call ${turn.toolCallId}`}, which no earlier model turn made; left out`);
          break;
        }
        if (call.invalidArguments !== undefined) {
          notReplayable.push(invalidArgumentsReason(steps.length, call));
          unanswered.delete(call);
        }
        steps.push({ type: 'tool', id: call.id, name: call.name, args: call.args, ...(turn.failed ? { error: turn.content } : { result: turn.content }) });
        break;
      }
    }
  }
  for (const [call, step] of unanswered) notReplayable.push(invalidArgumentsReason(step, call));
  return { steps, notReplayable };
}

const invalidArgumentsReason = (step: number, call: ModelToolCall) => `step ${step} (${call.name}) has arguments that are not a JSON object`;

/** The metadata that marks a trace not replayable, with its reasons; none when there are none. */
export function replayability(reasons: readonly string[]): { replayable?: false; notReplayableReason?: string } {
  const unique = [...new Set(reasons)];
  return unique.length ? { replayable: false, notReplayableReason: unique.join('; ') } : {};
}

/** The content of the first user message: what the agent was asked. Null when there is none. */
export function firstUserContent(turns: readonly Turn[]): NonNullable<unknown> | null {
  const first = turns.find((t) => t.kind === 'input' && t.role === 'user');
  const content = first?.kind === 'input' ? first.content : null;
  return content === undefined || content === null ? null : content;
}

/** The text of the last model turn that has any. */
export function lastModelText(turns: readonly Turn[]): string | undefined {
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (t.kind === 'model' && t.text) return t.text;
  }
  return undefined;
}

/**
 * How a logged conversation ended, where the log shows it: a model turn with no tool
 * calls last is a completed run, its text the output. A log that ends anywhere else (a
 * tool call not yet answered, a user message) does not say how the run ended: no outcome.
 */
export function conversationOutcome(turns: readonly Turn[]): Outcome | undefined {
  const last = turns.at(-1);
  if (last?.kind !== 'model' || last.toolCalls.length > 0) return undefined;
  return { status: 'completed', ...(last.text ? { output: last.text } : {}) };
}

/** A tool result's content: JSON when it is JSON, text parts joined, anything else as it is. */
export function resultContent(content: unknown): unknown {
  return jsonOrText(typeof content === 'string' ? content : (textOfParts(content) ?? content));
}

/** The text of a list of content parts (`[{type: 'text', text}]`) that are all text; undefined otherwise. */
export function textOfParts(content: unknown): string | undefined {
  if (!Array.isArray(content) || content.length === 0) return undefined;
  const texts = content.map((p) => ((p as { type?: unknown } | null)?.type === 'text' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : undefined));
  return texts.every((t) => t !== undefined) ? texts.join('') : undefined;
}

/** A conversation read from one record, before it becomes a trace. */
export interface Conversation {
  turns: Turn[];
  /** True for a logged model call (request and response): later calls of the same conversation repeat it. */
  call: boolean;
}

/**
 * Logged calls of one agent loop repeat the conversation so far in each request: the
 * call whose turns a later call's turns begin with is part of that later one. Such
 * calls are joined into the last, each model turn keeping the usage and model of the
 * call that made it. Conversations that are not call logs are left as they are.
 */
export function joinCalls<T extends Conversation>(conversations: readonly T[]): { conversation: T; joined: T[] }[] {
  const open = new Map<string, { conversation: T; joined: T[] }>();
  const out: ({ conversation: T; joined: T[] } | undefined)[] = [];
  const slot = new Map<string, number>();
  for (const conversation of conversations) {
    const entry = { conversation, joined: [] as T[] };
    if (conversation.call) {
      let prefix = '';
      for (let i = 0; i < conversation.turns.length - 1; i++) {
        prefix += `${turnKey(conversation.turns[i]!)}\n`;
        const earlier = open.get(prefix);
        if (!earlier) continue;
        for (let j = 0; j <= i; j++) {
          const [mine, theirs] = [conversation.turns[j]!, earlier.conversation.turns[j]!];
          if (mine.kind === 'model' && theirs.kind === 'model') {
            if (!mine.usage && theirs.usage) mine.usage = theirs.usage;
            if (!mine.model && theirs.model) mine.model = theirs.model;
          }
        }
        entry.joined.push(...earlier.joined, earlier.conversation);
        out[slot.get(prefix)!] = undefined;
        open.delete(prefix);
      }
      const key = conversation.turns.map((t) => `${turnKey(t)}\n`).join('');
      open.set(key, entry);
      slot.set(key, out.length);
    }
    out.push(entry);
  }
  return out.filter((e) => e !== undefined);
}

/** What a turn says, without where it was logged or what it cost. */
function turnKey(turn: Turn): string {
  switch (turn.kind) {
    case 'input':
      return canonicalJson(['input', turn.role, turn.content]);
    case 'model':
      return canonicalJson(['model', turn.text ?? '', turn.toolCalls.map((c) => [c.id, c.name, c.args])]);
    case 'result':
      return canonicalJson(['result', turn.toolCallId, turn.content, turn.failed]);
  }
}
