import { z } from 'zod';

/** Any JSON value. */
export const JsonSchema: z.ZodType<unknown> = z.unknown();

export const ToolCallSchema = z.strictObject({
  id: z.string().describe('The call id, as the provider gave it.'),
  name: z.string().min(1).describe('The tool called.'),
  args: z.record(z.string(), z.unknown()).describe('Its arguments.'),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const UsageSchema = z.strictObject({
  inputTokens: z.number().int().nonnegative().describe('All input tokens of the call, cached ones included.'),
  outputTokens: z.number().int().nonnegative().describe('Output tokens of the call.'),
  cachedInputTokens: z.number().int().nonnegative().optional().describe("The part of inputTokens served from the provider's prompt cache."),
  cacheWriteInputTokens: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe("The part of inputTokens written to the provider's prompt cache (Anthropic's cache_creation_input_tokens)."),
});
export type Usage = z.infer<typeof UsageSchema>;

export const LlmStepSchema = z.strictObject({
  type: z.literal('llm').describe('A model call.'),
  model: z.string().min(1).describe('The model that answered.'),
  promptVersion: z.string().optional().describe('The prompt version it ran with.'),
  messages: z.array(z.unknown()).optional().describe('The messages sent since the previous model step.'),
  output: z
    .strictObject({
      text: z.string().optional().describe('Its text.'),
      toolCalls: z.array(ToolCallSchema).optional().describe('The tool calls it asked for.'),
    })
    .describe("The model's answer."),
  usage: UsageSchema.optional().describe('Token usage, priced by the pricing table.'),
  costUsd: z.number().nonnegative().optional().describe('Its cost as recorded, in USD.'),
  latencyMs: z.number().nonnegative().optional().describe('How long it took.'),
  startedAt: z.string().optional().describe('When it started (ISO 8601).'),
});
export type LlmStep = z.infer<typeof LlmStepSchema>;

export const ToolStepSchema = z.strictObject({
  type: z.literal('tool').describe('A tool call and its answer: what the mocks answer a replay with.'),
  id: z.string().optional().describe('The id of the model\'s call it answers.'),
  name: z.string().min(1).describe('The tool called.'),
  args: z.record(z.string(), z.unknown()).describe('Its arguments, matched canonically (keys sorted) against the candidate\'s call.'),
  result: z.unknown().optional().describe('What the tool returned.'),
  error: z.unknown().optional().describe('Set when the call failed: a failed write is not an effect.'),
  latencyMs: z.number().nonnegative().optional().describe('How long it took.'),
  startedAt: z.string().optional().describe('When it started (ISO 8601).'),
});
export type ToolStep = z.infer<typeof ToolStepSchema>;

export const StepSchema = z.discriminatedUnion('type', [LlmStepSchema, ToolStepSchema]);
export type Step = z.infer<typeof StepSchema>;

export const OutcomeStatusSchema = z.enum(['completed', 'escalated', 'failed', 'aborted']);
export type OutcomeStatus = z.infer<typeof OutcomeStatusSchema>;

export const OutcomeSchema = z.strictObject({
  status: OutcomeStatusSchema.describe('How the run ended.'),
  decision: z.unknown().optional().describe("The agent's decision (the reference when the suite's `reference` is `recorded`)."),
  output: z.unknown().optional().describe('Any other output.'),
});
export type Outcome = z.infer<typeof OutcomeSchema>;

export const ActionSchema = z.strictObject({
  name: z.string().min(1).describe('The write tool.'),
  args: z.record(z.string(), z.unknown()).describe('Its arguments.'),
});
export type Action = z.infer<typeof ActionSchema>;

export const HumanSchema = z.strictObject({
  decision: z.unknown().optional().describe("The human's decision: the reference of agreement."),
  actions: z.array(ActionSchema).optional().describe("The human's write actions: the reference of effects agreement (without them it is `n/a`)."),
  verdict: z.enum(['accepted', 'edited', 'rejected']).optional().describe("suggest: the reviewer's verdict on the recorded agent's suggestion."),
  final: z.unknown().optional().describe('suggest: the decision the reviewer settled on.'),
  reviewer: z.string().optional().describe('Who reviewed it.'),
  reviewedAt: z.string().optional().describe('When (ISO 8601).'),
  reviewMs: z.number().nonnegative().optional().describe('How long the review took.'),
});
export type Human = z.infer<typeof HumanSchema>;

export const PhaseSchema = z.enum(['shadow', 'suggest', 'auto-with-review', 'auto']);
export type Phase = z.infer<typeof PhaseSchema>;

export const TRACE_SCHEMA_ID = 'shadowgate.trace/v1';

/**
 * How deeply arrays and objects may nest in one trace line, the trace itself being level 1.
 * Deeper values are refused when the line is read (a located issue), so that no later step
 * (canonical JSON, a comparison, the copy sent to a candidate process) runs out of stack on them.
 */
export const MAX_TRACE_DEPTH = 256;

/** One recorded run of one workflow on one case: `shadowgate.trace/v1`. */
export const TraceSchema = z.strictObject({
  schema: z.literal(TRACE_SCHEMA_ID).describe('Always `shadowgate.trace/v1`.'),
  id: z.string().min(1).describe('Unique within the suite\'s traces.'),
  caseId: z.string().min(1).optional().describe('The case it ran on: trials of a case share it, and it pairs traces across runs. Default: the id.'),
  trial: z.number().int().nonnegative().optional().describe('Which trial of the case.'),
  workflow: z.string().min(1).describe('The workflow it is a run of.'),
  recordedAt: z.string().optional().describe('When it was recorded (ISO 8601); drift places traces in time by it.'),
  phase: PhaseSchema.optional().describe('The rollout phase it was recorded in.'),
  agent: z
    .strictObject({
      model: z.string().optional().describe('The model the recorded agent ran on.'),
      promptVersion: z.string().optional().describe('Its prompt version.'),
      version: z.string().optional().describe('Its version.'),
    })
    .optional()
    .describe('The agent that was recorded.'),
  input: z.unknown().refine((v) => v !== undefined, { message: 'input is required' }).describe('What the agent was given: the candidate gets the same.'),
  steps: z.array(StepSchema).describe('The ordered model (`llm`) and tool (`tool`) steps.'),
  outcome: OutcomeSchema.optional().describe('How the run ended and what the agent decided.'),
  human: HumanSchema.optional().describe('What a person decided, did or said of the suggestion.'),
  tags: z.array(z.string()).optional().describe('Free labels; `injection` marks a prompt-injection attempt (`gate.injectionFailures`).'),
  metadata: z.record(z.string(), z.unknown()).optional().describe('Anything else; importers keep their source\'s details here.'),
});
export type Trace = z.infer<typeof TraceSchema>;

/** The key that pairs traces of one case across runs and trace sets. */
export function caseIdOf(trace: Pick<Trace, 'id' | 'caseId'>): string {
  return trace.caseId ?? trace.id;
}
