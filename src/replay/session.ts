import { BudgetExceededError, LoopDetectedError, OffTraceError, ReplayStop, ToolCallError } from '../errors.js';
import { callKey, withCallKeys } from '../trace/canonical.js';
import type { LlmStep, Trace } from '../trace/schema.js';
import type { ToolGuard, Violation } from './guard.js';
import type { MockToolbox } from './mock-tools.js';
import type { CandidateStep } from './types.js';

/** A tool call's answer: its result, or the error the call fails with (a ToolCallError, or the stop that ended the trace). */
export type ToolAnswer = { ok: true; value: unknown } | { ok: false; error: Error };

/** What kind of answer a tool call got: a result, a failed call (the candidate may go on), or a stop (the trace is over). */
export type AnswerKind = 'result' | 'error' | 'stop';

export function answerKind(answer: ToolAnswer): AnswerKind {
  return answer.ok ? 'result' : answer.error instanceof ToolCallError ? 'error' : 'stop';
}

export interface Budgets {
  maxSteps?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxWallMs?: number;
  /** The same tool with the same arguments this many times in a row ends the trace `loop_detected`. */
  maxRepeatedCalls?: number;
}

/**
 * Tokens and cost spent across a whole run, shared by its sessions: once a
 * run-wide limit is passed, every further model call stops its trace.
 */
export class RunBudget {
  tokens = 0;
  costUsd = 0;
  constructor(readonly limits: { maxTokens?: number; maxCostUsd?: number } = {}) {}

  exhausted(): BudgetExceededError | undefined {
    const { maxTokens, maxCostUsd } = this.limits;
    if (maxTokens !== undefined && this.tokens >= maxTokens) {
      return new BudgetExceededError('run.maxTokens', `the run's token budget of ${maxTokens} is spent (${this.tokens})`);
    }
    if (maxCostUsd !== undefined && this.costUsd >= maxCostUsd) {
      return new BudgetExceededError('run.maxCostUsd', `the run's cost budget of $${maxCostUsd} is spent ($${this.costUsd.toFixed(4)})`);
    }
    return undefined;
  }
}

/**
 * The harness side of one candidate run on one trace: every tool call goes
 * through the mocks and is recorded as a step, budgets are enforced, and the
 * first stop (off-trace call, budget, loop) is final whatever the candidate does next.
 */
export class ReplaySession {
  readonly steps: CandidateStep[] = [];
  stop: ReplayStop | undefined;
  /** Wall time spent waiting for model answers; the steps carry each answer's own latency instead. */
  modelWaitMs = 0;
  /**
   * The first model request of this trace that the infrastructure failed, as the harness saw
   * it (the provider past its retries, a cassette miss, no connection): the only ground on
   * which a candidate's error is taken as missing evidence rather than as its own failure.
   */
  infrastructureFailure: { code: string; message: string } | undefined;
  private tokens = 0;
  private cost = 0;
  private lastCall = '';
  private repeats = 0;
  /** Safety rules broken on this trace: invalid arguments, duplicate effects. */
  readonly violations: Violation[] = [];
  private readonly effects = new Set<string>();

