import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { aResult, aTrace } from '../testing/builders.js';
import type { RunOutcome } from '../run/run-suite.js';
import { createOtlpHttpExporter, FailureRecordingExporter, OtlpJsonFileExporter } from './exporters.js';
import { readOtlpJson } from './otlp-json.js';
import { createRunTracer, startRunSpans } from './run-spans.js';

const trace = aTrace('t-1').withWorkflow('refund-triage').withInput({ order_id: 'A1' }).build();
const result = aResult('t-1', {
  status: 'completed',
  agree: false,
  decision: { action: 'refund' },
  latencyMs: 50,
  steps: [
    { type: 'llm', model: 'gpt-4.1-mini', output: { toolCalls: [{ id: 'call_1', name: 'get_order', args: { order_id: 'A1' } }] }, usage: { inputTokens: 100, outputTokens: 7 }, latencyMs: 30 },
    { type: 'tool', name: 'get_order', args: { order_id: 'A1' }, result: { total: 20 }, latencyMs: 5, mock: 'recording' },
    { type: 'tool', name: 'issue_refund', args: { amount: 20 }, error: 'declined', latencyMs: 1, mock: 'off-trace' },
  ],
});
// Only what the run span reads of an outcome.
const outcome = { meta: { runId: 'run-1' }, gate: { verdict: 'pass' }, metrics: { agreement: { rate: 0 } } } as unknown as RunOutcome;

/** Keeps what it is given (the SDK's in-memory exporter forgets it at shutdown). */
function memoryExporter(): SpanExporter & { spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  return { spans, export: (batch, done) => (spans.push(...batch), done({ code: 0 })), shutdown: () => Promise.resolve() };
}

async function emit(exporters: SpanExporter[], results = 1) {
  const { tracer, shutdown } = createRunTracer(exporters);
  const spans = startRunSpans(tracer, { suite: 'refund', candidate: 'tool-loop openai:gpt-4.1-mini', phase: 'shadow', model: 'openai:gpt-4.1-mini' }, 1_000);
  for (let i = 0; i < results; i++) spans.result(result, trace, 2_000);
  spans.finish(outcome, 3_000);
  await shutdown();
}

