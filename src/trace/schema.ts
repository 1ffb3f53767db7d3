import { z } from 'zod';

/** Any JSON value. */
export const JsonSchema: z.ZodType<unknown> = z.unknown();

export const ToolCallSchema = z.strictObject({
  id: z.string(),
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const UsageSchema = z.strictObject({
  /** All input tokens of the call, cached ones included. */
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  /** The part of inputTokens served from the provider's prompt cache. */
  cachedInputTokens: z.number().int().nonnegative().optional(),
  /** The part of inputTokens written to the provider's prompt cache (Anthropic's cache_creation_input_tokens). */
  cacheWriteInputTokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const LlmStepSchema = z.strictObject({
  type: z.literal('llm'),
  model: z.string().min(1),
  promptVersion: z.string().optional(),
  messages: z.array(z.unknown()).optional(),
  output: z.strictObject({
    text: z.string().optional(),
    toolCalls: z.array(ToolCallSchema).optional(),
  }),
  usage: UsageSchema.optional(),
  costUsd: z.number().nonnegative().optional(),
  latencyMs: z.number().nonnegative().optional(),
  startedAt: z.string().optional(),
});
export type LlmStep = z.infer<typeof LlmStepSchema>;

export const ToolStepSchema = z.strictObject({
  type: z.literal('tool'),
  id: z.string().optional(),
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
  result: z.unknown().optional(),
  error: z.unknown().optional(),
  latencyMs: z.number().nonnegative().optional(),
  startedAt: z.string().optional(),
});
export type ToolStep = z.infer<typeof ToolStepSchema>;

export const StepSchema = z.discriminatedUnion('type', [LlmStepSchema, ToolStepSchema]);
export type Step = z.infer<typeof StepSchema>;

export const OutcomeStatusSchema = z.enum(['completed', 'escalated', 'failed', 'aborted']);
export type OutcomeStatus = z.infer<typeof OutcomeStatusSchema>;

export const OutcomeSchema = z.strictObject({
  status: OutcomeStatusSchema,
  decision: z.unknown().optional(),
  output: z.unknown().optional(),
});
export type Outcome = z.infer<typeof OutcomeSchema>;

export const ActionSchema = z.strictObject({
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
});
export type Action = z.infer<typeof ActionSchema>;

export const HumanSchema = z.strictObject({
  decision: z.unknown().optional(),
  actions: z.array(ActionSchema).optional(),
  verdict: z.enum(['accepted', 'edited', 'rejected']).optional(),
  final: z.unknown().optional(),
  reviewer: z.string().optional(),
  reviewedAt: z.string().optional(),
  reviewMs: z.number().nonnegative().optional(),
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
  schema: z.literal(TRACE_SCHEMA_ID),
  id: z.string().min(1),
  caseId: z.string().min(1).optional(),
  trial: z.number().int().nonnegative().optional(),
  workflow: z.string().min(1),
  recordedAt: z.string().optional(),
  phase: PhaseSchema.optional(),
  agent: z
    .strictObject({
      model: z.string().optional(),
      promptVersion: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  input: z.unknown().refine((v) => v !== undefined, { message: 'input is required' }),
  steps: z.array(StepSchema),
  outcome: OutcomeSchema.optional(),
  human: HumanSchema.optional(),
  tags: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Trace = z.infer<typeof TraceSchema>;

/** The key that pairs traces of one case across runs and trace sets. */
export function caseIdOf(trace: Pick<Trace, 'id' | 'caseId'>): string {
  return trace.caseId ?? trace.id;
}
