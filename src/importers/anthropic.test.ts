import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importAnthropicTraces } from './anthropic.js';

// Made-up logs (see test/fixtures/importers/README.md).
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/importers');
const NOTE = { note: 'made up by the shadowgate authors for the importer tests; not a real log' };
const SYSTEM = { role: 'system', content: 'You look up orders and answer customers.' };

describe('importAnthropicTraces', () => {
  const { traces, issues } = importAnthropicTraces(readFileSync(join(FIXTURES, 'anthropic-messages.json'), 'utf8'), { file: 'anthropic-messages.json' });

  it('turns tool_use and tool_result blocks into steps; is_error makes a failed step; text next to results goes to the next model step', () => {
    expect(traces[0]).toEqual({
      schema: 'shadowgate.trace/v1',
      id: 'msg-a',
      workflow: 'anthropic-messages',
      agent: { model: 'claude-haiku-4-5' },
      input: 'Refund order ORD-3, it arrived broken.',
      steps: [
        {
          type: 'llm',
          model: 'claude-haiku-4-5',
          messages: [SYSTEM, { role: 'user', content: 'Refund order ORD-3, it arrived broken.' }],
          output: { text: 'Let me look at the order.', toolCalls: [{ id: 'toolu_1', name: 'get_order', args: { order_id: 'ORD-3' } }] },
        },
        { type: 'tool', id: 'toolu_1', name: 'get_order', args: { order_id: 'ORD-3' }, result: { order_id: 'ORD-3', total: 40 } },
        { type: 'llm', model: 'claude-haiku-4-5', output: { toolCalls: [{ id: 'toolu_2', name: 'issue_refund', args: { order_id: 'ORD-3', amount: 40 } }] } },
        { type: 'tool', id: 'toolu_2', name: 'issue_refund', args: { order_id: 'ORD-3', amount: 40 }, error: 'refund service unavailable' },
        { type: 'llm', model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Any news?' }], output: { toolCalls: [{ id: 'toolu_3', name: 'escalate', args: { reason: 'refund failed' } }] } },
        { type: 'tool', id: 'toolu_3', name: 'escalate', args: { reason: 'refund failed' }, result: 'queued' },
        { type: 'llm', model: 'claude-haiku-4-5', output: { text: 'I passed your refund to a colleague.' } },
      ],
      outcome: { status: 'completed', output: 'I passed your refund to a colleague.' },
      metadata: { ...NOTE, importedFrom: 'anthropic' },
    });
  });

  it('reads a request/response log with its usage: cache reads and writes are part of the input tokens', () => {
    expect(traces[1]).toEqual({
      schema: 'shadowgate.trace/v1',
      id: 'msg_b1',
      workflow: 'anthropic-messages',
      agent: { model: 'claude-sonnet-4-5-20250929' },
      input: 'Is ORD-4 shipped?',
      steps: [
        {
          type: 'llm',
          model: 'claude-sonnet-4-5-20250929',
          messages: [SYSTEM, { role: 'user', content: 'Is ORD-4 shipped?' }],
          output: { text: 'I cannot see ORD-4 without a tool.' },
          usage: { inputTokens: 150, outputTokens: 12, cachedInputTokens: 100, cacheWriteInputTokens: 20 },
        },
      ],
      outcome: { status: 'completed', output: 'I cannot see ORD-4 without a tool.' },
      metadata: { ...NOTE, importedFrom: 'anthropic' },
    });
  });

  it('reports a malformed block with the record and its path', () => {
    expect(traces).toHaveLength(2);
    expect(issues).toEqual([{ file: 'anthropic-messages.json', path: '2.messages.1.content.0.id', message: 'required' }]);
  });

  it('marks a trace not replayable where a tool_use input is not an object, naming the step and tool', () => {
    const log = {
      id: 'msg-x',
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'user', content: 'Refund ORD-1' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'issue_refund', input: '{"order_id": "ORD-1"' }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
        { role: 'assistant', content: 'Refunded.' },
      ],
    };
    const { traces: [trace], issues: found } = importAnthropicTraces(JSON.stringify(log), { file: 'x.json' });
    expect(trace!.steps[1]).toMatchObject({ type: 'tool', name: 'issue_refund', args: {} });
    expect(trace!.metadata).toEqual({ importedFrom: 'anthropic', replayable: false, notReplayableReason: 'step 1 (issue_refund) has arguments that are not a JSON object' });
    expect(found).toEqual([{ file: 'x.json', path: 'messages.1', message: expect.stringContaining('tool call toolu_1 (issue_refund): arguments are not a JSON object') }]);
  });

  it('names an OpenAI record as such rather than read it without its tool calls', () => {
    const openai = [
      { role: 'user', content: 'Find ORD-5' },
      { role: 'assistant', content: 'Looking.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_order', arguments: '{}' } }] },
    ];
    expect(importAnthropicTraces(JSON.stringify({ model: 'gpt-4o', messages: openai }), { file: 'x.json' })).toEqual({
      traces: [],
      issues: [{ file: 'x.json', path: 'messages.1.tool_calls', message: '`tool_calls` belongs to OpenAI Chat Completions, not Anthropic Messages: import the file with `shadowgate import openai`' }],
    });
  });

  it('joins the logged calls of one loop, in JSON Lines', () => {
    const request = { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Find ORD-5' }] };
    const use = { type: 'tool_use', id: 'toolu_9', name: 'get_order', input: { order_id: 'ORD-5' } };
    const first = { request, response: { id: 'msg_1', model: 'claude-haiku-4-5', content: [use], usage: { input_tokens: 10, output_tokens: 5 } } };
    const second = {
      request: { ...request, messages: [...request.messages, { role: 'assistant', content: [use] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: '{"status":"lost"}' }] }] },
      response: { id: 'msg_2', model: 'claude-haiku-4-5', content: [{ type: 'text', text: 'ORD-5 is lost.' }], usage: { input_tokens: 30, output_tokens: 6 } },
    };
    const { traces: joined, issues: none } = importAnthropicTraces(`${JSON.stringify(first)}\n${JSON.stringify(second)}\n`, { file: 'calls.jsonl' });
    expect(none).toEqual([]);
    expect(joined.map((t) => [t.id, t.steps.map((s) => (s.type === 'llm' ? s.usage?.outputTokens : s.result))])).toEqual([['msg_1', [5, { status: 'lost' }, 6]]]);
  });
});
