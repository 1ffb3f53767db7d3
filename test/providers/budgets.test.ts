import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSuite } from '../../src/suite/load.js';
import { runSuite } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { createFakeApis } from './fake-apis.js';
import { DECISION_SCHEMA, modelSuite } from './suite-helpers.js';

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const ENV = { OPENAI_API_KEY: 'sk-test-budgets', ANTHROPIC_API_KEY: 'sk-test-budgets' };
const OPENAI = `kind: tool-loop
model: openai:gpt-4.1-mini
${DECISION_SCHEMA}`;

async function run(candidate: string, extra: string, n: number, setup?: (dir: string) => void) {
  const { dir, suite: file, cleanup } = modelSuite(candidate, n, extra);
  try {
    setup?.(dir);
    const store = createMemoryStore();
    const outcome = await runSuite(await loadSuite(file), { store, env: ENV, concurrency: 1 });
    return { outcome, results: [...store.results(outcome.meta.runId)] };
  } finally {
    cleanup();
  }
}

describe('budgets', () => {
  it('stops a trace that spends more tokens than budgets.maxTokens', async () => {
    const { results } = await run(OPENAI, 'budgets: { maxTokens: 3000 }', 1);
    // The trace's own budget is the candidate's: no outcome by its doing, judged not to agree.
    expect(results[0]).toMatchObject({ status: 'budget_exceeded', agree: false, cause: 'candidate', error: { code: 'SG_BUDGET_EXCEEDED', budget: 'maxTokens' } });
    expect(results[0]!.error!.message).toMatch(/^token budget of 3000 exceeded \(\d+\)$/);
  });

  it('stops spending once the run-wide cost budget is spent: later traces make no model call', async () => {
    const unlimited = await run(OPENAI, '', 1);
    const perTrace = unlimited.results[0]!.costUsd!;
    apis.reset();
    // A budget of one and a half traces: the first completes, the second is stopped mid-way, the rest never call.
    const { results, outcome } = await run(OPENAI, `budgets: { run: { maxCostUsd: ${perTrace * 1.5} } }`, 4);
    expect(results.map((r) => r.status)).toEqual(['completed', 'budget_exceeded', 'budget_exceeded', 'budget_exceeded']);
    expect(results[3]!.error!.message).toMatch(/^the run's cost budget of \$[\d.]+ is spent \(\$[\d.]+\)$/);
    expect(results.slice(2).every((r) => r.steps.length === 0)).toBe(true);
    expect(apis.seen.length).toBeLessThan(8);
    expect(outcome.counts.budgetExceeded).toBe(3);
    // The run's shared budget is not the candidate's doing: missing evidence, not a disagreement.
    expect(results.slice(1).every((r) => r.cause === 'infrastructure' && r.agree === null)).toBe(true);
    expect(outcome.counts.noOutcome.infrastructure).toMatchObject({ traces: 3, budgetExceeded: 3 });
    expect(outcome.metrics.agreement.n).toBe(1);
  });

  it('stops a model that calls the same tool with the same arguments again and again: loop_detected', async () => {
    // The model asks for get_customer with the same arguments on every turn.
    const again = (body: Record<string, unknown>) => {
      const input = JSON.parse((body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content);
      return HttpResponse.json({
        id: 'chatcmpl-loop',
        object: 'chat.completion',
        created: 1763683200,
        model: 'gpt-4.1-mini-2025-04-14',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: `call_${(body.messages as unknown[]).length}`, type: 'function', function: { name: 'get_customer', arguments: JSON.stringify({ customer_id: input.customer_id }) } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      });
    };
    apis.next(again, again, again, again, again, again);
    const { results, outcome } = await run(OPENAI, 'budgets: { maxRepeatedCalls: 3 }', 1);
    expect(results[0]).toMatchObject({ status: 'loop_detected', error: { code: 'SG_LOOP_DETECTED' } });
    expect(results[0]!.error!.message).toBe('get_customer called 3 times in a row with the same arguments');
    expect(apis.seen).toHaveLength(3);
    expect(outcome.counts.loopDetected).toBe(1);
    expect(outcome.metrics.errorRate).toBe(1);
  });
});

describe('ctx.llm in a module candidate', () => {
  const agent = `export async function run(input, ctx) {
  const completion = await ctx.llm.openai.chat.completions.create({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: JSON.stringify(input) }],
    tools: [{ type: 'function', function: { name: 'get_customer', parameters: { type: 'object' } } }],
  });
  const call = completion.choices[0].message.tool_calls[0];
  const customer = await ctx.tools[call.function.name](JSON.parse(call.function.arguments));
  return { decision: customer.fraud_flag ? { action: 'escalate' } : { action: 'deny' } };
}
`;

  it('counts, prices, records and caches the model calls of the module like those of a tool loop', async () => {
    const { dir, suite: file, cleanup } = modelSuite('kind: module\nmodule: agent.mjs', 2);
    try {
      writeFileSync(join(dir, 'agent.mjs'), agent);
      const suite = await loadSuite(file);
      const store = createMemoryStore();
      const first = await runSuite(suite, { store, env: ENV, concurrency: 1 });
      const results = [...store.results(first.meta.runId)];
      expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
      const [llm, tool] = results[0]!.steps;
      expect(llm).toMatchObject({ type: 'llm', model: 'gpt-4.1-mini-2025-04-14', usage: { inputTokens: expect.any(Number) } });
      expect(llm!.type === 'llm' && llm!.costUsd).toBeGreaterThan(0);
      expect(tool).toMatchObject({ type: 'tool', name: 'get_customer', mock: 'recording' });
      expect(first.metrics.cost.totalUsd).toBeGreaterThan(0);
      expect(first.modelCalls).toMatchObject({ requests: 2, network: 2 });

      const again = await runSuite(suite, { store, env: ENV, concurrency: 1 });
      expect(again.modelCalls).toMatchObject({ requests: 2, cacheHits: 2, network: 0 });
      expect(again.metrics.cost.spentUsd).toBe(0);
      expect(apis.seen).toHaveLength(2);
    } finally {
      cleanup();
    }
  });
});

describe('ctx.llm.anthropic', () => {
  it('records an Anthropic call made by module code as a priced model step', async () => {
    const { dir, suite: file, cleanup } = modelSuite('kind: module\nmodule: agent.mjs', 1);
    try {
      writeFileSync(
        join(dir, 'agent.mjs'),
        `export async function run(input, ctx) {
  const message = await ctx.llm.anthropic.messages.create({
    model: 'claude-haiku-4-5', max_tokens: 256,
    messages: [{ role: 'user', content: JSON.stringify(input) }],
  });
  return { decision: { action: message.content[0].name === 'get_customer' ? 'escalate' : 'deny' } };
}
`,
      );
      const store = createMemoryStore();
      const outcome = await runSuite(await loadSuite(file), { store, env: ENV });
      const [r] = [...store.results(outcome.meta.runId)];
      expect(r!.status).toBe('completed');
      expect(r!.steps[0]).toMatchObject({ type: 'llm', model: 'claude-haiku-4-5', usage: { outputTokens: expect.any(Number) } });
      expect(r!.costUsd).toBeGreaterThan(0);
      expect(apis.seen.map((s) => new URL(s.url).host)).toEqual(['api.anthropic.com']);
    } finally {
      cleanup();
    }
  });
});

describe('ctx.llm with other endpoints and servers', () => {
  it('prices and budgets a Responses API call by its usage block', async () => {
    const { http, HttpResponse } = await import('msw');
    apis.server.use(
      http.post('https://api.openai.com/v1/responses', () =>
        HttpResponse.json({
          id: 'resp_1', object: 'response', created_at: 1763683200, status: 'completed', model: 'gpt-4.1-mini-2025-04-14',
          output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'deny', annotations: [] }] }],
          usage: { input_tokens: 1000, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 1010 },
        }),
      ),
    );
    const { dir, suite: file, cleanup } = modelSuite('kind: module\nmodule: agent.mjs', 1, 'budgets: { maxTokens: 500 }');
    try {
      writeFileSync(join(dir, 'agent.mjs'), `export async function run(input, ctx) {
  const r = await ctx.llm.openai.responses.create({ model: 'gpt-4.1-mini', input: 'decide' });
  return { decision: { action: r.output_text } };
}
`);
      const store = createMemoryStore();
      const outcome = await runSuite(await loadSuite(file), { store, env: ENV });
      const [r] = [...store.results(outcome.meta.runId)];
      // 1,010 tokens against a budget of 500: stopped, and priced (1000·0.40 + 10·1.60) / 1e6 = 0.000416
      expect(r).toMatchObject({ status: 'budget_exceeded' });
      expect(r!.steps[0]).toMatchObject({ type: 'llm', usage: { inputTokens: 1000, outputTokens: 10 } });
      expect(r!.costUsd).toBeCloseTo(0.000416, 12);
    } finally {
      cleanup();
    }
  });

  it('lets a module use a keyless local server through its baseURL', async () => {
    const { dir, suite: file, cleanup } = modelSuite('kind: module\nmodule: agent.mjs\nbaseURL: http://127.0.0.1:8080/v1', 1);
    try {
      writeFileSync(join(dir, 'agent.mjs'), `export async function run(input, ctx) {
  await ctx.llm.openai.chat.completions.create({ model: 'llama3.1', messages: [{ role: 'user', content: JSON.stringify(input) }] });
  return { decision: { action: 'deny' } };
}
`);
      const store = createMemoryStore();
      const outcome = await runSuite(await loadSuite(file), { store, env: {} });
      expect([...store.results(outcome.meta.runId)][0]!.status).toBe('completed');
      expect(apis.seen[0]!.headers.authorization).toBe('Bearer not-needed');
    } finally {
      cleanup();
    }
  });
});

describe('a model call that fails, from module code', () => {
  // The module lets the SDK's error through, as most agent code does.
  const agent = `export async function run(input, ctx) {
  await ctx.llm.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] }, { maxRetries: 0 });
  return { decision: { action: 'deny' } };
}
`;
  const failing = (status: number) => () => HttpResponse.json({ error: { message: `status ${status}`, type: 'test' } }, { status });

  it('is missing evidence when the provider still fails past the retries (503), and the candidate\'s own when its request is refused (400)', async () => {
    for (const [status, cause] of [[503, 'infrastructure'], [400, 'candidate']] as const) {
      apis.reset();
      apis.next(failing(status), failing(status));
      const { results } = await run('kind: module\nmodule: agent.mjs\nlimits: { maxAttempts: 2, baseDelayMs: 1 }', '', 1, (dir) => writeFileSync(join(dir, 'agent.mjs'), agent));
      expect(results[0]).toMatchObject({ status: 'error', cause, error: { code: `PROVIDER_HTTP_${status}` } });
      expect(results[0]!.agree).toBe(cause === 'candidate' ? false : null);
    }
  });
});

