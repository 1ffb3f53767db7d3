import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { costOf, priceOf } from '../../src/providers/pricing.js';
import { createFakeApis } from '../providers/fake-apis.js';
import { modelSuite } from '../providers/suite-helpers.js';
import { cliWithEnv, ROOT } from './helpers.js';

// Agents written with real frameworks (the Vercel AI SDK, LangGraph JS) run unchanged as
// `module` candidates: their tools call the catalog's HTTP routes, which the sandbox answers
// from the traces, and their model calls reach an emulated OpenAI API (msw, the real response
// and stream shapes, scripted by fixtures/refund-triage/fake-model.mjs to follow the refund
// policy) through the provider layer. The decisions and effects they reach are those of the
// plain HTTP agent that applies the same policy (agents/http-v1.mjs), run on the same traces.

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const RUN_KEY = 'sk-test-run-key-5a6b7c8d9e0f';
/** The key in the agent's own environment: its SDK client needs one, and the run must not send it. */
const AGENT_KEY = 'sk-test-agent-own-key-1a2b3c';
const TRACES = 14; // refunds, denials and an escalation (rt-00013)
const agents = join(ROOT, 'fixtures/refund-triage/agents');

interface Step {
  type: string;
  name?: string;
  model?: string;
  output?: { toolCalls: { name: string }[]; text?: string };
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
}
interface Result {
  traceId: string;
  status: string;
  decision: unknown;
  effects: { tool: string; args: Record<string, unknown> }[];
  error: unknown;
  steps: Step[];
}

async function runAgent(module: string, env: Record<string, string>) {
  const { dir, cleanup } = modelSuite(`kind: module\nmodule: ${join(agents, module)}`, TRACES);
  try {
    const out = await cliWithEnv(dir, env, 'run', 'suite.yaml', '--db', 'run.db', '--json', 'run.json');
    expect(out.stderr).not.toMatch(/error|warning/i);
    // In trace order: results are stored as they finish.
    return (JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { results: Result[] }).results.sort((a, b) => (a.traceId < b.traceId ? -1 : 1));
  } finally {
    cleanup();
  }
}

/** Effects without the free-text and generated arguments the suite ignores too. */
const effects = (r: Result) =>
  r.effects.map(({ tool, args }) => ({ tool, args: Object.fromEntries(Object.entries(args).filter(([k]) => !['note', 'reason', 'idempotency_key'].includes(k))) }));

describe('real agent frameworks as module candidates', () => {
  let reference: Result[];
  beforeAll(async () => {
    reference = await runAgent('http-v1.mjs', {});
    vi.stubEnv('OPENAI_API_KEY', AGENT_KEY);
  });
  afterAll(() => vi.unstubAllEnvs());

  it.each([
    { module: 'ai-sdk-generate.mjs', api: 'responses', stream: false },
    { module: 'ai-sdk-stream.mjs', api: 'responses', stream: true },
    { module: 'langgraph-react.mjs', api: 'chat/completions', stream: false },
  ])('$module reaches the decisions and effects of the plain agent, its model steps recorded with usage', async ({ module, api, stream }) => {
    expect(new Set(reference.map((r) => (r.decision as { action: string }).action))).toEqual(new Set(['refund', 'deny', 'escalate']));
    const results = await runAgent(module, { OPENAI_API_KEY: RUN_KEY });
    expect(results.map((r) => [r.traceId, r.status, r.error])).toEqual(reference.map((r) => [r.traceId, r.status, null]));
    expect(results.map((r) => r.decision)).toEqual(reference.map((r) => r.decision));
    expect(results.map(effects)).toEqual(reference.map(effects));

    // Every model call went to the emulated API as the framework makes it, with the run's key, never the agent's own.
    expect(apis.seen.every((s) => s.url === `https://api.openai.com/v1/${api}`)).toBe(true);
    expect(apis.seen.every((s) => (s.body.stream === true) === stream)).toBe(true);
    expect(apis.seen.every((s) => s.headers.authorization === `Bearer ${RUN_KEY}`)).toBe(true);

    // One model step per request, priced from its usage; the tools called are those the model asked for, in order.
    const llm = results.flatMap((r) => r.steps.filter((s) => s.type === 'llm'));
    expect(llm).toHaveLength(apis.seen.length);
    for (const step of llm) {
      expect(step.usage!.inputTokens).toBeGreaterThan(0);
      expect(step.costUsd).toBeCloseTo(costOf(step.usage!, priceOf(step.model!)!), 12);
    }
    for (const r of results) {
      const asked = r.steps.filter((s) => s.type === 'llm').flatMap((s) => s.output!.toolCalls.map((c) => c.name));
      expect(r.steps.filter((s) => s.type === 'tool').map((s) => s.name)).toEqual(asked);
      expect(JSON.parse(r.steps.filter((s) => s.type === 'llm').at(-1)!.output!.text!)).toEqual(r.decision);
    }
  });
});
