import { describe, expect, it } from 'vitest';
import { ToolCallError } from '../errors.js';
import { createReplayProvider } from '../providers/replay.js';
import type { ModelProvider, ModelRequest, ModelResponse } from '../providers/types.js';
import { aCatalog, aTrace } from '../testing/builders.js';
import type { Trace } from '../trace/schema.js';
import { moduleRunner, type ModuleCandidate } from './module-candidate.js';
import { inProcess } from '../testing/in-process-candidate.js';
import { toolLoopRunner, type ToolLoopOptions } from './tool-loop.js';
import { createMockToolbox } from './mock-tools.js';
import { buildResult, recordedOutcome, type CompareOptions } from './replay-trace.js';
import { ReplaySession, type Budgets } from './session.js';

const catalog = aCatalog({
  get_order: 'read',
  check_policy: 'read',
  issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } },
  send_email: 'write-external',
});

const trace = aTrace('t1')
  .withInput({ order_id: 'A1', amount: 20 })
  .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
  .withFailedToolCall('check_policy', { order_id: 'A1' }, 'policy service unavailable')
  .withToolCall('issue_refund', { order_id: 'A1', amount: 20 }, { refund_id: 'R1' })
  .withOutcome('completed', { action: 'refund', amount: 20 })
  .build();

function session(t: Trace = trace, budgets: Budgets = {}): ReplaySession {
  return new ReplaySession(t, createMockToolbox(t, catalog, { match: 'exact', ignoreArgs: [] }), budgets);
}

const runModule = (run: ModuleCandidate, budgets: Budgets = {}) => moduleRunner(inProcess(run), catalog, budgets.maxWallMs)(session(trace, budgets), 0);