  constructor(
    readonly trace: Trace,
    readonly toolbox: MockToolbox,
    private readonly budgets: Budgets,
    private readonly run: RunBudget = new RunBudget(),
    private readonly guard?: ToolGuard,
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

  private countRepeat(name: string, args: Record<string, unknown>): void {
    const key = callKey(name, args);
    this.repeats = key === this.lastCall ? this.repeats + 1 : 1;
    this.lastCall = key;
    const limit = this.budgets.maxRepeatedCalls;
    if (limit !== undefined && this.repeats >= limit) throw this.halt(new LoopDetectedError(name, this.repeats));
  }

  /** A mocked tool call: resolves to the recorded (or acknowledged, or stubbed) result. */
  async callTool(name: string, args: Record<string, unknown>): Promise<unknown> {
    return this.toolNow(name, args);
  }

  /** `callTool`, answered at once: what it would resolve to, or the error it would reject with. */
  answerTool(name: string, args: Record<string, unknown>): ToolAnswer {
    try {
      return { ok: true, value: this.toolNow(name, args) };
    } catch (error) {
      return { ok: false, error: error as Error };
    }
  }

  /**
   * A call answered elsewhere (in a candidate's process), replayed here: recorded as `callTool`
   * records it, and only the kind of answer it gets is returned (no copy of it is made).
   */
  replayTool(name: string, args: Record<string, unknown>): AnswerKind {
    try {
      this.toolNow(name, args, false);
      return 'result';
    } catch (error) {
      return error instanceof ToolCallError ? 'error' : 'stop';
    }
  }

  /**
   * `copy`: the caller (candidate code) gets its own copy of the answer, and the step its own copy
   * of the arguments, so that what the candidate does with either changes neither the recorded
   * step nor the trace. A replayed call (`replayTool`) needs none: its arguments came over the
   * channel, and its answer is not given to anyone.
   */
  private toolNow(name: string, args: Record<string, unknown>, copy = true): unknown {
    // Synchronous: the arguments are keyed once for the mocks, the effect and the repeats.
    return withCallKeys(() => this.answerNow(name, args, copy));
  }

  private answerNow(name: string, args: Record<string, unknown>, copy: boolean): unknown {
    const own = (value: Record<string, unknown>) => (copy ? structuredClone(value) : value);
    this.beforeStep();
    const problem = this.guard?.schemaProblem(name, args);
    if (problem) {
      // Fail closed: arguments that do not fit the tool's schema get no answer.
      this.violations.push({ kind: 'schema_violation', step: this.steps.length, tool: name, message: problem });
      this.steps.push({ type: 'tool', name, args: own(args), error: { code: 'SCHEMA_VIOLATION', message: problem } });
      throw new ToolCallError(name, { code: 'SCHEMA_VIOLATION', message: problem });
    }
    const refusal = this.guard?.policyRefusal(this.trace.workflow, name, args);
    if (refusal) {
      // Fail closed: a call the policy refuses gets no answer. The breach itself is found, with
      // the rules checked at the trace's end, from the steps (see buildResult).
      this.steps.push({ type: 'tool', name, args: own(args), error: { code: 'POLICY_DENIED', message: refusal } });
      throw new ToolCallError(name, { code: 'POLICY_DENIED', message: refusal });
    }
    const effect = this.guard?.effectKey(name, args);
    if (effect) {
      if (this.effects.has(effect)) {
        this.violations.push({ kind: 'duplicate_effect', step: this.steps.length, tool: name, message: `the same ${name} was issued earlier in this trace` });
      }
      this.effects.add(effect);
    }
    const answer = this.toolbox.call(name, args);
    switch (answer.kind) {
      case 'off-trace':
        this.steps.push({ type: 'tool', name, args, error: { code: 'SG_OFF_TRACE', message: answer.reason }, mock: 'off-trace' });
        throw this.halt(new OffTraceError(name, answer.reason));
      case 'error':
        this.steps.push({ type: 'tool', name, args, error: answer.error, latencyMs: answer.recorded.latencyMs, mock: answer.source });
        this.countRepeat(name, args);
        throw new ToolCallError(name, copy ? structuredClone(answer.error) : answer.error);
      case 'result':
        this.steps.push({ type: 'tool', name, args: own(args), result: answer.result, latencyMs: answer.recorded?.latencyMs, mock: answer.source });
        this.countRepeat(name, args);
        // The candidate gets its own copy, so what it does with it cannot change the recorded step.
        return copy ? structuredClone(answer.result) : answer.result;
    }
  }

  /** Records an outbound request the sandbox refused to send (it is never sent): method and URL, already redacted. */
  recordBlocked(method: string, url: string, why: string): void {
    this.violations.push({ kind: 'blocked_request', step: this.steps.length, request: { method, url }, message: `${method} ${url} blocked: ${why}` });
  }

  /** Records a capability the permission model refused the candidate (a write outside the scratch folder, a subprocess): the call failed with ERR_ACCESS_DENIED. */
  recordDenied(kind: string, target: string): void {
    this.violations.push({ kind: 'denied_capability', step: this.steps.length, capability: { kind, target }, message: `${kind} ${target} denied by the sandbox's permission model` });
  }

  /** Records a tool call that was never made because the model's arguments were not a JSON object. */
  recordInvalidToolCall(name: string, raw: string): void {
    this.beforeStep();
    this.steps.push({ type: 'tool', name, args: {}, error: { code: 'MALFORMED_TOOL_ARGUMENTS', message: 'tool-call arguments are not a JSON object', raw } });
  }

  /** Checks the step and run budgets before a model call. */
  beforeModelCall(): void {
    this.beforeStep();
    const spent = this.run.exhausted();
    if (spent) throw this.halt(spent);
  }

  /** Records a model step and charges its tokens and cost against the trace's and the run's budgets. */
  recordModelStep(step: CandidateStep & LlmStep, costUsd: number | null): void {
    this.steps.push(step);
    const tokens = (step.usage?.inputTokens ?? 0) + (step.usage?.outputTokens ?? 0);
    this.tokens += tokens;
    this.cost += costUsd ?? 0;
    // The run's budget is about spending: answers replayed from a recording, the cache or a cassette cost nothing.
    if (!step.servedFrom) {
      this.run.tokens += tokens;
      this.run.costUsd += costUsd ?? 0;
    }
    const { maxTokens, maxCostUsd } = this.budgets;
    if (maxTokens !== undefined && this.tokens > maxTokens) {
      throw this.halt(new BudgetExceededError('maxTokens', `token budget of ${maxTokens} exceeded (${this.tokens})`));
    }
    if (maxCostUsd !== undefined && this.cost > maxCostUsd) {
      throw this.halt(new BudgetExceededError('maxCostUsd', `cost budget of $${maxCostUsd} exceeded ($${this.cost.toFixed(4)})`));
    }
  }
}
