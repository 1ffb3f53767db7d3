/**
 * `shadowgate import otel`: OTLP JSON spans (the Collector's file exporter, JSON Lines, or
 * one OTLP/HTTP JSON request body) that follow the OpenTelemetry GenAI semantic conventions
 * (current and deprecated names) or OpenInference, turned into `shadowgate.trace/v1`.
 *
 * - One trace per outermost agent span (`invoke_agent`, OpenInference AGENT) with the model
 *   and tool spans below it; the model and tool spans of an OTel trace that sit under no
 *   agent span make one trace of their own. A file of one agent run per OTel trace thus
 *   gives one trace per traceId, and a shadowgate export (one OTel trace per run, an
 *   agent span per replayed trace) gives back its traces.
 * - Model spans become model steps (tool calls from the output messages), tool spans tool
 *   steps, paired with the model's call by `gen_ai.tool.call.id` (else by name, in order),
 *   their arguments and results parsed from JSON strings. A call with no tool span is a tool
 *   step too when the trace has no tool spans at all, its result taken from the tool message
 *   sent back to the model (a call of the last model step that got no answer ended the run,
 *   as a final decision does, and is no step).
 * - Steps are ordered by start time. A tool step without arguments or a result cannot be
 *   mocked, a model step with no recorded output (content capture off, or a layout not
 *   read) says nothing of what the model did, and tool-call arguments that are not a JSON
 *   object are not what the model asked for: such a trace is imported with
 *   `metadata.replayable: false` and the reasons. A model span whose content attributes
 *   are there but yield no messages is also an issue, naming the span.
 */
import type { Issue } from '../errors.js';
import { GENAI, MODEL_OPERATIONS, OPENINFERENCE, OPERATION, SHADOWGATE } from '../otel/conventions.js';
import { inputMessagesOf, outputMessagesOf, parseArgs, parseJsonish, type ArgsProblem, type Message, type MessageToolCall } from '../otel/messages.js';
import { readOtlpJson, type FlatSpan } from '../otel/otlp-json.js';
import { OutcomeStatusSchema, TRACE_SCHEMA_ID, type LlmStep, type Step, type ToolStep, type Trace } from '../trace/schema.js';
import { replayability } from './conversation.js';
import { jsonOrText } from './records.js';
import type { Importer, ImportOptions } from './types.js';

type SpanRole = 'agent' | 'model' | 'tool' | 'other';

/** The workflow of imported traces when neither --workflow nor the spans name one. */
export const DEFAULT_OTEL_WORKFLOW = 'otel';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : undefined);

export function roleOf(span: FlatSpan): SpanRole {
  const a = span.attributes;
  const op = str(a[GENAI.operationName]);
  const kind = upper(a[OPENINFERENCE.spanKind]);
  if (op === OPERATION.invokeAgent || kind === 'AGENT' || (!op && span.name.startsWith(`${OPERATION.invokeAgent} `))) return 'agent';
  if (op === OPERATION.executeTool || kind === 'TOOL' || (!op && span.name.startsWith(`${OPERATION.executeTool} `))) return 'tool';
  if ((op && MODEL_OPERATIONS.includes(op)) || kind === 'LLM') return 'model';
  // Spans of older instrumentations carry a model but no operation name.
  if (!op && !kind && (str(a[GENAI.requestModel]) || str(a[GENAI.responseModel]))) return 'model';
  return 'other';
}

const byTime = (a: FlatSpan, b: FlatSpan) => (a.startNs === b.startNs ? a.order - b.order : a.startNs === null ? 1 : b.startNs === null ? -1 : a.startNs < b.startNs ? -1 : 1);
const isoOf = (ns: bigint | null) => (ns === null ? undefined : new Date(Number(ns / 1_000_000n)).toISOString());
const msBetween = (start: bigint | null, end: bigint | null) => (start === null || end === null || end < start ? undefined : Number(end - start) / 1e6);

/** Groups one OTel trace's spans: one group per outermost agent span, plus one for the GenAI spans under none. */
function groupsOf(spans: FlatSpan[]): { root: FlatSpan | null; members: FlatSpan[] }[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const agentAncestor = new Map<string, FlatSpan | null>();
  const outermostAgent = (span: FlatSpan): FlatSpan | null => {
    if (agentAncestor.has(span.spanId)) return agentAncestor.get(span.spanId)!;
    agentAncestor.set(span.spanId, null); // guards against parent cycles
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    const above = parent ? outermostAgent(parent) : null;
    const found = above ?? (roleOf(span) === 'agent' ? span : null);
    agentAncestor.set(span.spanId, found);
    return found;
  };
  const groups = new Map<string, { root: FlatSpan | null; members: FlatSpan[] }>();
  for (const span of spans) {
    const root = outermostAgent(span);
    const key = root?.spanId ?? '';
    if (!groups.has(key)) groups.set(key, { root, members: [] });
    groups.get(key)!.members.push(span);
  }
  return [...groups.values()].filter((g) => g.members.some((s) => roleOf(s) === 'model' || roleOf(s) === 'tool'));
}

