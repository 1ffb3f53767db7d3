import { HttpResponse, delay } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSuite } from '../../src/suite/load.js';
import { runSuite, type RunOptions } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/types.js';
import type { TraceResult } from '../../src/replay/types.js';
import { ANTHROPIC_URL, LOCAL_URL, OPENAI_URL, createFakeApis, status } from './fake-apis.js';
import { DECISION_SCHEMA, modelSuite } from './suite-helpers.js';

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const FAKE_KEY = 'sk-test-0123456789abcdef';
const ENV = { OPENAI_API_KEY: FAKE_KEY, ANTHROPIC_API_KEY: FAKE_KEY };
/** A clock whose sleeps are recorded and return at once, so retries take no real time. */
function fakeClock() {
  const sleeps: number[] = [];
  return { sleeps, clock: { now: () => Date.now(), sleep: async (ms: number) => void sleeps.push(ms) } };
}

async function run(candidate: string, options: Partial<RunOptions> & { store?: Store } = {}, n = 6, extra = '') {
  const { suite: file, cleanup } = modelSuite(candidate, n, extra);
  try {
    const suite = await loadSuite(file);
    const store = options.store ?? createMemoryStore();
    const outcome = await runSuite(suite, { env: ENV, concurrency: 3, ...options, store });
    return { outcome, results: [...store.results(outcome.meta.runId)] };
  } finally {
    cleanup();
  }
}

const OPENAI = `kind: tool-loop
model: openai:gpt-4.1-mini
prompt: $FIXTURES/prompts/triage.v4.hbs
${DECISION_SCHEMA}`;
const ANTHROPIC = OPENAI.replace('openai:gpt-4.1-mini', 'anthropic:claude-haiku-4-5');

const llmSteps = (r: TraceResult) => r.steps.filter((s) => s.type === 'llm');
const toolNames = (r: TraceResult) => r.steps.flatMap((s) => (s.type === 'tool' ? [s.name] : []));

