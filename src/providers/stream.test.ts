import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain JavaScript fixture without type declarations
import * as fake from '../../fixtures/refund-triage/fake-model.mjs';
import { readModelAnswer } from './answer.js';
import { collectStream, parseSse, streamKind, withoutUsageChunk, withStreamUsage } from './stream.js';

const CHAT = 'https://api.openai.com/v1/chat/completions';
const RESPONSES = 'https://api.openai.com/v1/responses';
const MESSAGES = 'https://api.anthropic.com/v1/messages';
const ticket = { ticket_id: 'T-1', customer_id: 'CUS-1', order_id: 'ORD-1', amount: 20 };

describe('parseSse', () => {
  it('splits events on blank lines, joins data lines and skips comments', () => {
    expect(parseSse(': keep-alive\n\nevent: a\ndata: {"x":1}\n\ndata: one\ndata: two\r\n\r\ndata: [DONE]\n\n')).toEqual([
      { event: 'a', data: '{"x":1}' },
      { data: 'one\ntwo' },
      { data: '[DONE]' },
    ]);
  });
});

describe('streamKind and withStreamUsage', () => {
  it('knows a stream by its body, and asks a Chat Completions stream for its usage chunk', () => {
    expect(streamKind(CHAT, { stream: false })).toBeUndefined();
    expect(streamKind(RESPONSES, { stream: true })).toBe('responses');
    expect(withStreamUsage(CHAT, { model: 'm', stream: true })).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true } });
    const asked = { stream: true, stream_options: { include_usage: true } };
    expect(withStreamUsage(CHAT, asked)).toBe(asked);
    const body = { stream: true };
    expect(withStreamUsage(MESSAGES, body)).toBe(body);
  });
});

describe('collectStream folds each API stream into its non-streamed answer', () => {
  const chatBody = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: JSON.stringify(ticket) }], stream: true, stream_options: { include_usage: true } };

  it('Chat Completions: tool calls from their deltas, usage from the final chunk', () => {
    const whole = fake.openAIChatCompletion(chatBody);
    const folded = collectStream('chat', fake.openAIChatStream(chatBody));
    expect(folded.usage).toEqual(whole.usage);
    expect((folded.choices as { message: unknown }[])[0]!.message).toEqual({ role: 'assistant', content: null, tool_calls: whole.choices[0].message.tool_calls });
  });

  it('Responses: the response of response.completed', () => {
    const body = { model: 'gpt-4.1-mini', input: [{ role: 'user', content: JSON.stringify(ticket) }], stream: true };
    expect(collectStream('responses', fake.openAIResponseStream(body))).toEqual(fake.openAIResponse(body));
  });

  it('Messages: blocks from their deltas, usage from message_start updated by message_delta', () => {
    const body = { model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: JSON.stringify(ticket) }], stream: true };
    expect(collectStream('messages', fake.anthropicMessageStream(body))).toEqual(fake.anthropicMessage(body));
  });

  it('takes the usage chunk out for a caller that did not ask for it, and records the usage all the same', () => {
    const sent = { ...chatBody, stream_options: undefined };
    const text = fake.openAIChatStream(chatBody);
    const answer = readModelAnswer(CHAT, sent, text);
    expect(answer.parsed.usage?.inputTokens).toBe(fake.openAIChatCompletion(chatBody).usage.prompt_tokens);
    expect(answer.body).toBe(withoutUsageChunk(text));
    expect(answer.body).toBe(fake.openAIChatStream(sent));
    expect(readModelAnswer(CHAT, chatBody, text).body).toBe(text);
  });
});
