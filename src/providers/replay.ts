import { ReplayStop } from '../errors.js';
import type { LlmStep } from '../trace/schema.js';
import type { ModelCallContext, ModelProvider, ModelRequest, ModelResponse } from './types.js';

/** The replay model has no recorded answer for this call: the candidate left the recorded path (`diverged`). */
export class ReplayExhaustedError extends ReplayStop {
  readonly status = 'diverged';
  constructor(traceId: string, callIndex: number) {
    super('SG_OFF_TRACE', `trace ${traceId} has no recorded model step #${callIndex}`);
  }
}

/**
 * Answers the n-th model call of a replay with the n-th recorded model step of
 * the trace: a tool loop on this provider reproduces the recorded agent.
 */
export function createReplayProvider(): ModelProvider {
  return {
    id: 'replay',
    async complete(_request: ModelRequest, { trace, callIndex }: ModelCallContext): Promise<ModelResponse> {
      const step = trace.steps.filter((s): s is LlmStep => s.type === 'llm')[callIndex];
      if (!step) throw new ReplayExhaustedError(trace.id, callIndex);
      return {
        model: step.model,
        text: step.output.text,
        toolCalls: step.output.toolCalls ?? [],
        usage: step.usage,
        costUsd: step.costUsd,
        latencyMs: step.latencyMs,
        servedFrom: 'recording',
      };
    },
  };
}
