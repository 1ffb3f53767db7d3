import { BudgetExceededError, OffTraceError, ReplayStop, ToolCallError } from '../errors.js';
import type { LlmStep, Trace } from '../trace/schema.js';
import type { MockToolbox } from './mock-tools.js';
import type { CandidateStep } from './types.js';

export interface Budgets {
  maxSteps?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxWallMs?: number;
}

/**
 * The harness side of one candidate run on one trace: every tool call goes
 * through the mocks and is recorded as a step, budgets are enforced, and the
 * first stop (off-trace call or budget) is final whatever the candidate does next.
 */
export class ReplaySession {
  readonly steps: CandidateStep[] = [];
  stop: ReplayStop | undefined;
  private tokens = 0;
  private cost = 0;

  constructor(
    readonly trace: Trace,
    private readonly toolbox: MockToolbox,
    private readonly budgets: Budgets,
  ) {}

  /** Ends the run with this stop (the first one wins) and returns it, to be thrown. */
  halt(stop: ReplayStop): ReplayStop {
    this.stop ??= stop;
    return this.stop;
  }

  private beforeStep(): void {
    if (this.stop) throw this.stop;
    const { maxSteps } = this.budgets;
    if (maxSteps !== undefined && this.steps.length >= maxSteps) {
      throw this.halt(new BudgetExceededError('maxSteps', `step budget of ${maxSteps} steps exhausted`));
    }
  }

  /** A mocked tool call: resolves to the recorded (or acknowledged, or stubbed) result. */
  async callTool(name: string, args: Record<string, unknown>): Promise<unknown> {
    this.beforeStep();
    const answer = this.toolbox.call(name, args);
    switch (answer.kind) {
      case 'off-trace':
        this.steps.push({ type: 'tool', name, args, error: { code: 'SG_OFF_TRACE', message: answer.reason }, mock: 'off-trace' });
        throw this.halt(new OffTraceError(name, answer.reason));
      case 'error':
        this.steps.push({ type: 'tool', name, args, error: answer.error, latencyMs: answer.recorded.latencyMs, mock: answer.source });
        throw new ToolCallError(name, answer.error);
      case 'result':
        this.steps.push({ type: 'tool', name, args, result: answer.result, latencyMs: answer.recorded?.latencyMs, mock: answer.source });
        return answer.result;
    }
  }

  /** Checks the step budget before a model call. */
  beforeModelCall(): void {
    this.beforeStep();
  }

  /** Records a model step and charges its tokens and cost against the budgets. */
  recordModelStep(step: LlmStep, costUsd: number | null): void {
    this.steps.push(step);
    this.tokens += (step.usage?.inputTokens ?? 0) + (step.usage?.outputTokens ?? 0);
    this.cost += costUsd ?? 0;
    const { maxTokens, maxCostUsd } = this.budgets;
    if (maxTokens !== undefined && this.tokens > maxTokens) {
      throw this.halt(new BudgetExceededError('maxTokens', `token budget of ${maxTokens} exceeded (${this.tokens})`));
    }
    if (maxCostUsd !== undefined && this.cost > maxCostUsd) {
      throw this.halt(new BudgetExceededError('maxCostUsd', `cost budget of $${maxCostUsd} exceeded ($${this.cost.toFixed(4)})`));
    }
  }
}
