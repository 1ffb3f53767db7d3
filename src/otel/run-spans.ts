/**
 * OpenTelemetry spans of a replay run, made from its results as they are stored: a run
 * span, an `invoke_agent` span per trace result, and below it a `chat <model>` span per
 * model step and an `execute_tool <name>` span per tool step, with the GenAI semantic
 * conventions (and shadowgate.* attributes for what they have no name for).
 *
 * Step spans are laid end to end from the start of their trace's span, each as long as its
 * step's latency: the order of the steps is exact, their times are as recorded or measured.
 * Tool arguments and results are exported in full (they are what makes the spans
 * importable as traces again); they come from the sandboxed replay, never from a live system.
 */
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { context, SpanKind, SpanStatusCode, trace as otelTrace, type Attributes, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import type { TraceResult, CandidateStep } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';
import type { LlmStep, ToolStep, Trace } from '../trace/schema.js';
import { GENAI, OPERATION, SHADOWGATE } from './conventions.js';

const SCOPE = 'shadowgate';
const VERSION = '0.1.0';

/** HrTime from epoch milliseconds (a plain number could be taken for a performance.now() time). */
function hr(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** What the run span says about the suite before any result is in. */
export interface RunSpanInfo {
  suite: string;
  candidate: string;
  phase: string;
  /** The candidate's `provider:model` (tool-loop), for gen_ai.provider.name. */
  model?: string | null;
}

export interface RunSpans {
  /** One stored result (and the trace it replayed, for its workflow and input). */
  result(result: TraceResult, trace?: Trace, endMs?: number): void;
  /** Ends the run span with the run's id, verdict and figures. */
  finish(outcome: RunOutcome, endMs?: number): void;
}

const json = (v: unknown) => JSON.stringify(v ?? null);

/** `openai:gpt-4.1` → `openai`; `replay` and bare names give no provider. */
function providerOf(model: string | null | undefined): string | undefined {
  const at = model?.indexOf(':') ?? -1;
  return model && at > 0 ? model.slice(0, at) : undefined;
}

function modelAttributes(step: LlmStep & CandidateStep, provider: string | undefined): Attributes {
  const parts = [
    ...(step.output.text ? [{ type: 'text', content: step.output.text }] : []),
    ...(step.output.toolCalls ?? []).map((c) => ({ type: 'tool_call', id: c.id, name: c.name, arguments: c.args })),
  ];
  return {
    [GENAI.operationName]: OPERATION.chat,
    ...(provider ? { [GENAI.providerName]: provider } : {}),
    [GENAI.requestModel]: step.model,
    [GENAI.responseModel]: step.model,
    ...(step.usage
      ? {
          [GENAI.inputTokens]: step.usage.inputTokens,
          [GENAI.outputTokens]: step.usage.outputTokens,
          ...(step.usage.cachedInputTokens !== undefined ? { [GENAI.cacheReadInputTokens]: step.usage.cachedInputTokens } : {}),
        }
      : {}),
    [GENAI.outputMessages]: json([{ role: 'assistant', parts, finish_reason: step.output.toolCalls?.length ? 'tool_call' : 'stop' }]),
    ...(step.promptVersion ? { [SHADOWGATE.promptVersion]: step.promptVersion } : {}),
    ...(step.costUsd !== undefined ? { [SHADOWGATE.costUsd]: step.costUsd } : {}),
    ...(step.servedFrom ? { 'shadowgate.served_from': step.servedFrom } : {}),
  };
}

function toolAttributes(step: ToolStep & CandidateStep, callId: string | undefined): Attributes {
  return {
    [GENAI.operationName]: OPERATION.executeTool,
    [GENAI.toolName]: step.name,
    'gen_ai.tool.type': 'function',
    ...(callId ? { [GENAI.toolCallId]: callId } : {}),
    [GENAI.toolCallArguments]: json(step.args),
    ...(step.result !== undefined ? { [GENAI.toolCallResult]: json(step.result) } : {}),
    ...(step.error !== undefined ? { [GENAI.errorType]: typeof step.error === 'string' ? step.error : json(step.error) } : {}),
    ...(step.mock ? { [SHADOWGATE.mock]: step.mock } : {}),
  };
}

/** The call id of each tool step: its own, else the id of the open model call of the same name before it. */
function callIds(steps: CandidateStep[]): (string | undefined)[] {
  const open: { id: string; name: string }[] = [];
  return steps.map((step) => {
    if (step.type === 'llm') {
      open.push(...(step.output.toolCalls ?? []));
      return undefined;
    }
    const at = open.findIndex((c) => (step.id ? c.id === step.id : c.name === step.name));
    const call = at >= 0 ? open.splice(at, 1)[0] : undefined;
    return step.id ?? call?.id;
  });
}

function traceAttributes(result: TraceResult, workflow: string, trace: Trace | undefined): Attributes {
  const optional = (key: string, value: string | number | boolean | null | undefined) => (value === null || value === undefined ? {} : { [key]: value });
  return {
    [GENAI.operationName]: OPERATION.invokeAgent,
    [GENAI.agentName]: workflow,
    [SHADOWGATE.workflow]: workflow,
    [SHADOWGATE.traceId]: result.traceId,
    [SHADOWGATE.caseId]: result.caseId,
    [SHADOWGATE.trial]: result.trial,
    [SHADOWGATE.status]: result.status,
    ...(trace ? { [SHADOWGATE.input]: json(trace.input) } : {}),
    ...optional(SHADOWGATE.agree, result.agree),
    ...optional(SHADOWGATE.effectsAgree, result.effectsAgree),
    ...optional(SHADOWGATE.sequenceSimilarity, result.sequenceSimilarity),
    ...optional(SHADOWGATE.divergenceStep, result.divergence?.stepIndex),
    ...optional(SHADOWGATE.costUsd, result.costUsd),
    ...(result.decision !== undefined && result.decision !== null ? { [SHADOWGATE.decision]: json(result.decision) } : {}),
    ...optional(SHADOWGATE.errorCode, result.error?.code),
  };
}

/** Starts the run span of one suite; results add their spans below it. */
export function startRunSpans(tracer: Tracer, info: RunSpanInfo, startMs = Date.now()): RunSpans {
  const provider = providerOf(info.model);
  const run = tracer.startSpan(
    `run ${info.suite}`,
    { kind: SpanKind.INTERNAL, startTime: hr(startMs), attributes: { [SHADOWGATE.suite]: info.suite, [SHADOWGATE.candidate]: info.candidate, [SHADOWGATE.phase]: info.phase } },
  );
  const runContext = otelTrace.setSpan(context.active(), run);
  let traces = 0;
  return {
    result(result, trace, endMs = Date.now()) {
      traces += 1;
      const stepsMs = result.steps.reduce((sum, s) => sum + (s.latencyMs ?? 0), 0);
      const startMs = endMs - Math.max(result.latencyMs ?? 0, stepsMs);
      const workflow = trace?.workflow ?? info.suite;
      const span = tracer.startSpan(`${OPERATION.invokeAgent} ${workflow}`, { kind: SpanKind.INTERNAL, startTime: hr(startMs), attributes: traceAttributes(result, workflow, trace) }, runContext);
      if (result.error) span.setStatus({ code: SpanStatusCode.ERROR, message: `${result.error.code}: ${result.error.message}` });
      const parent = otelTrace.setSpan(runContext, span);
      const ids = callIds(result.steps);
      let cursor = startMs;
      result.steps.forEach((step, i) => {
        const end = cursor + (step.latencyMs ?? 0);
        const child: Span =
          step.type === 'llm'
            ? tracer.startSpan(`${OPERATION.chat} ${step.model}`, { kind: SpanKind.CLIENT, startTime: hr(cursor), attributes: modelAttributes(step, provider) }, parent)
            : tracer.startSpan(`${OPERATION.executeTool} ${step.name}`, { kind: SpanKind.INTERNAL, startTime: hr(cursor), attributes: toolAttributes(step, ids[i]) }, parent);
        if (step.type === 'tool' && step.error !== undefined) child.setStatus({ code: SpanStatusCode.ERROR, message: typeof step.error === 'string' ? step.error : json(step.error) });
        child.end(hr(end));
        cursor = end;
      });
      span.end(hr(endMs));
    },
    finish(outcome, endMs = Date.now()) {
      run.setAttributes({
        [SHADOWGATE.runId]: outcome.meta.runId,
        [SHADOWGATE.verdict]: outcome.gate.verdict,
        [SHADOWGATE.traces]: traces,
        ...(outcome.metrics.agreement.rate !== null ? { [SHADOWGATE.agreementRate]: outcome.metrics.agreement.rate } : {}),
      });
      if (outcome.gate.verdict === 'fail') run.setStatus({ code: SpanStatusCode.ERROR, message: 'gate failed' });
      run.end(hr(endMs));
    },
  };
}

/** A tracer that batches spans to the given exporters; `shutdown` flushes them. */
export function createRunTracer(exporters: SpanExporter[]): { tracer: Tracer; shutdown: () => Promise<void> } {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shadowgate', 'service.version': VERSION }),
    // A large queue: a run ends thousands of spans in bursts, and the default (2048) would drop some.
    spanProcessors: exporters.map((e) => new BatchSpanProcessor(e, { maxQueueSize: 1 << 20, maxExportBatchSize: 1024 })),
  });
  // Failed exports are kept by FailureRecordingExporter, to be reported; an exporter not wrapped in one may still reject the flush.
  return { tracer: provider.getTracer(SCOPE, VERSION), shutdown: () => provider.shutdown().catch(() => undefined) };
}
