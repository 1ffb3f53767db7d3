import type { ToolCall, Trace, Usage } from '../trace/schema.js';

/** Provider-neutral chat messages; each provider maps them to its API's shape. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content?: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

/** Sampling parameters, named the same for every provider. */
export interface ModelParams {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
}

export interface ModelRequest {
  /** The model name, without the `provider:` prefix. */
  model: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  params?: ModelParams;
  /** Which trial of the trace this call belongs to; part of any cache key. */
  trial: number;
}

/** A tool call as a model made it; `invalidArguments` holds raw arguments that were not a JSON object. */
export type ModelToolCall = ToolCall & { invalidArguments?: string };

export interface ModelResponse {
  /** The model that answered (a replay answers with the recorded model). */
  model: string;
  text?: string;
  toolCalls: ModelToolCall[];
  usage?: Usage;
  /** Set where the provider reports a price itself; otherwise usage is priced. */
  costUsd?: number;
  latencyMs?: number;
  /** Where the answer came from when it was not the provider itself (a replayed recording, the cache, a cassette): nothing was spent on it. */
  servedFrom?: 'cache' | 'cassette' | 'recording';
}

export interface ModelCallContext {
  /** The trace being replayed. */
  trace: Trace;
  /** 0 for the first model call of this trace's replay, 1 for the next, ... */
  callIndex: number;
  signal?: AbortSignal;
}

/**
 * The port every model backend implements: the `replay` provider here, real
 * APIs (OpenAI, Anthropic, OpenAI-compatible servers) beside it. Replay code
 * talks only to this interface.
 */
export interface ModelProvider {
  readonly id: string;
  complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse>;
}