describe('OpenAI Chat Completions tool loop', () => {
  it('runs the loop with parallel tool calls, records usage, cost and the prompt version on every model step', async () => {
    const { outcome, results } = await run(OPENAI);
    expect(outcome.counts.total).toBe(6);
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    for (const r of results) {
      expect(toolNames(r).slice(0, 3)).toEqual(['get_customer', 'get_order', 'check_refund_policy']);
      expect(r.decision).toEqual(expect.objectContaining({ action: expect.stringMatching(/^(refund|deny|escalate)$/) }));
      expect(llmSteps(r)).toHaveLength(4);
      for (const step of llmSteps(r)) {
        expect(step).toMatchObject({ model: 'gpt-4.1-mini-2025-04-14', promptVersion: 'triage.v4', usage: { inputTokens: expect.any(Number) } });
        expect(step.costUsd).toBeGreaterThan(0);
      }
      expect(r.costUsd).toBeCloseTo(llmSteps(r).reduce((s, x) => s + (x.costUsd ?? 0), 0), 12);
    }
    // The first model call of a trace asked for two tools at once, and both were answered from the recording.
    expect(results[0]!.steps.slice(0, 3).map((s) => s.type)).toEqual(['llm', 'tool', 'tool']);
    expect(outcome.metrics.cost.totalUsd).toBeGreaterThan(0);
    expect(outcome.metrics.cost.spentUsd).toBeCloseTo(outcome.metrics.cost.totalUsd!, 12);
    expect(outcome.modelCalls).toMatchObject({ requests: 24, network: 24, cacheHits: 0 });
  });

  it('sends the rendered prompt, the catalog and final_decision as tools, and tool results back by id', async () => {
    await run(OPENAI, {}, 1);
    const [first, second] = apis.seen;
    const messages = first!.body.messages as { role: string; content: string }[];
    expect(messages[0]!.role).toBe('system');
    expect(messages[0]!.content).toContain('refund-triage'); // {{workflow}} rendered
    expect(messages[1]).toEqual({ role: 'user', content: expect.stringContaining('"ticket_id"') });
    const tools = (first!.body.tools as { type: string; function: { name: string; parameters: unknown } }[]).map((t) => t.function.name);
    expect(tools).toEqual(expect.arrayContaining(['get_customer', 'issue_refund', 'final_decision']));
    expect(first!.headers.authorization).toBe(`Bearer ${FAKE_KEY}`);
    expect(first!.headers['x-shadowgate-trial']).toBeUndefined(); // our own header never leaves the harness
    const answer = (second!.body.messages as { role: string; tool_call_id?: string; tool_calls?: { id: string }[] }[]);
    const assistant = answer.find((m) => m.role === 'assistant')!;
    expect(answer.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(assistant.tool_calls!.map((c) => c.id));
  });

  it('records malformed tool-call JSON as a failed step, tells the model, and goes on', async () => {
    apis.next((_, answer) => {
      const body = answer() as { choices: { message: { tool_calls: { function: { arguments: string } }[] } }[] };
      body.choices[0]!.message.tool_calls[0]!.function.arguments = '{"customer_id": ';
      return HttpResponse.json(body);
    });
    const { results } = await run(OPENAI, { concurrency: 1 }, 1);
    const [r] = results;
    expect(r!.steps[1]).toMatchObject({ type: 'tool', name: 'get_customer', args: {}, error: { code: 'MALFORMED_TOOL_ARGUMENTS', raw: '{"customer_id": ' } });
    const toolMessage = (apis.seen[1]!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'tool');
    expect(toolMessage!.content).toContain('not a valid JSON object');
    expect(r!.status).toBe('completed');
  });

  it('gives invalid_output, with the validation message, when final_decision does not match the schema', async () => {
    const bad = (_: unknown, answer: () => Record<string, unknown>) => {
      const body = answer() as { choices: { message: { tool_calls: { function: { name: string; arguments: string } }[] } }[] };
      const call = body.choices[0]!.message.tool_calls[0]!;
      if (call.function.name === 'final_decision') call.function.arguments = '{"action":"maybe"}';
      return HttpResponse.json(body);
    };
    apis.next(bad, bad, bad, bad);
    const { results, outcome } = await run(OPENAI, { concurrency: 1 }, 1);
    // Invalid output is the candidate's doing: it counts as not agreeing in the gated figure, and not at all over completed traces.
    expect(results[0]).toMatchObject({ status: 'invalid_output', agree: false, cause: 'candidate', error: { code: 'INVALID_OUTPUT' } });
    expect(results[0]!.error!.message).toMatch(/\/action must be equal to one of the allowed values/);
    expect(outcome.counts.invalidOutput).toBe(1);
    expect(outcome.metrics.agreement).toMatchObject({ n: 1, successes: 0 });
    expect(outcome.metrics.agreementCompleted.n).toBe(0);
  });

  it('talks to any OpenAI-compatible server through baseURL, without a key', async () => {
    const local = `kind: tool-loop\nmodel: openai:llama3.1\nbaseURL: http://127.0.0.1:8080/v1\n${DECISION_SCHEMA}`;
    const { results } = await run(local, { env: {} }, 2);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(new Set(apis.seen.map((s) => s.url))).toEqual(new Set([LOCAL_URL]));
    // An unknown model is not priced, and says so rather than costing 0.
    expect(results[0]!.costUsd).toBeNull();
  });
});

describe('Anthropic Messages tool loop', () => {
  it('sends tool_result blocks in one user message and reads cache read tokens into the usage', async () => {
    const { results } = await run(ANTHROPIC, { concurrency: 1 }, 2);
    expect(results.every((r) => r.status === 'completed')).toBe(true);
    const second = apis.seen[1]!.body as { system: string; messages: { role: string; content: { type: string; tool_use_id?: string }[] }[] };
    expect(typeof second.system).toBe('string');
    const last = second.messages.at(-1)!;
    expect(last.role).toBe('user');
    expect(last.content.map((b) => b.type)).toEqual(['tool_result', 'tool_result']);
    const { authorization, 'x-api-key': apiKey } = apis.seen[0]!.headers;
    expect(apiKey ?? authorization?.replace('Bearer ', '')).toBe(FAKE_KEY);
    expect(apis.seen[0]!.body.max_tokens).toBe(4096);
    // Usage: inputTokens counts uncached, cache-read and cache-write input together.
    const step = llmSteps(results[0]!).at(-1)!;
    expect(step.usage!.cachedInputTokens).toBeGreaterThan(0);
    expect(step.usage!.inputTokens).toBeGreaterThan(step.usage!.cachedInputTokens!);
    expect(step.costUsd).toBeGreaterThan(0);
    expect(new Set(apis.seen.map((s) => s.url))).toEqual(new Set([ANTHROPIC_URL]));
  });
});

describe('response cache', () => {
  it('answers an unchanged re-run from the cache: zero API calls, $0 spent, the same decisions', async () => {
    const store = createMemoryStore();
    const first = await run(OPENAI, { store });
    const calls = apis.seen.length;
    const second = await run(OPENAI, { store });
    expect(apis.seen.length).toBe(calls); // not one more request
    expect(second.outcome.modelCalls).toMatchObject({ requests: calls, cacheHits: calls, network: 0 });
    expect(second.outcome.metrics.cost.spentUsd).toBe(0);
    expect(second.outcome.metrics.cost.totalUsd).toBeCloseTo(first.outcome.metrics.cost.totalUsd!, 12);
    expect(second.results.map((r) => r.decision)).toEqual(first.results.map((r) => r.decision));

    const bypass = await run(OPENAI, { store, cache: false });
    expect(apis.seen.length).toBe(2 * calls);
    expect(bypass.outcome.modelCalls.cacheHits).toBe(0);
  });

  it('gives the A/A run of --noise-floor answers of its own, not the first run\'s from the cache', async () => {
    const store = createMemoryStore();
    const { outcome } = await run(OPENAI, { store, noiseFloor: true }, 2);
    expect(apis.seen).toHaveLength(16); // 2 traces × 4 calls, twice
    expect(outcome.metrics.noiseFloor).toMatchObject({ pairs: 2, flips: 0 });
  });

  it('keys the cache by trial, so each trial of a trace gets its own answers', async () => {
    const store = createMemoryStore();
    const { outcome } = await run(OPENAI, { store, trials: 2 }, 1);
    expect(outcome.counts.total).toBe(2);
    expect(outcome.modelCalls.network).toBe(8);
  });
});

describe('rate limits and faults', () => {
  it('retries a 429, waiting as long as retry-after says', async () => {
    const { sleeps, clock } = fakeClock();
    apis.next(status(429, { 'retry-after': '7' }, 'Rate limit reached for requests'));
    const { results, outcome } = await run(OPENAI, { clock, concurrency: 1 }, 1);
    expect(results[0]!.status).toBe('completed');
    expect(sleeps).toEqual([7000]);
    expect(outcome.modelCalls.retries).toBe(1);
  });

  it('backs off exponentially with jitter on 5xx', async () => {
    const { sleeps, clock } = fakeClock();
    apis.next(status(500), status(503), status(502));
    const { results } = await run(`${OPENAI}\nlimits: { maxAttempts: 4, baseDelayMs: 100 }`, { clock, concurrency: 1 }, 1);
    expect(results[0]!.status).toBe('completed');
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(100 * 2 ** i));
  });

  it('errors the trace with the provider message past the attempt bound, and the run goes on', async () => {
    const { clock } = fakeClock();
    apis.next(status(500, {}, 'The server had an error'), status(500, {}, 'The server had an error'));
    const { results, outcome } = await run(`${OPENAI}\nlimits: { maxAttempts: 2 }`, { clock, concurrency: 1 }, 3);
    expect(results[0]).toMatchObject({ status: 'error', agree: null, error: { code: 'PROVIDER_HTTP_500' } });
    expect(results[0]!.error!.message).toContain('The server had an error');
    expect(results.slice(1).map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(outcome.counts.errored).toBe(1);
    expect(outcome.metrics.agreement.n).toBe(2); // the errored trace is neither agreement nor disagreement
  });

  it('times out a hanging request, retries it, and errors the trace past the bound', async () => {
    // Never answered (not merely late): a machine under load cannot let the answer win the race against the timeout.
    const hang = async () => {
      await delay('infinite');
      return HttpResponse.json({});
    };
    apis.next(hang, hang);
    const { clock } = fakeClock();
    const { results } = await run(`${OPENAI}\nlimits: { maxAttempts: 2, timeoutMs: 50 }`, { clock, concurrency: 1 }, 1);
    expect(results[0]).toMatchObject({ status: 'error' });
    expect(results[0]!.error!.message).toMatch(/timed out|timeout|abort/i);
  });
});

describe('prompts and answers', () => {
  it('errors a trace whose input lacks a variable of the strict prompt template, naming both', async () => {
    const { dir, suite: file, cleanup } = modelSuite(`kind: tool-loop\nmodel: openai:gpt-4.1-mini\nprompt: prompt.hbs`, 1);
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(`${dir}/prompt.hbs`, 'Ticket {{input.ticket_id}} for {{input.account_manager}}');
      const store = createMemoryStore();
      const outcome = await runSuite(await loadSuite(file), { store, env: ENV });
      const [r] = [...store.results(outcome.meta.runId)];
      expect(r).toMatchObject({ status: 'error', error: { code: 'SG_INPUT_INVALID' } });
      expect(r!.error!.message).toContain(`prompt template ${dir}/prompt.hbs`);
      expect(r!.error!.message).toContain('"account_manager" not defined');
      expect(apis.seen).toHaveLength(0);
    } finally {
      cleanup();
    }
  });

  it('takes a JSON answer without tool calls as the decision, validated against the schema', async () => {
    const answer = (text: string) => () =>
      HttpResponse.json({
        id: 'chatcmpl-text',
        object: 'chat.completion',
        created: 1763683200,
        model: 'gpt-4.1-mini-2025-04-14',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 50, completion_tokens: 8, total_tokens: 58 },
      });
    apis.next(answer('{"action":"deny"}'), answer('I think we should refund.'));
    const { results } = await run(OPENAI, { concurrency: 1 }, 2);
    expect(results[0]).toMatchObject({ status: 'completed', decision: { action: 'deny' } });
    expect(results[1]).toMatchObject({ status: 'invalid_output', error: { message: 'the answer is neither a final_decision call nor JSON' } });
  });

  it('stops a trace whose model calls cost more than budgets.maxCostUsd', async () => {
    const { results } = await run(OPENAI, {}, 1, 'budgets: { maxCostUsd: 0.0002 }');
    expect(results[0]).toMatchObject({ status: 'budget_exceeded' });
    expect(results[0]!.error!.message).toMatch(/^cost budget of \$0.0002 exceeded/);
  });
});

