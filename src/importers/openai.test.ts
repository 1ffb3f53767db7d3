import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOpenAITraces } from './openai.js';

// Made-up logs (see test/fixtures/importers/README.md).
const FIXTURES = join(import.meta.dirname, '../../test/fixtures/importers');
const NOTE = { note: 'made up by the shadowgate authors for the importer tests; not a real log' };
const SYSTEM = { role: 'system', content: 'You look up orders and answer customers. Use the tools.' };

describe('importOpenAITraces', () => {
  const { traces, issues } = importOpenAITraces(readFileSync(join(FIXTURES, 'openai-chat.jsonl'), 'utf8'), { file: 'openai-chat.jsonl' });

  it('turns a messages conversation into model and tool steps, JSON results parsed, the final answer as outcome', () => {
    expect(traces[0]).toEqual({
      schema: 'shadowgate.trace/v1',
      id: 'conv-a',
      workflow: 'openai-chat',
      agent: { model: 'gpt-4.1-mini' },
      input: 'Where is my order ORD-1?',
      steps: [
        { type: 'llm', model: 'gpt-4.1-mini', messages: [SYSTEM, { role: 'user', content: 'Where is my order ORD-1?' }], output: { toolCalls: [{ id: 'call_1', name: 'get_order', args: { order_id: 'ORD-1' } }] } },
        { type: 'tool', id: 'call_1', name: 'get_order', args: { order_id: 'ORD-1' }, result: { order_id: 'ORD-1', status: 'shipped' } },
        { type: 'llm', model: 'gpt-4.1-mini', output: { toolCalls: [{ id: 'call_2', name: 'add_note', args: { text: 'asked about ORD-1' } }] } },
        { type: 'tool', id: 'call_2', name: 'add_note', args: { text: 'asked about ORD-1' }, result: 'note added' },
        { type: 'llm', model: 'gpt-4.1-mini', output: { text: 'Your order ORD-1 has shipped.' } },
      ],
      outcome: { status: 'completed', output: 'Your order ORD-1 has shipped.' },
      metadata: { ...NOTE, importedFrom: 'openai' },
    });
  });

  it('joins logged calls of one loop into one trace, each model step with its own usage', () => {
    expect(traces[1]).toMatchObject({
      id: 'chatcmpl-b1',
      agent: { model: 'gpt-4.1-2025-04-14' },
      input: 'Cancel order ORD-2',
      outcome: { status: 'completed', output: 'ORD-2 is cancelled.' },
      metadata: { ...NOTE, importedFrom: 'openai', joinedCalls: 2 },
    });
    expect(traces[1]!.steps).toEqual([
      expect.objectContaining({ type: 'llm', usage: { inputTokens: 120, outputTokens: 18, cachedInputTokens: 64 } }),
      { type: 'tool', id: 'call_9', name: 'cancel_order', args: { order_id: 'ORD-2' }, result: { cancelled: true } },
      { type: 'llm', model: 'gpt-4.1-2025-04-14', output: { text: 'ORD-2 is cancelled.' }, usage: { inputTokens: 160, outputTokens: 7 } },
    ]);
    expect(traces).toHaveLength(2);
  });

  it('reports bad lines with their line and path, and goes on', () => {
    expect(issues).toEqual([
      { file: 'openai-chat.jsonl', line: 4, message: expect.stringMatching(/^invalid JSON: /) },
      { file: 'openai-chat.jsonl', line: 5, path: 'messages.1.tool_call_id', message: 'required' },
      { file: 'openai-chat.jsonl', line: 6, message: 'the record names no model: pass --model' },
    ]);
  });

  it('takes the model from --model where the record names none, and a bare messages list as a conversation', () => {
    const bare = JSON.stringify([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }]);
    expect(importOpenAITraces(bare, { file: 'logs/chat.json', model: 'gpt-4o', workflow: 'support' })).toEqual({
      traces: [
        {
          schema: 'shadowgate.trace/v1',
          id: 'chat-1',
          workflow: 'support',
          agent: { model: 'gpt-4o' },
          input: 'Hi',
          steps: [{ type: 'llm', model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], output: { text: 'Hello' } }],
          outcome: { status: 'completed', output: 'Hello' },
          metadata: { importedFrom: 'openai' },
        },
      ],
      issues: [],
    });
  });

  it('leaves the outcome out where the log stops before an answer, and reports results no call asked for', () => {
    const log = JSON.stringify({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'tool', tool_call_id: 'nope', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: 'not json' } }] },
      ],
    });
    const { traces: [trace], issues: found } = importOpenAITraces(log, { file: 'x.json' });
    expect(trace!.outcome).toBeUndefined();
    expect(trace!.steps).toEqual([{ type: 'llm', model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], output: { toolCalls: [{ id: 'c1', name: 'lookup', args: {} }] } }]);
    expect(found).toEqual([
      { file: 'x.json', path: 'messages.1', message: 'tool result for tool call nope, which no earlier model turn made; left out' },
      { file: 'x.json', path: 'messages.2', message: 'tool call c1 (lookup): arguments are not a JSON object, recorded as {}; the trace is marked not replayable: not json' },
    ]);
    // the call never ran: the model step that made it is named
    expect(trace!.metadata).toMatchObject({ replayable: false, notReplayableReason: 'step 0 (lookup) has arguments that are not a JSON object' });
  });

  it('marks a trace not replayable where a call that ran had arguments that are not JSON, naming the tool step', () => {
    const log = JSON.stringify({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'Refund ORD-1' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'get_order', arguments: '{"order_id":"ORD-1"}' } }] },
        { role: 'tool', tool_call_id: 'a', content: '{"total":40}' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'b', type: 'function', function: { name: 'issue_refund', arguments: '{"order_id":"ORD-1", amount: 40' } }] },
        { role: 'tool', tool_call_id: 'b', content: 'ok' },
        { role: 'assistant', content: 'Refunded.' },
      ],
    });
    const { traces: [trace], issues: found } = importOpenAITraces(log, { file: 'x.json' });
    expect(trace!.steps[3]).toEqual({ type: 'tool', id: 'b', name: 'issue_refund', args: {}, result: 'ok' });
    expect(trace!.metadata).toEqual({ importedFrom: 'openai', replayable: false, notReplayableReason: 'step 3 (issue_refund) has arguments that are not a JSON object' });
    expect(found).toHaveLength(1);
    // valid arguments leave the trace replayable
    const fine = importOpenAITraces(log.replace('amount: 40', '\\"amount\\": 40}'), { file: 'x.json' }).traces[0]!;
    expect(fine.metadata).toEqual({ importedFrom: 'openai' });
  });

  it('reads content parts: text parts of an assistant message as its text, of a tool message as its result', () => {
    const log = JSON.stringify({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }], tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: [{ type: 'text', text: '{"ok":' }, { type: 'text', text: 'true}' }] },
      ],
    });
    expect(importOpenAITraces(log, { file: 'x.json' }).traces[0]!.steps).toEqual([
      { type: 'llm', model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], output: { text: 'Checking.', toolCalls: [{ id: 'c', name: 'f', args: {} }] } },
      { type: 'tool', id: 'c', name: 'f', args: {}, result: { ok: true } },
    ]);
  });

  it('reports a JSON document that does not parse once, at its line', () => {
    expect(importOpenAITraces('[\n  {"messages": []},\n  {"messages": [}\n]', { file: 'bad.json' }).issues).toEqual([
      { file: 'bad.json', line: 3, message: expect.stringMatching(/^invalid JSON: /) },
    ]);
  });
});
