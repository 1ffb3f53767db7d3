import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceSchema, type Step, type Trace } from '../trace/schema.js';
import { importOtelTraces } from './otel.js';

const FIXTURES = resolve(import.meta.dirname, '../../fixtures/otel');
const importFixture = (name: string, options: { workflow?: string } = {}) =>
  importOtelTraces(readFileSync(resolve(FIXTURES, name), 'utf8'), { file: name, ...options });

/** The parts of steps the replay depends on, in order. */
const shape = (steps: Step[]) =>
  steps.map((s) => (s.type === 'llm' ? { llm: s.model, text: s.output.text, calls: s.output.toolCalls } : { tool: s.name, id: s.id, args: s.args, result: s.result }));

// Small OTLP builders for the cases the fixtures do not cover.
type Attr = string | number | boolean;
const attrs = (a: Record<string, Attr>): { key: string; value: Record<string, unknown> }[] =>
  Object.entries(a).map(([key, v]) => ({ key, value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : { intValue: v } }));
const T = 1_761_458_626_000_000_000n;
function span(traceId: string, spanId: string, parent: string | null, name: string, startMs: number, endMs: number, a: Record<string, Attr>) {
  return {
    traceId, spanId, ...(parent ? { parentSpanId: parent } : {}), name,
    startTimeUnixNano: String(T + BigInt(startMs) * 1_000_000n), endTimeUnixNano: String(T + BigInt(endMs) * 1_000_000n),
    attributes: attrs(a),
  };
}
const request = (...spans: unknown[]) => ({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] });
const TID = '11111111111111111111111111111111';
const TID2 = '22222222222222222222222222222222';