describe('keys and servers', () => {
  it('sends no key to a suite\'s own server unless the suite names its variable, and then that one', async () => {
    const local = `kind: tool-loop\nmodel: openai:llama3.1\nbaseURL: http://127.0.0.1:8080/v1\n${DECISION_SCHEMA}`;
    await run(local, {}, 1);
    expect(new Set(apis.seen.map((s) => s.headers.authorization))).toEqual(new Set(['Bearer not-needed']));
    apis.reset();
    await run(`${local}\napiKeyEnv: LOCAL_KEY`, { env: { ...ENV, LOCAL_KEY: 'sk-local-123456' } }, 1);
    expect(new Set(apis.seen.map((s) => s.headers.authorization))).toEqual(new Set(['Bearer sk-local-123456']));
  });

  it('keeps a key that a provider echoes in an error message out of the results', async () => {
    apis.next(status(401, {}, `Incorrect API key provided: ${FAKE_KEY}`));
    const { results } = await run(`${OPENAI}\nlimits: { maxAttempts: 1 }`, { concurrency: 1 }, 1);
    expect(results[0]!.error!.message).toContain('Incorrect API key provided: [redacted:OPENAI_API_KEY]');
    expect(JSON.stringify(results)).not.toContain(FAKE_KEY);
  });

  it("keeps the value of the suite's apiKeyEnv, echoed by its own server, out of the results and the store", async () => {
    const local = `kind: tool-loop\nmodel: openai:llama3.1\nbaseURL: http://127.0.0.1:8080/v1\napiKeyEnv: LOCAL_KEY\n${DECISION_SCHEMA}`;
    apis.next(status(400, {}, 'bad request from sk-local-echoed-123456'));
    const { results } = await run(`${local}\nlimits: { maxAttempts: 1 }`, { concurrency: 1, env: { ...ENV, LOCAL_KEY: 'sk-local-echoed-123456' } }, 1);
    expect(results[0]!.error!.message).toContain('bad request from [redacted:LOCAL_KEY]');
    expect(JSON.stringify(results)).not.toContain('sk-local-echoed-123456');
  });

  it('honours a retry-after longer than the backoff cap', async () => {
    const { sleeps, clock } = fakeClock();
    apis.next(status(429, { 'retry-after': '60' }));
    const { results } = await run(OPENAI, { clock, concurrency: 1 }, 1);
    expect(results[0]!.status).toBe('completed');
    expect(sleeps).toEqual([60_000]);
  });

  it('stops a model that wanders without end at the default step budget', async () => {
    // get_customer and get_order in turn, for ever: not the same call twice in a row, so only maxSteps can stop it.
    let turn = 0;
    const wander = (body: Record<string, unknown>) => {
      const input = JSON.parse((body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content);
      const call = turn++ % 2 === 0 ? { name: 'get_customer', arguments: JSON.stringify({ customer_id: input.customer_id }) } : { name: 'get_order', arguments: JSON.stringify({ order_id: input.order_id }) };
      return HttpResponse.json({
        id: `chatcmpl-${turn}`, object: 'chat.completion', created: 1763683200, model: 'gpt-4.1-mini-2025-04-14',
        choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: `call_${turn}`, type: 'function', function: call }] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      });
    };
    apis.next(...Array.from({ length: 60 }, () => wander));
    const { results } = await run(OPENAI, { concurrency: 1 }, 1);
    expect(results[0]).toMatchObject({ status: 'budget_exceeded', error: { message: 'step budget of 50 steps exhausted' } });
    expect(apis.seen).toHaveLength(25); // 25 model steps + 25 tool steps
  });
});