describe('moduleRunner', () => {
  it('runs a module with mocked tools and takes its decision', async () => {
    const outcome = await runModule(async (input, ctx) => {
      const { order_id } = input as { order_id: string };
      const order = (await ctx.tools.get_order!({ order_id })) as { total: number };
      const policy = await ctx.tools.check_policy!({ order_id }).catch((e: unknown) => e);
      expect(policy).toBeInstanceOf(ToolCallError);
      await ctx.tools.issue_refund!({ order_id, amount: order.total });
      return { decision: { action: 'refund', amount: order.total }, output: 'refunded' };
    });
    expect(outcome).toEqual({
      status: 'completed',
      decision: { action: 'refund', amount: 20 },
      output: 'refunded',
      error: null,
      latencyMs: expect.any(Number),
      steps: [
        { type: 'tool', name: 'get_order', args: { order_id: 'A1' }, result: { total: 20 }, mock: 'recording' },
        { type: 'tool', name: 'check_policy', args: { order_id: 'A1' }, error: 'policy service unavailable', mock: 'recording' },
        { type: 'tool', name: 'issue_refund', args: { order_id: 'A1', amount: 20 }, result: { refund_id: 'R1' }, mock: 'recording' },
      ],
    });
  });

  it('gives the module its trace and a signal', async () => {
    let seen: unknown;
    await runModule(async (input, ctx) => {
      seen = { input, trace: ctx.trace, aborted: ctx.signal.aborted };
      return { decision: 'deny' };
    });
    expect(seen).toEqual({
      input: { order_id: 'A1', amount: 20 },
      trace: { id: 't1', caseId: 't1', workflow: 'refund-triage', trial: 0 },
      aborted: false,
    });
  });

  it('ends diverged on an off-trace call, even when the module catches the error and decides', async () => {
    const outcome = await runModule(async (_input, ctx) => {
      try {
        await ctx.tools.send_email!({ to: 'c@example.com' });
      } catch {
        // swallowed on purpose
      }
      return { decision: { action: 'refund', amount: 20 } };
    });
    const reason = 'no recorded send_email call matches these arguments, and the catalog has no ack or stub for it';
    expect(outcome).toEqual({
      status: 'diverged',
      decision: undefined,
      error: { code: 'SG_OFF_TRACE', message: `off-trace call of send_email: ${reason}` },
      latencyMs: expect.any(Number),
      steps: [{ type: 'tool', name: 'send_email', args: { to: 'c@example.com' }, error: { code: 'SG_OFF_TRACE', message: reason }, mock: 'off-trace' }],
    });
  });

  it('refuses every tool call after an off-trace one', async () => {
    let later: unknown;
    await runModule(async (_input, ctx) => {
      await ctx.tools.send_email!({}).catch(() => undefined);
      later = await ctx.tools.get_order!({ order_id: 'A1' }).catch((e: unknown) => (e as Error).message);
      return { decision: 'deny' };
    });
    expect(later).toBe('off-trace call of send_email: no recorded send_email call matches these arguments, and the catalog has no ack or stub for it');
  });

  it('ends budget_exceeded when a module loops on a tool call past maxSteps', async () => {
    const outcome = await runModule(
      async (_input, ctx) => {
        for (;;) await ctx.tools.get_order!({ order_id: 'A1' });
      },
      { maxSteps: 3 },
    );
    expect(outcome.status).toBe('budget_exceeded');
    expect(outcome.error).toEqual({ code: 'SG_BUDGET_EXCEEDED', message: 'step budget of 3 steps exhausted', budget: 'maxSteps' });
    expect(outcome.steps.map((s) => s.type === 'tool' && s.name)).toEqual(['get_order', 'get_order', 'get_order']);
  });

  it('ends budget_exceeded when a module never resolves, under maxWallMs, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const outcome = await runModule(
      (_input, ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { maxWallMs: 50 },
    );
    expect(outcome).toEqual({
      status: 'budget_exceeded',
      decision: undefined,
      error: { code: 'SG_BUDGET_EXCEEDED', message: 'wall-clock budget of 50 ms exhausted', budget: 'maxWallMs' },
      latencyMs: expect.any(Number),
      steps: [],
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(45);
    expect(signal?.aborted).toBe(true);
  });

  it('ends error CANDIDATE_THREW when the module throws', async () => {
    const outcome = await runModule(async () => {
      throw new TypeError('cannot read order');
    });
    expect(outcome).toEqual({
      status: 'error',
      decision: undefined,
      error: { code: 'CANDIDATE_THREW', message: 'cannot read order', name: 'TypeError' },
      latencyMs: expect.any(Number),
      steps: [],
    });
  });

  it('ends error SG_TOOL_FAILED when the module lets a recorded tool failure through', async () => {
    const outcome = await runModule(async (_input, ctx) => {
      await ctx.tools.check_policy!({ order_id: 'A1' });
      return { decision: 'refund' };
    });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toEqual({ code: 'SG_TOOL_FAILED', message: 'check_policy failed: policy service unavailable' });
  });

  it.each([
    ['a bare string', 'refund'],
    ['null', null],
    ['an array', [{ decision: 'refund' }]],
  ])('ends error CANDIDATE_OUTPUT_INVALID when the module resolves to %s', async (_what, value) => {
    const outcome = await runModule(async () => value);
    expect({ status: outcome.status, error: outcome.error }).toEqual({
      status: 'error',
      error: { code: 'CANDIDATE_OUTPUT_INVALID', message: 'run(input, ctx) must resolve to { decision, status?, output? }' },
    });
  });

  it('ends error CANDIDATE_OUTPUT_INVALID on an unknown status, keeping the decision', async () => {
    const outcome = await runModule(async () => ({ decision: 'refund', status: 'done' }));
    expect({ status: outcome.status, decision: outcome.decision, error: outcome.error }).toEqual({
      status: 'error',
      decision: 'refund',
      error: {
        code: 'CANDIDATE_OUTPUT_INVALID',
        message: 'status must be one of completed, escalated, failed, aborted; got "done"',
      },
    });
  });

  it('takes the status the module gives', async () => {
    const outcome = await runModule(async () => ({ decision: 'escalate', status: 'escalated' }));
    expect(outcome.status).toBe('escalated');
  });
});

describe('toolLoopRunner with the replay provider', () => {
  const usage1 = { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 400 };
  const usage2 = { inputTokens: 1500, outputTokens: 50 };
  const usage3 = { inputTokens: 1600, outputTokens: 30 };
  const decision = { action: 'refund', amount: 20 };
  const recorded = aTrace('rec-1')
    .withInput({ order_id: 'A1' })
    .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }], usage1) // 0
    .withToolCall('get_order', { order_id: 'A1' }, { total: 20 }) // 1
    .withModelStep([{ name: 'issue_refund', args: { order_id: 'A1', amount: 20 } }], usage2) // 2
    .withToolCall('issue_refund', { order_id: 'A1', amount: 20 }, { refund_id: 'R1' }) // 3
    .withModelStep([{ name: 'final_decision', args: decision }], usage3) // 4
    .withOutcome('completed', decision)
    .build();

  const options = (overrides: Partial<ToolLoopOptions> = {}): ToolLoopOptions => ({
    provider: createReplayProvider(),
    model: 'replay',
    catalog,
    pricing: {},
    ...overrides,
  });
  const compare: CompareOptions = { catalog, reference: 'recorded', decision: { numericTolerance: 0 }, effectsIgnoreArgs: [], pathIgnoreArgs: [], pricing: {} };

  it('reproduces the recorded trace: same tool steps, decision from final_decision, agreeing with the recording', async () => {
    const outcome = await toolLoopRunner(options())(session(recorded), 0);
    expect(outcome.status).toBe('completed');
    expect(outcome.error).toBeNull();
    expect(outcome.decision).toEqual(decision);
    expect(outcome.steps.map((s) => (s.type === 'tool' ? { name: s.name, args: s.args, result: s.result } : s.type))).toEqual(
      recorded.steps.map((s) => (s.type === 'tool' ? { name: s.name, args: s.args, result: s.result } : s.type)),
    );

    const result = buildResult(recorded, 0, outcome, { file: 'rec.jsonl', line: 1 }, compare);
    expect({
      status: result.status,
      agree: result.agree,
      effectsAgree: result.effectsAgree,
      sequenceSimilarity: result.sequenceSimilarity,
      divergence: result.divergence,
      decision: result.decision,
      effects: result.effects,
      reference: result.reference,
    }).toEqual({
      status: 'completed',
      agree: true,
      effectsAgree: true,
      sequenceSimilarity: 1,
      divergence: null,
      decision,
      effects: [{ name: 'issue_refund', args: { order_id: 'A1', amount: 20 } }],
      reference: { decision, tools: ['get_order', 'issue_refund'], args: [{ order_id: 'A1' }, { order_id: 'A1', amount: 20 }] },
    });
  });

  it('ends diverged when the model is asked for more steps than were recorded', async () => {
    // The recording stops after one model step, so the loop's second model call has no answer.
    const short = aTrace('rec-short')
      .withInput({ order_id: 'A1' })
      .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }], usage1)
      .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
      .build();
    const outcome = await toolLoopRunner(options())(session(short), 0);
    expect(outcome.status).toBe('diverged');
    expect(outcome.error).toMatchObject({ code: 'SG_OFF_TRACE', message: 'trace rec-short has no recorded model step #1' });
  });

  it('reports the latency of the agent it replays: the recorded model and tool latencies, plus its own time', async () => {
    const timed = aTrace('rec-timed')
      .withInput({ order_id: 'A1' })
      .withStep({ type: 'llm', model: 'gpt-4.1-mini', output: { toolCalls: [{ id: 'c1', name: 'get_order', args: { order_id: 'A1' } }] }, latencyMs: 1000 })
      .withStep({ type: 'tool', name: 'get_order', args: { order_id: 'A1' }, result: { total: 20 }, latencyMs: 40 })
      .withStep({ type: 'llm', model: 'gpt-4.1-mini', output: { toolCalls: [{ id: 'c2', name: 'final_decision', args: decision }] }, latencyMs: 900 })
      .build();
    const outcome = await toolLoopRunner(options())(session(timed), 0);
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(1940);
    expect(outcome.latencyMs).toBeLessThan(1940 + 100); // the harness's own time is small
    expect(recordedOutcome(timed).latencyMs).toBe(1940);
  });

  it('prices the model steps from their usage with the pricing table', async () => {
    const outcome = await toolLoopRunner(options())(session(recorded), 0);
    // gpt-4.1-mini: $0.40 input, $0.10 cached input, $1.60 output per million tokens
    // step 0: (600·0.40 + 400·0.10 + 200·1.60) / 1e6 = (240 + 40 + 320) / 1e6 = 0.000600
    // step 2: (1500·0.40 + 50·1.60) / 1e6 = (600 + 80) / 1e6              = 0.000680
    // step 4: (1600·0.40 + 30·1.60) / 1e6 = (640 + 48) / 1e6              = 0.000688
    expect(outcome.steps.flatMap((s) => (s.type === 'llm' ? [s.costUsd] : []))).toEqual([
      expect.closeTo(0.0006, 12),
      expect.closeTo(0.00068, 12),
      expect.closeTo(0.000688, 12),
    ]);
    const result = buildResult(recorded, 0, outcome, { file: 'rec.jsonl', line: 1 }, compare);
    // 0.000600 + 0.000680 + 0.000688 = 0.001968
    expect(result.costUsd).toBeCloseTo(0.001968, 12);
    expect(result.usage).toEqual({ inputTokens: 4100, outputTokens: 280, cachedInputTokens: 400 });
  });

  it('prices with a suite override before the bundled table, and leaves an unknown model unpriced', async () => {
    const overridden = await toolLoopRunner(options({ pricing: { 'gpt-4.1-mini': { input: 1, output: 10 } } }))(session(recorded), 0);
    // step 0 without a cached price: (1000·1 + 200·10) / 1e6 = 0.003
    expect(overridden.steps[0]).toMatchObject({ type: 'llm', costUsd: expect.closeTo(0.003, 12) });

    const unknown = aTrace('rec-2')
      .withModelStep([{ name: 'final_decision', args: decision }], usage3, 'in-house-llm')
      .withOutcome('completed', decision)
      .build();
    const outcome = await toolLoopRunner(options())(session(unknown), 0);
    expect(outcome.steps[0]).not.toHaveProperty('costUsd');
    expect(buildResult(unknown, 0, outcome, { file: 'rec.jsonl', line: 1 }, compare).costUsd).toBeNull();
  });

  it('stops at maxSteps before a model call', async () => {
    const outcome = await toolLoopRunner(options())(session(recorded, { maxSteps: 2 }), 0);
    expect({ status: outcome.status, error: outcome.error, steps: outcome.steps.length }).toEqual({
      status: 'budget_exceeded',
      error: { code: 'SG_BUDGET_EXCEEDED', message: 'step budget of 2 steps exhausted', budget: 'maxSteps' },
      steps: 2,
    });
  });

  it('stops at maxTokens after the model step that crosses it', async () => {
    const outcome = await toolLoopRunner(options())(session(recorded, { maxTokens: 2000 }), 0);
    // 1200 tokens after step 0, 2750 after step 2 > 2000
    expect({ status: outcome.status, error: outcome.error, steps: outcome.steps.map((s) => s.type) }).toEqual({
      status: 'budget_exceeded',
      error: { code: 'SG_BUDGET_EXCEEDED', message: 'token budget of 2000 exceeded (2750)', budget: 'maxTokens' },
      steps: ['llm', 'tool', 'llm'],
    });
  });
});