describe('importOtelTraces', () => {
  it('reads current GenAI names: model and tool steps in time order, tool calls paired by id, usage and latency from the spans', () => {
    const { traces, issues } = importFixture('genai-current.json');
    expect(issues).toEqual([]);
    expect(traces).toHaveLength(1);
    const [trace] = traces as [Trace];
    expect(TraceSchema.safeParse(trace).success).toBe(true);
    expect({ id: trace.id, workflow: trace.workflow, recordedAt: trace.recordedAt, input: trace.input, agent: trace.agent, metadata: trace.metadata }).toEqual({
      id: '5b8efff798038103d269b633813fc60c',
      workflow: 'refund-triage',
      recordedAt: '2025-10-26T06:03:46.000Z',
      input: { order_id: 'ORD-1', ticket_text: 'The kettle arrived broken, please refund $20.' },
      agent: { model: 'gpt-4.1-mini-2025-04-14' },
      metadata: { source: 'otel', otelTraceId: '5b8efff798038103d269b633813fc60c', otelSpanId: 'eee19b7ec3c1b174' },
    });
    expect(shape(trace.steps)).toEqual([
      { llm: 'gpt-4.1-mini-2025-04-14', text: undefined, calls: [{ id: 'call_1', name: 'get_order', args: { order_id: 'ORD-1' } }] },
      { tool: 'get_order', id: 'call_1', args: { order_id: 'ORD-1' }, result: { order_id: 'ORD-1', total: 20, status: 'delivered' } },
      { llm: 'gpt-4.1-mini', text: 'Refunding 20 USD.', calls: [{ id: 'call_2', name: 'issue_refund', args: { order_id: 'ORD-1', amount: 20 } }] },
      { tool: 'issue_refund', id: 'call_2', args: { order_id: 'ORD-1', amount: 20 }, result: { refund_id: 'R-9', status: 'issued' } },
      { llm: 'gpt-4.1-mini', text: 'The refund of 20 USD is issued.', calls: undefined },
    ]);
    const second = trace.steps[2]!;
    expect(second.type === 'llm' && { usage: second.usage, latencyMs: second.latencyMs, startedAt: second.startedAt }).toEqual({
      usage: { inputTokens: 480, outputTokens: 31, cachedInputTokens: 384 },
      latencyMs: 330,
      startedAt: '2025-10-26T06:03:46.370Z',
    });
  });

  it('reads deprecated names: gen_ai.system, prompt/completion tokens, messages as span events, a tool span paired by call id', () => {
    const { traces, issues } = importFixture('genai-deprecated.jsonl');
    expect(issues).toEqual([]);
    const [trace] = traces as [Trace];
    expect({ workflow: trace.workflow, input: trace.input, replayable: trace.metadata?.replayable }).toEqual({
      workflow: 'support-escalation',
      input: 'Customer C-7 wants a refund for a late parcel.',
      replayable: undefined,
    });
    expect(shape(trace.steps)).toEqual([
      { llm: 'gpt-4o', text: undefined, calls: [{ id: 'call_a', name: 'get_customer', args: { customer_id: 'C-7' } }] },
      // The tool span has neither arguments nor result: the arguments are the model's call, the result the tool message sent back.
      { tool: 'get_customer', id: 'call_a', args: { customer_id: 'C-7' }, result: { customer_id: 'C-7', fraud_flag: true } },
      { llm: 'gpt-4o-2024-08-06', text: 'Escalating: the customer is flagged.', calls: undefined },
    ]);
    expect(trace.steps.map((s) => (s.type === 'llm' ? s.usage : null))).toEqual([{ inputTokens: 200, outputTokens: 18 }, null, { inputTokens: 260, outputTokens: 9 }]);
  });

  it('reads OpenInference: LLM and TOOL spans, flattened output messages, the root input.value as input', () => {
    const { traces, issues } = importFixture('openinference.json');
    expect(issues).toEqual([]);
    const [trace] = traces as [Trace];
    expect({ workflow: trace.workflow, input: trace.input }).toEqual({ workflow: 'refund-workflow', input: { order_id: 'ORD-5', amount: 600 } });
    expect(shape(trace.steps)).toEqual([
      { llm: 'claude-sonnet-4', text: undefined, calls: [{ id: 'toolu_01', name: 'check_refund_policy', args: { order_id: 'ORD-5', amount: 600 } }] },
      // tool.parameters is the tool's schema; the call's arguments are input.value.
      { tool: 'check_refund_policy', id: 'toolu_01', args: { order_id: 'ORD-5', amount: 600 }, result: { eligible: true, escalation_limit: 500 } },
      { llm: 'claude-sonnet-4', text: 'Above the limit: escalating.', calls: [{ id: 'toolu_02', name: 'escalate_to_human', args: { reason: 'over_limit' } }] },
      { tool: 'escalate_to_human', id: 'toolu_02', args: { reason: 'over_limit' }, result: { queued: true } },
    ]);
  });

  it('reads OpenLLMetry\'s flattened gen_ai.prompt.N / gen_ai.completion.N attributes: tool calls, the tool step from the tool message, the input', () => {
    const { traces, issues } = importFixture('openllmetry.json');
    expect(issues).toEqual([]);
    expect(traces).toHaveLength(1);
    const [trace] = traces as [Trace];
    expect(TraceSchema.safeParse(trace).success).toBe(true);
    // The user message's content is a JSON list of text parts, as OpenLLMetry writes list contents.
    expect({ workflow: trace.workflow, input: trace.input, agent: trace.agent, replayable: trace.metadata?.replayable }).toEqual({
      workflow: 'refund-bot',
      input: 'Order ORD-3 arrived damaged; can I get my $35 back?',
      agent: { model: 'gpt-4o-2024-08-06' },
      replayable: undefined,
    });
    expect(shape(trace.steps)).toEqual([
      { llm: 'gpt-4o-2024-08-06', text: undefined, calls: [{ id: 'call_r1', name: 'get_order', args: { order_id: 'ORD-3' } }] },
      // No tool span: the call stands for the step, its result the tool message sent back in the next prompt.
      { tool: 'get_order', id: 'call_r1', args: { order_id: 'ORD-3' }, result: { order_id: 'ORD-3', total: 35, status: 'delivered', damaged_report: true } },
      { llm: 'gpt-4o-2024-08-06', text: 'ORD-3 is delivered and reported damaged: refunding 35 USD.', calls: undefined },
    ]);
  });

  it('a model span whose messages are in a layout it does not read is an issue naming the span, and its trace is not replayable', () => {
    const s = span(TID, '00000000000000d1', null, 'chat m', 0, 10, {
      'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.prompt.0.text': 'hello', 'gen_ai.completion.0.delta.text': 'hi',
    });
    const { traces, issues } = importOtelTraces(JSON.stringify(request(s)), { file: 'x.json' });
    const at = { file: 'x.json', line: 1, path: 'resourceSpans.0.scopeSpans.0.spans.0' };
    expect(issues).toEqual([
      { ...at, message: 'model span 00000000000000d1 (chat m): input messages (gen_ai.prompt.0.text) in a layout that is not read; they are left out' },
      { ...at, message: 'model span 00000000000000d1 (chat m): output messages (gen_ai.completion.0.delta.text) in a layout that is not read; they are left out' },
    ]);
    expect(traces.map((t) => t.metadata)).toEqual([{ source: 'otel', otelTraceId: TID, replayable: false, notReplayableReason: 'step 0 (chat m) has no recorded output' }]);
  });

  it('tool-call arguments that are not JSON make the trace not replayable, naming the step and the tool', () => {
    const out = JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'lookup', arguments: '{q: x' }] }]);
    const chat = span(TID, '00000000000000e1', null, 'chat m', 0, 5, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.output.messages': out });
    const toolSpan = (args: string) =>
      span(TID, '00000000000000e2', null, 'execute_tool lookup', 6, 8, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup', 'gen_ai.tool.call.id': 'c1', 'gen_ai.tool.call.arguments': args, 'gen_ai.tool.call.result': '{"hit":1}' });
    const metadataOf = (...spans: unknown[]) => importOtelTraces(JSON.stringify(request(...spans)), { file: 'x.json' }).traces.map((t) => t.metadata);
    // The model's call is recorded as {}: not what the model asked for.
    expect(metadataOf(chat, toolSpan('{"q":"x"}'))).toEqual([
      { source: 'otel', otelTraceId: TID, replayable: false, notReplayableReason: 'step 0 (chat m): call c1 to lookup: arguments are not JSON' },
    ]);
    // The tool span's own arguments are not JSON either.
    expect(metadataOf(chat, toolSpan('q=x'))).toEqual([
      { source: 'otel', otelTraceId: TID, replayable: false, notReplayableReason: 'step 0 (chat m): call c1 to lookup: arguments are not JSON; step 1 (lookup): arguments are not JSON' },
    ]);
    // JSON that is not an object is named as such.
    expect(metadataOf(toolSpan('[1,2]'))).toEqual([{ source: 'otel', otelTraceId: TID, replayable: false, notReplayableReason: 'step 0 (lookup): arguments are not a JSON object' }]);
  });

  it('imports a trace whose tool step has no arguments or result and whose model steps have no output, marked not replayable with the reasons', () => {
    const { traces, issues } = importFixture('no-tool-args.json', { workflow: 'billing-v2' });
    expect(issues).toEqual([]);
    const [trace] = traces as [Trace];
    expect(TraceSchema.safeParse(trace).success).toBe(true);
    expect(trace.workflow).toBe('billing-v2');
    expect(trace.metadata).toEqual({
      source: 'otel',
      otelTraceId: 'a3ce929d0e0e47364bf92f3577b34da6',
      otelSpanId: '1000000000000001',
      replayable: false,
      notReplayableReason: 'step 0 (chat gpt-4.1) has no recorded output; step 1 (get_invoice) has no recorded arguments; step 1 (get_invoice) has no recorded result; step 2 (chat gpt-4.1) has no recorded output',
    });
  });

  it('names file, line and path of what it cannot read, and imports the rest', () => {
    const good = request(
      span(TID, 'aaaaaaaaaaaaaaaa', null, 'chat m', 0, 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }),
    );
    const badId = request(span('xyz', 'bbbbbbbbbbbbbbbb', null, 'chat m', 0, 10, { 'gen_ai.operation.name': 'chat' }));
    const text = [JSON.stringify(good), '{not json', JSON.stringify({ spans: [] }), JSON.stringify(badId), ''].join('\n');
    const { traces, issues } = importOtelTraces(text, { file: 'spans.jsonl' });
    expect(traces.map((t) => t.id)).toEqual([TID]);
    expect(issues.map((i) => ({ ...i, message: i.message.slice(0, 40) }))).toEqual([
      { file: 'spans.jsonl', line: 2, message: expect.stringMatching(/^invalid JSON/) as string },
      { file: 'spans.jsonl', line: 3, path: 'resourceSpans', message: 'not OTLP JSON trace data: expected an ob' },
      { file: 'spans.jsonl', line: 4, path: 'resourceSpans.0.scopeSpans.0.spans.0.traceId', message: 'missing or malformed traceId; the span i' },
    ]);
  });

  it('reads JSON Lines that start with a byte order mark, first line included', () => {
    const first = request(span(TID, 'aaaaaaaaaaaaaaaa', null, 'chat m', 0, 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }));
    const second = request(span(TID2, 'bbbbbbbbbbbbbbbb', null, 'chat m', 0, 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }));
    const { traces, issues } = importOtelTraces(`\uFEFF${JSON.stringify(first)}\n${JSON.stringify(second)}\n`, { file: 'spans.jsonl' });
    expect(issues).toEqual([]);
    expect(traces.map((t) => t.id)).toEqual([TID, TID2]);
  });

  it('reads base64 ids and integers written as numbers or strings', () => {
    const b64Trace = Buffer.from(TID, 'hex').toString('base64');
    const b64Span = Buffer.from('aaaaaaaaaaaaaaaa', 'hex').toString('base64');
    const s = span(b64Trace, b64Span, null, 'chat m', 0, 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.usage.output_tokens': 5 });
    s.attributes.push({ key: 'gen_ai.usage.input_tokens', value: { intValue: '12' } });
    const { traces } = importOtelTraces(JSON.stringify(request(s)), { file: 'x.json' });
    expect(traces.map((t) => ({ id: t.id, usage: t.steps[0]?.type === 'llm' ? t.steps[0].usage : null }))).toEqual([{ id: TID, usage: { inputTokens: 12, outputTokens: 5 } }]);
  });

  it('makes one trace per outermost invoke_agent span; a nested agent stays in its parent', () => {
    const root = span(TID, '0000000000000001', null, 'run', 0, 100, {});
    const agentA = span(TID, '000000000000000a', '0000000000000001', 'invoke_agent a', 1, 40, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'wf-a' });
    const inner = span(TID, '000000000000000c', '000000000000000a', 'invoke_agent sub', 2, 30, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'sub' });
    const chatA = span(TID, '00000000000000a1', '000000000000000c', 'chat m', 3, 10, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' });
    const agentB = span(TID, '000000000000000b', '0000000000000001', 'invoke_agent b', 50, 90, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'wf-b' });
    const chatB = span(TID, '00000000000000b1', '000000000000000b', 'chat m', 51, 60, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' });
    const { traces, issues } = importOtelTraces(JSON.stringify(request(root, agentA, inner, chatA, agentB, chatB)), { file: 'x.json' });
    expect(issues).toEqual([]);
    expect(traces.map((t) => ({ id: t.id, workflow: t.workflow, steps: t.steps.length }))).toEqual([
      { id: `${TID}-000000000000000a`, workflow: 'wf-a', steps: 1 },
      { id: `${TID}-000000000000000b`, workflow: 'wf-b', steps: 1 },
    ]);
  });

  it('without tool spans, makes tool steps of the model calls answered later; an unanswered last call ends the run and is no step', () => {
    const out1 = JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'lookup', arguments: '{"q":"x"}' }] }]);
    const in2 = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'find x' }] }, { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '{"hit":1}' }] }]);
    const out2 = JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c2', name: 'final_decision', arguments: { action: 'done' } }] }]);
    const chat = (id: string, start: number, a: Record<string, Attr>) => span(TID2, id, null, 'chat m', start, start + 5, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', ...a });
    const { traces } = importOtelTraces(JSON.stringify(request(chat('00000000000000c1', 0, { 'gen_ai.output.messages': out1 }), chat('00000000000000c2', 10, { 'gen_ai.input.messages': in2, 'gen_ai.output.messages': out2 }))), { file: 'x.json' });
    const [trace] = traces as [Trace];
    expect({ input: trace.input, steps: shape(trace.steps), replayable: trace.metadata?.replayable }).toEqual({
      input: 'find x',
      steps: [
        { llm: 'm', text: undefined, calls: [{ id: 'c1', name: 'lookup', args: { q: 'x' } }] },
        { tool: 'lookup', id: 'c1', args: { q: 'x' }, result: { hit: 1 } },
        { llm: 'm', text: undefined, calls: [{ id: 'c2', name: 'final_decision', args: { action: 'done' } }] },
      ],
      replayable: undefined,
    });
  });

  it('skips an OTel trace with no model or tool spans, with an issue', () => {
    const { traces, issues } = importOtelTraces(JSON.stringify(request(span(TID, '0000000000000001', null, 'GET /health', 0, 1, { 'http.request.method': 'GET' }))), { file: 'x.json' });
    expect(traces).toEqual([]);
    expect(issues).toEqual([{ file: 'x.json', line: 1, path: 'resourceSpans.0.scopeSpans.0.spans.0', message: expect.stringContaining(`trace ${TID} has no model or tool spans`) as string }]);
  });
});