describe('suite checks', () => {
  it('reports a decision schema that is not JSON Schema when the suite is loaded', async () => {
    const { suite: file, cleanup } = modelSuite(`kind: tool-loop\nmodel: openai:gpt-4.1-mini\ndecisionSchema: { type: objekt }`, 1);
    try {
      await expect(loadSuite(file)).rejects.toThrow(/candidate\.decisionSchema\.type: not a valid JSON Schema/);
    } finally {
      cleanup();
    }
  });
});

describe('Anthropic faults', () => {
  it('retries an overloaded (529) Messages API and then answers', async () => {
    const { sleeps, clock } = fakeClock();
    const overloaded = () => HttpResponse.json({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, { status: 529 });
    apis.next(overloaded, overloaded);
    const { results, outcome } = await run(`${ANTHROPIC}\nlimits: { baseDelayMs: 10 }`, { clock, concurrency: 1 }, 1);
    expect(results[0]!.status).toBe('completed');
    expect(sleeps).toHaveLength(2);
    expect(outcome.modelCalls.retries).toBe(2);
  });

  it('errors the trace with the API\'s message on a 400', async () => {
    apis.next(() => HttpResponse.json({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: must be at most 64000' } }, { status: 400 }));
    const { results } = await run(ANTHROPIC, { concurrency: 1 }, 1);
    expect(results[0]).toMatchObject({ status: 'error', error: { code: 'PROVIDER_HTTP_400' } });
    expect(results[0]!.error!.message).toContain('max_tokens: must be at most 64000');
  });
});