describe('toolLoopRunner with a scripted provider', () => {
  /** A provider that answers from a script and keeps every request it got. */
  function scripted(answers: ModelResponse[]) {
    const requests: ModelRequest[] = [];
    const provider: ModelProvider = {
      id: 'scripted',
      async complete(request, { callIndex }) {
        requests.push(structuredClone(request));
        const answer = answers[callIndex];
        if (!answer) throw new Error(`no scripted answer #${callIndex}`);
        return answer;
      },
    };
    return { provider, requests };
  }

  it('passes tool results and recorded tool errors back to the model', async () => {
    const { provider, requests } = scripted([
      {
        model: 'gpt-4.1-mini',
        toolCalls: [
          { id: 'c1', name: 'get_order', args: { order_id: 'A1' } },
          { id: 'c2', name: 'check_policy', args: { order_id: 'A1' } },
        ],
      },
      { model: 'gpt-4.1-mini', text: '{"action":"deny"}', toolCalls: [] },
    ]);
    const outcome = await toolLoopRunner({ provider, model: 'gpt-4.1-mini', catalog, pricing: {}, decisionSchema: { type: 'object' } })(session(), 0);
    expect(requests[1]?.messages.slice(1)).toEqual([
      { role: 'assistant', toolCalls: [{ id: 'c1', name: 'get_order', args: { order_id: 'A1' } }, { id: 'c2', name: 'check_policy', args: { order_id: 'A1' } }] },
      { role: 'tool', toolCallId: 'c1', name: 'get_order', content: '{"total":20}' },
      { role: 'tool', toolCallId: 'c2', name: 'check_policy', content: '{"error":"check_policy failed: policy service unavailable"}' },
    ]);
    expect(requests[0]?.tools.map((t) => t.name)).toEqual(['get_order', 'check_policy', 'issue_refund', 'send_email', 'final_decision']);
    // No tool calls: the text is the decision, parsed as JSON because a decision schema is set.
    expect({ status: outcome.status, decision: outcome.decision, output: outcome.output }).toEqual({
      status: 'completed',
      decision: { action: 'deny' },
      output: '{"action":"deny"}',
    });
  });

  it('ends diverged when the model calls a tool off the trace', async () => {
    const { provider } = scripted([
      { model: 'gpt-4.1-mini', toolCalls: [{ id: 'c1', name: 'send_email', args: { to: 'c@example.com' } }] },
      { model: 'gpt-4.1-mini', toolCalls: [{ id: 'c2', name: 'final_decision', args: { action: 'deny' } }] },
    ]);
    const outcome = await toolLoopRunner({ provider, model: 'gpt-4.1-mini', catalog, pricing: {} })(session(), 0);
    expect({ status: outcome.status, code: outcome.error?.code, steps: outcome.steps.map((s) => s.type) }).toEqual({
      status: 'diverged',
      code: 'SG_OFF_TRACE',
      steps: ['llm', 'tool'],
    });
  });
});