interface ToolSpanData {
  span: FlatSpan;
  id: string | null;
  name: string | null;
  args: Record<string, unknown> | null;
  argsProblem?: ArgsProblem;
  result: unknown;
  error: unknown;
}

function toolSpanData(span: FlatSpan): ToolSpanData {
  const a = span.attributes;
  // OpenInference: the call's arguments are input.value (tool.parameters is the tool's schema).
  const rawArgs = a[GENAI.toolCallArguments] ?? a['tool_call.function.arguments'] ?? a[OPENINFERENCE.inputValue];
  const rawResult = a[GENAI.toolCallResult] ?? a[OPENINFERENCE.outputValue];
  const failed = span.status.code === 'error';
  const { args, problem } = parseArgs(rawArgs);
  return {
    span,
    id: str(a[GENAI.toolCallId]) ?? str(a[OPENINFERENCE.toolCallId]) ?? null,
    name: str(a[GENAI.toolName]) ?? str(a[OPENINFERENCE.toolName]) ?? (span.name.startsWith(`${OPERATION.executeTool} `) ? span.name.slice(OPERATION.executeTool.length + 1) : null),
    args,
    ...(problem ? { argsProblem: problem } : {}),
    result: rawResult === undefined ? undefined : jsonOrText(rawResult),
    error: failed ? (span.status.message ?? str(a[GENAI.errorType]) ?? 'error') : undefined,
  };
}

function modelStep(span: FlatSpan, output: Message[], options: ImportOptions): LlmStep {
  const a = span.attributes;
  const model = str(a[GENAI.responseModel]) ?? str(a[GENAI.requestModel]) ?? str(a[OPENINFERENCE.modelName]) ?? options.model ?? 'unknown';
  const text = output.map((m) => m.text).filter((t) => t !== undefined).join('');
  const calls = output.flatMap((m) => m.toolCalls);
  const inputTokens = num(a[GENAI.inputTokens]) ?? num(a[GENAI.promptTokens]) ?? num(a[OPENINFERENCE.promptTokens]);
  const outputTokens = num(a[GENAI.outputTokens]) ?? num(a[GENAI.completionTokens]) ?? num(a[OPENINFERENCE.completionTokens]);
  const cached = num(a[GENAI.cacheReadInputTokens]) ?? num(a['llm.token_count.prompt_details.cache_read']);
  const latencyMs = msBetween(span.startNs, span.endNs);
  const startedAt = isoOf(span.startNs);
  const promptVersion = str(a[SHADOWGATE.promptVersion]);
  const raw = a[GENAI.inputMessages];
  return {
    type: 'llm',
    model,
    ...(promptVersion ? { promptVersion } : {}),
    ...(raw !== undefined && Array.isArray(parseJsonish(raw)) ? { messages: parseJsonish(raw) as unknown[] } : {}),
    output: {
      ...(text ? { text } : {}),
      ...(calls.length ? { toolCalls: calls.map((c, i) => ({ id: c.id ?? `${span.spanId}-${i}`, name: c.name, args: c.args ?? {} })) } : {}),
    },
    ...(inputTokens !== undefined && outputTokens !== undefined
      ? { usage: { inputTokens, outputTokens, ...(cached !== undefined ? { cachedInputTokens: cached } : {}) } }
      : {}),
    ...(latencyMs !== undefined ? { latencyMs } : {}),
    ...(startedAt ? { startedAt } : {}),
  };
}

/** The input: shadowgate's own attribute, the root span's input.value (OpenInference), or the first user message sent to a model. */
function inputOf(root: FlatSpan | null, modelInputs: Message[]): unknown {
  const own = root?.attributes[SHADOWGATE.input];
  if (own !== undefined) return jsonOrText(own);
  const value = root?.attributes[OPENINFERENCE.inputValue];
  if (value !== undefined) return parseJsonish(value);
  const user = [...(root ? inputMessagesOf(root) : []), ...modelInputs].find((m) => m.role === 'user' && m.text !== undefined);
  return user?.text === undefined ? null : parseJsonish(user.text);
}

/** Attribute keys and event names that hold what a model was sent or answered, in the layouts read and in others like them. */
const CONTENT = {
  input: { key: /^(gen_ai\.(prompt|input\.messages)|llm\.input_messages)(\.|$)/, event: /^gen_ai\.((user|system|assistant|tool)\.message|content\.prompt)$/ },
  output: { key: /^(gen_ai\.(completion|output\.messages)|llm\.output_messages)(\.|$)/, event: /^gen_ai\.(choice|content\.completion)$/ },
};

