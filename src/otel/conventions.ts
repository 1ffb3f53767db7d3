/**
 * The attribute names shadowgate writes and reads: the OpenTelemetry GenAI semantic
 * conventions (current names and the deprecated ones still in the wild), OpenInference,
 * and shadowgate's own (`shadowgate.*`) for what the conventions have no name for.
 */
export const GENAI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** Deprecated for gen_ai.provider.name. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  /** Deprecated for gen_ai.usage.input_tokens. */
  promptTokens: 'gen_ai.usage.prompt_tokens',
  /** Deprecated for gen_ai.usage.output_tokens. */
  completionTokens: 'gen_ai.usage.completion_tokens',
  cacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  agentName: 'gen_ai.agent.name',
  conversationId: 'gen_ai.conversation.id',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  /** Deprecated span-attribute forms of the prompt and completion (JSON strings). */
  prompt: 'gen_ai.prompt',
  completion: 'gen_ai.completion',
  errorType: 'error.type',
} as const;

/** gen_ai.operation.name values. */
export const OPERATION = {
  chat: 'chat',
  textCompletion: 'text_completion',
  generateContent: 'generate_content',
  executeTool: 'execute_tool',
  invokeAgent: 'invoke_agent',
} as const;

/** Operations whose span is a model call. */
export const MODEL_OPERATIONS: readonly string[] = [OPERATION.chat, OPERATION.textCompletion, OPERATION.generateContent];

/** Span events of older GenAI convention versions, before messages moved to span attributes. */
export const GENAI_EVENTS = {
  userMessage: 'gen_ai.user.message',
  systemMessage: 'gen_ai.system.message',
  assistantMessage: 'gen_ai.assistant.message',
  toolMessage: 'gen_ai.tool.message',
  choice: 'gen_ai.choice',
  contentPrompt: 'gen_ai.content.prompt',
  contentCompletion: 'gen_ai.content.completion',
} as const;

export const OPENINFERENCE = {
  spanKind: 'openinference.span.kind',
  modelName: 'llm.model_name',
  provider: 'llm.provider',
  promptTokens: 'llm.token_count.prompt',
  completionTokens: 'llm.token_count.completion',
  toolName: 'tool.name',
  toolParameters: 'tool.parameters',
  toolCallId: 'tool_call.id',
  inputValue: 'input.value',
  outputValue: 'output.value',
  /** Flattened: llm.input_messages.N.message.role / .content / .tool_call_id. */
  inputMessages: 'llm.input_messages',
  /** Flattened: llm.output_messages.N.message.tool_calls.M.tool_call.function.name / .arguments / .id. */
  outputMessages: 'llm.output_messages',
  agentName: 'agent.name',
} as const;

/** shadowgate's own attributes on the spans it exports. */
export const SHADOWGATE = {
  runId: 'shadowgate.run.id',
  suite: 'shadowgate.suite',
  candidate: 'shadowgate.candidate',
  phase: 'shadowgate.phase',
  verdict: 'shadowgate.gate.verdict',
  agreementRate: 'shadowgate.agreement.rate',
  traces: 'shadowgate.traces',
  traceId: 'shadowgate.trace.id',
  caseId: 'shadowgate.case.id',
  trial: 'shadowgate.trial',
  workflow: 'shadowgate.workflow',
  input: 'shadowgate.input',
  status: 'shadowgate.status',
  agree: 'shadowgate.agree',
  effectsAgree: 'shadowgate.effects_agree',
  sequenceSimilarity: 'shadowgate.sequence_similarity',
  divergenceStep: 'shadowgate.divergence.step_index',
  decision: 'shadowgate.decision',
  costUsd: 'shadowgate.cost_usd',
  errorCode: 'shadowgate.error.code',
  mock: 'shadowgate.mock',
  promptVersion: 'shadowgate.prompt_version',
} as const;