describe('run spans', () => {
  it('emit a run span, an invoke_agent span per result and a chat / execute_tool span per step, with GenAI attributes', async () => {
    const memory = memoryExporter();
    await emit([memory]);
    const spans = memory.spans;
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    const run = byName('run refund');
    const agent = byName('invoke_agent refund-triage');
    expect(spans.map((s) => s.name).sort()).toEqual(['chat gpt-4.1-mini', 'execute_tool get_order', 'execute_tool issue_refund', 'invoke_agent refund-triage', 'run refund']);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(parentOf(agent)).toBe(run.spanContext().spanId);
    expect(['chat gpt-4.1-mini', 'execute_tool get_order', 'execute_tool issue_refund'].map((n) => parentOf(byName(n)))).toEqual([agent.spanContext().spanId, agent.spanContext().spanId, agent.spanContext().spanId]);
    expect(run.attributes).toEqual({
      'shadowgate.suite': 'refund', 'shadowgate.candidate': 'tool-loop openai:gpt-4.1-mini', 'shadowgate.phase': 'shadow',
      'shadowgate.run.id': 'run-1', 'shadowgate.gate.verdict': 'pass', 'shadowgate.traces': 1, 'shadowgate.agreement.rate': 0,
    });
    expect(agent.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'refund-triage', 'shadowgate.workflow': 'refund-triage',
      'shadowgate.trace.id': 't-1', 'shadowgate.case.id': 't-1', 'shadowgate.trial': 0, 'shadowgate.status': 'completed',
      'shadowgate.input': '{"order_id":"A1"}', 'shadowgate.agree': false, 'shadowgate.effects_agree': true, 'shadowgate.sequence_similarity': 1,
      'shadowgate.decision': '{"action":"refund"}',
    });
    expect(byName('chat gpt-4.1-mini').attributes).toEqual({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1-mini', 'gen_ai.response.model': 'gpt-4.1-mini',
      'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 7,
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_order', arguments: { order_id: 'A1' } }], finish_reason: 'tool_call' }]),
    });
    // The tool step carries no id of its own: it gets the id of the model's call it answers.
    expect(byName('execute_tool get_order').attributes).toEqual({
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_order', 'gen_ai.tool.type': 'function', 'gen_ai.tool.call.id': 'call_1',
      'gen_ai.tool.call.arguments': '{"order_id":"A1"}', 'gen_ai.tool.call.result': '{"total":20}', 'shadowgate.mock': 'recording',
    });
    const failed = byName('execute_tool issue_refund');
    expect({ status: failed.status, error: failed.attributes['error.type'], callId: failed.attributes['gen_ai.tool.call.id'] }).toEqual({ status: { code: 2, message: 'declined' }, error: 'declined', callId: undefined });
    // Steps end to end from the trace span's start (the result ended at 2000 ms after 50 ms).
    const ms = (s: ReadableSpan) => [s.startTime[0] * 1000 + s.startTime[1] / 1e6, s.endTime[0] * 1000 + s.endTime[1] / 1e6];
    expect([agent, byName('chat gpt-4.1-mini'), byName('execute_tool get_order'), failed].map(ms)).toEqual([[1950, 2000], [1950, 1980], [1980, 1985], [1985, 1986]]);
    expect(ms(run)).toEqual([1000, 3000]);
  });

  describe('exporters', () => {
    let dir: string | undefined;
    let server: ReturnType<typeof createServer> | undefined;
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      server?.close();
      dir = server = undefined;
    });

    async function listen(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => answer(req, body, res));
      });
      await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
      const address = server.address() as { port: number };
      return `http://127.0.0.1:${address.port}`;
    }

    it('the file exporter writes OTLP JSON lines that read back as the same spans', async () => {
      dir = mkdtempSync(join(tmpdir(), 'sg-otel-'));
      const file = join(dir, 'spans.jsonl');
      const memory = memoryExporter();
      await emit([new OtlpJsonFileExporter(file), memory]);
      const { spans, issues } = readOtlpJson(readFileSync(file, 'utf8'), 'spans.jsonl');
      expect(issues).toEqual([]);
      expect(spans.map((s) => ({ id: s.spanId, parent: s.parentSpanId, name: s.name, resource: s.resource['service.name'] })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        memory.spans
          .map((s) => ({ id: s.spanContext().spanId, parent: s.parentSpanContext?.spanId ?? null, name: s.name, resource: 'shadowgate' }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      );
      expect(spans.find((s) => s.name === 'execute_tool issue_refund')?.status).toEqual({ code: 'error', message: 'declined' });
    });

    it('the OTLP/HTTP exporter posts JSON to /v1/traces of a bare endpoint', async () => {
      const received: { path?: string; type?: string; body: string }[] = [];
      const url = await listen((req, body, res) => {
        received.push({ path: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      const exporter = new FailureRecordingExporter(createOtlpHttpExporter(url), url);
      await emit([exporter]);
      expect(exporter.failures).toEqual([]);
      expect(received.map((r) => ({ path: r.path, type: r.type }))).toEqual([{ path: '/v1/traces', type: 'application/json' }]);
      const { spans } = readOtlpJson(received[0]!.body, 'request');
      expect(spans.map((s) => s.name).sort()).toEqual(['chat gpt-4.1-mini', 'execute_tool get_order', 'execute_tool issue_refund', 'invoke_agent refund-triage', 'run refund']);
    });

    it('an endpoint that refuses the spans is reported, not thrown', async () => {
      const url = await listen((_req, _body, res) => res.writeHead(400).end('bad request'));
      const exporter = new FailureRecordingExporter(createOtlpHttpExporter(`${url}/custom/path`), 'collector');
      await emit([exporter]);
      expect(exporter.failures).toHaveLength(1);
      expect(exporter.failures[0]).toMatch(/^collector: .*\(5 of 5 span\(s\) lost\)$/);
    });

    it('a refusing endpoint loses every batch of a run larger than one batch, and all are counted', async () => {
      let requests = 0;
      const url = await listen((_req, _body, res) => {
        requests += 1;
        res.writeHead(400).end('bad request');
      });
      const exporter = new FailureRecordingExporter(createOtlpHttpExporter(url), 'collector');
      const memory = memoryExporter();
      // 4 spans a result and the run span: more than one batch of 1024.
      await emit([exporter, memory], 400);
      const total = memory.spans.length;
      expect(total).toBeGreaterThan(1024);
      expect(requests).toBe(Math.ceil(total / 1024));
      expect(exporter.failures).toEqual([expect.stringMatching(new RegExp(`^collector: .*\\(${total} of ${total} span\\(s\\) lost\\)$`)) as string]);
    });
  });
});