/** An issue for a model span whose messages of one side are there but gave none; null when there are none to read. */
function unreadContent(span: FlatSpan, side: keyof typeof CONTENT, options: ImportOptions): Issue | null {
  const { key, event } = CONTENT[side];
  const found = [...Object.keys(span.attributes).filter((k) => key.test(k)), ...span.events.filter((e) => event.test(e.name)).map((e) => `event ${e.name}`)];
  if (!found.length) return null;
  const shown = found.slice(0, 3).join(', ') + (found.length > 3 ? `, and ${found.length - 3} more` : '');
  return { file: options.file, line: span.line, path: span.path, message: `model span ${span.spanId} (${span.name}): ${side} messages (${shown}) in a layout that is not read; they are left out` };
}

function buildTrace(traceId: string, group: { root: FlatSpan | null; members: FlatSpan[] }, id: string, options: ImportOptions, issues: Issue[]): Trace {
  const spans = [...group.members].sort(byTime);
  const models = spans.filter((s) => roleOf(s) === 'model').map((span) => ({ span, input: inputMessagesOf(span), output: outputMessagesOf(span) }));
  const tools = spans.filter((s) => roleOf(s) === 'tool').map(toolSpanData);

  // Results sent back to the model, by call id: for calls no tool span recorded.
  const responses = new Map<string, unknown>();
  for (const m of models) for (const msg of m.input) for (const r of msg.toolResponses) if (r.id) responses.set(r.id, r.result);

  // Pair each tool span with the model call that asked for it: by call id, else the first open call of its name.
  const callOf = new Map<ToolSpanData, MessageToolCall>();
  const open: MessageToolCall[] = [];
  const pending = [...spans];
  for (const span of pending) {
    const model = models.find((m) => m.span === span);
    if (model) open.push(...model.output.flatMap((msg) => msg.toolCalls));
    const tool = tools.find((t) => t.span === span);
    if (!tool) continue;
    const at = open.findIndex((c) => (tool.id ? c.id === tool.id : c.name === tool.name));
    if (at >= 0) callOf.set(tool, open.splice(at, 1)[0]!);
  }
  // Where no tool span was recorded at all, the calls stand for the tool steps; a call of the
  // last model step that got no answer ended the run (a final decision) and is no step.
  const lastModel = models[models.length - 1];
  const unpairedCalls = new Set(
    tools.length > 0 ? [] : open.filter((c) => (c.id !== null && responses.has(c.id)) || !lastModel?.output.some((m) => m.toolCalls.includes(c))),
  );

  const steps: Step[] = [];
  const reasons: string[] = [];
  const toolStep = (name: string, id: string | null, args: Record<string, unknown> | null, argsProblem: ArgsProblem | undefined, result: unknown, error: unknown, span?: FlatSpan): ToolStep => {
    const n = steps.length;
    if (argsProblem) reasons.push(`step ${n} (${name}): ${argsProblem}`);
    else if (!args) reasons.push(`step ${n} (${name}) has no recorded arguments`);
    if (result === undefined && error === undefined) reasons.push(`step ${n} (${name}) has no recorded result`);
    const latencyMs = span ? msBetween(span.startNs, span.endNs) : undefined;
    const startedAt = span ? isoOf(span.startNs) : undefined;
    return {
      type: 'tool',
      ...(id ? { id } : {}),
      name,
      args: args ?? {},
      ...(result !== undefined ? { result } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(latencyMs !== undefined ? { latencyMs } : {}),
      ...(startedAt ? { startedAt } : {}),
    };
  };
  for (const span of spans) {
    const model = models.find((m) => m.span === span);
    if (model) {
      const step = modelStep(span, model.output, options);
      const n = steps.length;
      if (model.output.length === 0) reasons.push(`step ${n} (${span.name}) has no recorded output`);
      for (const side of ['input', 'output'] as const) {
        const issue = model[side].length === 0 ? unreadContent(span, side, options) : null;
        if (issue) issues.push(issue);
      }
      for (const call of model.output.flatMap((m) => m.toolCalls)) {
        if (call.argsProblem) reasons.push(`step ${n} (${span.name}): call ${call.id ?? 'without id'} to ${call.name}: ${call.argsProblem}`);
      }
      steps.push(step);
      // Calls no tool span answered: a tool step each, right after the model step.
      const calls = model.output.flatMap((m) => m.toolCalls);
      calls.forEach((call, i) => {
        if (!unpairedCalls.has(call)) return;
        const callId = step.output.toolCalls![i]!.id;
        steps.push(toolStep(call.name, callId, call.args, call.argsProblem, call.id ? responses.get(call.id) : undefined, undefined));
      });
      continue;
    }
    const tool = tools.find((t) => t.span === span);
    if (!tool) continue;
    const call = callOf.get(tool);
    const name = tool.name ?? call?.name ?? 'unknown';
    // The span's own arguments first; when they are unusable, the model's call stands in, but the trace is not replayable.
    const args = tool.args ?? call?.args ?? null;
    steps.push(toolStep(name, tool.id ?? call?.id ?? null, args, tool.argsProblem ?? (args ? undefined : call?.argsProblem), tool.result ?? (tool.id ? responses.get(tool.id) : undefined), tool.error, span));
  }

  const root = group.root ?? spans.find((s) => !s.parentSpanId) ?? null;
  const ra = root?.attributes ?? {};
  const firstModel = models[0];
  const earliest = spans.concat(root ? [root] : []).reduce<bigint | null>((min, s) => (s.startNs !== null && (min === null || s.startNs < min) ? s.startNs : min), null);
  const workflow =
    options.workflow ?? str(ra[SHADOWGATE.workflow]) ?? str(ra[GENAI.agentName]) ?? str(ra[OPENINFERENCE.agentName]) ?? str(root?.resource['service.name']) ?? DEFAULT_OTEL_WORKFLOW;
  const model = firstModel ? (steps.find((s) => s.type === 'llm') as LlmStep).model : options.model;
  const decision = ra[SHADOWGATE.decision];
  const status = OutcomeStatusSchema.safeParse(ra[SHADOWGATE.status]);
  const caseId = str(ra[SHADOWGATE.caseId]);
  const trial = num(ra[SHADOWGATE.trial]);
  const recordedAt = isoOf(earliest);
  return {
    schema: TRACE_SCHEMA_ID,
    id,
    ...(caseId ? { caseId } : {}),
    ...(trial !== undefined && Number.isInteger(trial) && trial >= 0 ? { trial } : {}),
    workflow,
    ...(recordedAt ? { recordedAt } : {}),
    ...(model && model !== 'unknown' ? { agent: { model } } : {}),
    input: (inputOf(root, models.flatMap((m) => m.input)) ?? null) as Trace['input'],
    steps,
    ...(decision !== undefined ? { outcome: { status: status.success ? status.data : 'completed', decision: jsonOrText(decision) } } : {}),
    metadata: {
      source: 'otel',
      otelTraceId: traceId,
      ...(group.root ? { otelSpanId: group.root.spanId } : {}),
      ...replayability(reasons),
    },
  };
}

/** OTLP JSON with GenAI or OpenInference spans → traces; see the file's comment for the rules. */
export const importOtelTraces: Importer = (text, options) => {
  const { spans, issues } = readOtlpJson(text, options.file);
  const traces: Trace[] = [];
  const byTrace = new Map<string, FlatSpan[]>();
  const seen = new Set<string>();
  for (const span of spans) {
    const key = `${span.traceId}/${span.spanId}`;
    if (seen.has(key)) {
      issues.push({ file: options.file, line: span.line, path: `${span.path}.spanId`, message: `span ${span.spanId} of trace ${span.traceId} appears twice; the first is kept` });
      continue;
    }
    seen.add(key);
    if (!byTrace.has(span.traceId)) byTrace.set(span.traceId, []);
    byTrace.get(span.traceId)!.push(span);
  }
  const ids = new Set<string>();
  for (const [traceId, members] of byTrace) {
    const groups = groupsOf(members);
    if (groups.length === 0) {
      const first = members[0]!;
      issues.push(noGenAiSpans(options, first, traceId));
      continue;
    }
    for (const group of groups) {
      const own = str(group.root?.attributes[SHADOWGATE.traceId]);
      let id = own ?? (groups.length > 1 && group.root ? `${traceId}-${group.root.spanId}` : traceId);
      const trial = group.root?.attributes[SHADOWGATE.trial];
      if (ids.has(id) && typeof trial === 'number') id = `${id}#${trial}`;
      if (ids.has(id)) {
        issues.push({ file: options.file, line: group.root?.line, path: group.root?.path, message: `trace id ${id} is already taken; this agent span is skipped` });
        continue;
      }
      ids.add(id);
      traces.push(buildTrace(traceId, group, id, options, issues));
    }
  }
  return { traces, issues };
};

function noGenAiSpans(options: ImportOptions, first: FlatSpan, traceId: string): Issue {
  return {
    file: options.file,
    line: first.line,
    path: first.path,
    message: `trace ${traceId} has no model or tool spans (no gen_ai.operation.name chat/execute_tool, no openinference.span.kind LLM/TOOL); it is skipped`,
  };
}
