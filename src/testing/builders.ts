/**
 * Test builders: small, typed ways to make valid traces, tool catalogs and
 * trace results without large object literals.
 *
 *   aTrace('t1').withInput({ order_id: 'A1' })
 *     .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
 *     .withHumanDecision({ action: 'refund' }, [{ name: 'issue_refund', args: { amount: 20 } }])
 *     .build();
 */
import type { TraceResult } from '../replay/types.js';
import type { EffectClass, ToolCatalog, ToolDefinition } from '../trace/catalog.js';
import { ToolCatalogSchema } from '../trace/catalog.js';
import {
  TRACE_SCHEMA_ID,
  TraceSchema,
  type Action,
  type OutcomeStatus,
  type Step,
  type Trace,
  type Usage,
} from '../trace/schema.js';

/** A tool call a model step asks for; the id is made up when absent. */
export interface ModelToolCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

export class TraceBuilder {
  private trace: Trace;
  private callIds = 0;

  constructor(id: string) {
    this.trace = { schema: TRACE_SCHEMA_ID, id, workflow: 'refund-triage', input: {}, steps: [] };
  }

  withCaseId(caseId: string): this {
    this.trace.caseId = caseId;
    return this;
  }

  withTrial(trial: number): this {
    this.trace.trial = trial;
    return this;
  }

  withWorkflow(workflow: string): this {
    this.trace.workflow = workflow;
    return this;
  }

  withInput(input: Trace['input']): this {
    this.trace.input = input;
    return this;
  }

  /** A tool step; `result` left out when not given. */
  withToolCall(name: string, args: Record<string, unknown>, result?: unknown): this {
    return this.withStep({ type: 'tool', name, args, ...(result !== undefined ? { result } : {}) });
  }

  /** A tool step whose call failed: it changed nothing. */
  withFailedToolCall(name: string, args: Record<string, unknown>, error: unknown): this {
    return this.withStep({ type: 'tool', name, args, error });
  }

  /** A model step asking for these tool calls (ids `call_1`, `call_2`, ... unless given). */
  withModelStep(toolCalls: readonly ModelToolCall[], usage?: Usage, model = 'gpt-4.1-mini'): this {
    return this.withStep({
      type: 'llm',
      model,
      output: { toolCalls: toolCalls.map((c) => ({ id: c.id ?? `call_${++this.callIds}`, name: c.name, args: c.args })) },
      ...(usage ? { usage } : {}),
    });
  }

  withStep(step: Step): this {
    this.trace.steps.push(step);
    return this;
  }

  withHumanDecision(decision: unknown, actions?: Action[]): this {
    this.trace.human = { ...this.trace.human, decision, ...(actions ? { actions } : {}) };
    return this;
  }

  withOutcome(status: OutcomeStatus, decision?: unknown): this {
    this.trace.outcome = { status, ...(decision !== undefined ? { decision } : {}) };
    return this;
  }

  /** The trace, validated against `shadowgate.trace/v1` (a builder misuse throws). */
  build(): Trace {
    return TraceSchema.parse(structuredClone(this.trace));
  }
}

export function aTrace(id = 'trace-1'): TraceBuilder {
  return new TraceBuilder(id);
}

/**
 * A tool catalog from `name → effect class` or `name → definition less its name`:
 * `aCatalog({ get_order: 'read', issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } } })`.
 */
export function aCatalog(tools: Record<string, EffectClass | Omit<ToolDefinition, 'name'>>): ToolCatalog {
  // Every effect given is an EffectClass, so the parsed catalog holds no `unknown` one.
  return ToolCatalogSchema.parse({
    tools: Object.entries(tools).map(([name, t]) => (typeof t === 'string' ? { name, effect: t } : { name, ...t })),
  }) as ToolCatalog;
}

/** A completed, agreeing trace result with no steps; override what the test is about. */
export function aResult(traceId = 'trace-1', overrides: Partial<TraceResult> = {}): TraceResult {
  return {
    traceId,
    caseId: traceId,
    trial: 0,
    status: 'completed',
    agree: true,
    effectsAgree: true,
    sequenceSimilarity: 1,
    divergence: null,
    costUsd: null,
    latencyMs: null,
    decision: null,
    effects: [],
    usage: null,
    error: null,
    reference: { decision: null, tools: [] },
    source: { file: 'traces/test.jsonl', line: 1 },
    steps: [],
    ...overrides,
  };
}
