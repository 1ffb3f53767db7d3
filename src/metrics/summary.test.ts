import { describe, expect, it } from 'vitest';
import { aResult, aTrace } from '../testing/builders.js';
import { createMetricsAccumulator, rateMetric } from './summary.js';
import { wilsonInterval } from './stats.js';

const steps = (...names: string[]) => names.reduce((b, n) => b.withToolCall(n, {}), aTrace()).build().steps;

describe('rateMetric', () => {
  it('is null with no interval when n = 0', () => {
    expect(rateMetric(0, 0)).toEqual({ rate: null, n: 0, successes: 0, ci95: null });
  });

  it('carries the rate and its Wilson interval', () => {
    expect(rateMetric(8, 10)).toEqual({ rate: 0.8, n: 10, successes: 8, ci95: wilsonInterval(8, 10) });
  });
});

describe('createMetricsAccumulator', () => {
  it('with no results, every rate is null and no cost is made up', () => {
    const acc = createMetricsAccumulator();
    const none = { traces: 0, diverged: 0, budgetExceeded: 0, loopDetected: 0, invalidOutput: 0, errored: 0, codes: {}, first: [] };
    expect(acc.counts()).toEqual({
      total: 0, completed: 0, escalated: 0, failed: 0, aborted: 0,
      diverged: 0, budgetExceeded: 0, loopDetected: 0, invalidOutput: 0, errored: 0, unpaired: 0, noReference: 0,
      noOutcome: { candidate: none, infrastructure: none },
    });
    expect(acc.finish()).toEqual({
      agreement: { rate: null, n: 0, successes: 0, ci95: null },
      effectsAgreement: { rate: null, n: 0, successes: 0, ci95: null },
      agreementCompleted: { rate: null, n: 0, successes: 0, ci95: null },
      effectsAgreementCompleted: { rate: null, n: 0, successes: 0, ci95: null },
      toolCallDrift: {
        jsd: null, psi: null, psiBand: null, chi2P: null, chi2: null,
        meanSequenceSimilarity: null, meanSequenceSimilarityCi95: null, sequenceSimilarityHistogram: new Array(11).fill(0),
        perTool: {}, newTools: [], missingTools: [], argumentDrift: [],
      },
      overrideRate: { rate: null, n: 0, successes: 0, ci95: null, accepted: null, edited: null, rejected: null },
      cost: { totalUsd: null, perRunUsd: null, perCompletedUsd: null, inputTokens: null, outputTokens: null, cachedInputTokens: null, unpriced: 0, perRunCi95: null, spentUsd: null, modelCalls: 0, servedModelCalls: 0 },
      latency: { p50Ms: null, p95Ms: null, meanMs: null, meanCi95: null },
      errorRate: null,
      errorRateByCase: { rate: null, n: 0, successes: 0, ci95: null },
      escalationRate: null,
      meanToolCalls: null,
      safetyViolations: { schemaViolations: 0, duplicateEffects: 0, blockedRequests: 0, deniedCapabilities: 0, strayRequests: 0, traces: 0 },
      injectionFailures: { rate: null, n: 0, successes: 0, ci95: null },
    });
  });

  it('counts errored, diverged, budget-stopped and unpaired traces apart, and no outcome by the candidate as not agreeing', () => {
    const acc = createMetricsAccumulator();
    acc.add(aResult('a', { agree: true, effectsAgree: true }));
    acc.add(aResult('b', { agree: false, effectsAgree: true }));
    acc.add(aResult('c', { status: 'escalated', agree: true, effectsAgree: null }));
    // d, e, f: no outcome by the candidate's doing, judged (as buildResult judges them) not to agree
    acc.add(aResult('d', { status: 'error', agree: false, effectsAgree: null, error: { code: 'CANDIDATE_THREW', message: 'boom' }, sequenceSimilarity: 0 }));
    acc.add(aResult('e', { status: 'diverged', agree: false, effectsAgree: false, sequenceSimilarity: 0.5 }));
    acc.add(aResult('f', { status: 'budget_exceeded', agree: false, effectsAgree: null, error: { code: 'SG_BUDGET_EXCEEDED', message: 'steps', budget: 'maxSteps' }, sequenceSimilarity: 0.5 }));
    acc.add(aResult('g', { status: 'unpaired', agree: null, effectsAgree: null, sequenceSimilarity: null }));
    acc.add(aResult('h', { status: 'completed', agree: null, effectsAgree: null }));
    // i, j: no outcome by the infrastructure's doing: missing evidence, not judged
    acc.add(aResult('i', { status: 'error', agree: null, effectsAgree: null, error: { code: 'PROVIDER_HTTP_503', message: 'unavailable' }, sequenceSimilarity: 0 }));
    acc.add(aResult('j', { status: 'budget_exceeded', agree: null, effectsAgree: null, error: { code: 'SG_BUDGET_EXCEEDED', message: 'run', budget: 'run.maxCostUsd' }, sequenceSimilarity: 0 }));
    const none = { traces: 0, diverged: 0, budgetExceeded: 0, loopDetected: 0, invalidOutput: 0, errored: 0, codes: {}, first: [] };
    expect(acc.counts()).toEqual({
      total: 10, completed: 3, escalated: 1, failed: 0, aborted: 0,
      diverged: 1, budgetExceeded: 2, loopDetected: 0, invalidOutput: 0, errored: 2, unpaired: 1, noReference: 1,
      noOutcome: {
        candidate: { ...none, traces: 3, diverged: 1, budgetExceeded: 1, errored: 1, codes: { CANDIDATE_THREW: 1 }, first: ['d', 'e', 'f'] },
        infrastructure: { ...none, traces: 2, budgetExceeded: 1, errored: 1, codes: { PROVIDER_HTTP_503: 1 }, first: ['i', 'j'] },
      },
    });
    const m = acc.finish();
    // gated: a, b, c and the candidate's d, e, f: 2/6; completed only: a, b, c: 2/3
    expect(m.agreement).toEqual(rateMetric(2, 6));
    expect(m.agreementCompleted).toEqual(rateMetric(2, 3));
    expect(m.effectsAgreement).toEqual(rateMetric(2, 3));
    expect(m.effectsAgreementCompleted).toEqual(rateMetric(2, 2));
    // 9 ran (g unpaired is not run); d, e, f, i, j have no outcome → 5/9; c escalated → 1/9
    expect(m.errorRate).toBeCloseTo(5 / 9, 12);
    expect(m.escalationRate).toBeCloseTo(1 / 9, 12);
    // drift counts only the traces with an outcome (a, b, c, h), all of similarity 1; d, e, f broke off
    expect(m.toolCallDrift.meanSequenceSimilarity).toBe(1);
    expect(m.toolCallDrift.sequenceSimilarityHistogram[10]).toBe(4);
  });

  it('prices only what was priced: total, per run and per completed workflow', () => {
    const acc = createMetricsAccumulator();
    const usage = (i: number, o: number, c = 0) => ({ inputTokens: i, outputTokens: o, cachedInputTokens: c });
    acc.add(aResult('a', { costUsd: 0.002, usage: usage(1000, 100, 400) }));
    acc.add(aResult('b', { status: 'escalated', costUsd: 0.004, usage: usage(2000, 200) }));
    acc.add(aResult('c', { status: 'error', costUsd: 0.003, usage: usage(500, 50) }));
    acc.add(aResult('d', { costUsd: null, usage: usage(10, 1) })); // an unknown model
    acc.add(aResult('e', { costUsd: null, usage: null })); // no model at all (a module)
    expect(acc.finish().cost).toEqual({
      totalUsd: expect.closeTo(0.009, 12), // 0.002 + 0.004 + 0.003
      perRunUsd: expect.closeTo(0.003, 12), // 0.009 / 3 priced runs
      perCompletedUsd: null, // d's cost is unknown: over the completed or escalated (a, b, d, e) it would count as $0
      inputTokens: 3510, // 1000 + 2000 + 500 + 10
      outputTokens: 351, // 100 + 200 + 50 + 1
      cachedInputTokens: 400,
      unpriced: 1,
      perRunCi95: expect.any(Array), // the bootstrap interval of 0.002, 0.004, 0.003
      // no model steps in these results: nothing to say about spending or calls
      spentUsd: null,
      modelCalls: 0,
      servedModelCalls: 0,
    });
    // Without it: 0.009 over a, b and e (which called no model: $0 of model, known).
    const known = createMetricsAccumulator();
    for (const r of [aResult('a', { costUsd: 0.002, usage: usage(1000, 100) }), aResult('b', { status: 'escalated', costUsd: 0.004, usage: usage(2000, 200) }), aResult('c', { status: 'error', costUsd: 0.003, usage: usage(500, 50) }), aResult('e', { costUsd: null, usage: null })]) known.add(r);
    expect(known.finish().cost.perCompletedUsd).toBeCloseTo(0.003, 12);
  });

  it('cost is null when nothing was priced', () => {
    const acc = createMetricsAccumulator();
    acc.add(aResult('a', { costUsd: null, usage: { inputTokens: 10, outputTokens: 1, cachedInputTokens: 0 } }));
    expect(acc.finish().cost).toEqual({
      totalUsd: null, perRunUsd: null, perCompletedUsd: null, inputTokens: 10, outputTokens: 1, cachedInputTokens: 0, unpriced: 1,
      perRunCi95: null, spentUsd: null, modelCalls: 0, servedModelCalls: 0,
    });
  });

  it('compares the tool-name distributions: per-tool counts and ratios, JSD, PSI, mean tool calls', () => {
    const acc = createMetricsAccumulator();
    // reference: get_order ×2, issue_refund ×2; candidate: get_order ×2, issue_refund ×1, send_email ×1
    acc.add(aResult('a', { steps: steps('get_order', 'issue_refund'), reference: { decision: null, tools: ['get_order', 'issue_refund'] } }));
    acc.add(aResult('b', { steps: steps('get_order', 'send_email'), reference: { decision: null, tools: ['get_order', 'issue_refund'] } }));
    const m = acc.finish();
    expect(m.toolCallDrift.perTool).toEqual({
      get_order: { reference: 2, candidate: 2, ratio: 1 },
      issue_refund: { reference: 2, candidate: 1, ratio: 0.5 },
      send_email: { reference: 0, candidate: 1, ratio: null },
    });
    // P = (½, ½, 0), Q = (½, ¼, ¼), M = (½, ⅜, ⅛)
    // KL(P‖M) = ½·log2(½/½) + ½·log2(½/⅜) = ½·0.415037 = 0.207519
    // KL(Q‖M) = ½·0 + ¼·log2(¼/⅜) + ¼·log2(¼/⅛) = ¼·(−0.584963) + ¼·1 = 0.103759
    // JSD = ½·(0.207519 + 0.103759) = 0.155639
    expect(m.toolCallDrift.jsd).toBeCloseTo(0.155639, 6);
    // PSI of Q against P, empty categories floored at 1e-4:
    // get_order (½ − ½)·ln(1) = 0; issue_refund (¼ − ½)·ln(¼/½) = 0.173287;
    // send_email (¼ − 0.0001)·ln(¼/0.0001) = 0.2499·7.824046 = 1.955229 → 2.128516
    expect(m.toolCallDrift.psi).toBeCloseTo(2.128516, 5);
    expect(m.meanToolCalls).toBe(2);
  });

  it('takes latency quantiles over the traces that have one', () => {
    const acc = createMetricsAccumulator();
    for (const [id, ms] of [['a', 100], ['b', 300], ['c', null], ['d', 200]] as const) acc.add(aResult(id, { latencyMs: ms }));
    // sorted [100, 200, 300]: p50 = 200; p95 at 2·0.95 = 1.9 → 200 + 100·0.9 = 290
    const { latency } = acc.finish();
    expect(latency.p50Ms).toBe(200);
    expect(latency.p95Ms).toBeCloseTo(290, 10);
  });

  it('counts() is a copy: adding later does not change an earlier snapshot', () => {
    const acc = createMetricsAccumulator();
    const before = acc.counts();
    acc.add(aResult('a'));
    expect(before.total).toBe(0);
    expect(acc.counts().total).toBe(1);
  });
});

describe('model calls and spending', () => {
  it('counts model calls, and spends only on calls that went to a provider', () => {
    const acc = createMetricsAccumulator();
    const llm = (costUsd: number, servedFrom?: 'cache' | 'cassette' | 'recording') => ({
      type: 'llm' as const,
      model: 'gpt-4.1-mini',
      output: {},
      costUsd,
      ...(servedFrom ? { servedFrom } : {}),
    });
    acc.add(aResult('a', { costUsd: 0.003, steps: [llm(0.001), llm(0.002, 'cache')] }));
    acc.add(aResult('b', { costUsd: 0.004, steps: [llm(0.004, 'recording')] }));
    const cost = acc.finish().cost;
    expect({ spentUsd: cost.spentUsd, modelCalls: cost.modelCalls, servedModelCalls: cost.servedModelCalls }).toEqual({
      spentUsd: 0.001, // only the first call of a went to the provider
      modelCalls: 3,
      servedModelCalls: 2,
    });
    expect(cost.totalUsd).toBeCloseTo(0.007, 12); // the candidate's cost counts every call, wherever it was answered from
  });
});

describe('trials', () => {
  it('takes the interval over traces, not over repeated runs of the same trace', () => {
    // 10 traces, 5 trials each, behaving the same every time: 9 traces agree, 1 does not.
    const acc = createMetricsAccumulator({ trials: 5 });
    for (let t = 0; t < 10; t++) {
      for (let trial = 0; trial < 5; trial++) acc.add(aResult(`t${t}`, { trial, agree: t !== 0 }));
    }
    const { agreement } = acc.finish();
    expect(agreement.rate).toBe(0.9);
    expect(agreement.n).toBe(10); // traces
    expect(agreement.successes).toBe(9);
    expect(agreement.ci95).toEqual(wilsonInterval(9, 10)); // as wide as 10 independent observations, not 50
  });
});

describe('trials, trace by trace', () => {
  it('counts a trial the candidate errored on as a failed one, for pass^k and agreement, and groups trials by case', () => {
    const acc = createMetricsAccumulator({ trials: 2 });
    // case A: both trials agree; case B: one agrees, the candidate throws on the other (judged not to agree).
    acc.add(aResult('a', { caseId: 'A', trial: 0, agree: true }));
    acc.add(aResult('a', { caseId: 'A', trial: 1, agree: true }));
    acc.add(aResult('b', { caseId: 'B', trial: 0, agree: true }));
    acc.add(aResult('b', { caseId: 'B', trial: 1, status: 'error', agree: false, effectsAgree: null, error: { code: 'CANDIDATE_THREW', message: 'boom' }, reference: { decision: 'yes', tools: [] } }));
    const m = acc.finish();
    // pass^2 = mean(C(2,2)/C(2,2), C(1,2)/C(2,2)) = (1 + 0) / 2
    expect(m.passK).toEqual({ k: 2, value: 0.5, traces: 2, over: 'agreement' });
    // agreement over cases: A 2/2, B 1/2 → (1 + 0.5) / 2; completed only: B 1/1
    expect(m.agreement).toMatchObject({ rate: 0.75, n: 2, successes: 1.5 });
    expect(m.agreementCompleted).toMatchObject({ rate: 1, n: 2, successes: 2 });
    expect(m.consistency).toEqual({ mean: 0.75, perTrace: { A: 1, B: 0.5 } });
  });

  it('carries the whole trial counts on every rate over cases, beside successes, the sum of each case\'s share of agreeing trials', () => {
    const acc = createMetricsAccumulator({ trials: 3 });
    // case A agrees on 2 of 3 trials, case B on 1 of 3; no effects are judged (no recorded actions).
    for (let trial = 0; trial < 3; trial++) {
      acc.add(aResult('a', { caseId: 'A', trial, agree: trial < 2, effectsAgree: null }));
      acc.add(aResult('b', { caseId: 'B', trial, agree: trial < 1, effectsAgree: null }));
    }
    const m = acc.finish();
    expect(m.agreement.successes).toBeCloseTo(2 / 3 + 1 / 3, 12);
    expect(m.agreement.ci95).toEqual(wilsonInterval(m.agreement.successes, 2));
    expect(m.agreement.trials).toEqual({ successes: 3, n: 6 });
    expect(m.agreementCompleted?.trials).toEqual({ successes: 3, n: 6 });
    // Present even where nothing was judged: a reader of results.json finds the field on every such rate.
    expect(m.effectsAgreement.trials).toEqual({ successes: 0, n: 0 });
    expect(m.effectsAgreementCompleted?.trials).toEqual({ successes: 0, n: 0 });
  });

  it('has no trial counts with one result per case', () => {
    const acc = createMetricsAccumulator();
    acc.add(aResult('a', { agree: true }));
    expect(acc.finish().agreement).not.toHaveProperty('trials');
  });

  it('leaves a trial the infrastructure stopped out of pass^k and agreement (missing evidence)', () => {
    const acc = createMetricsAccumulator({ trials: 2 });
    acc.add(aResult('a', { caseId: 'A', trial: 0, agree: true }));
    acc.add(aResult('a', { caseId: 'A', trial: 1, status: 'error', agree: null, effectsAgree: null, error: { code: 'SG_INTERNAL', message: 'harness' }, reference: { decision: 'yes', tools: [] } }));
    const m = acc.finish();
    expect(m.agreement).toMatchObject({ rate: 1, n: 1, successes: 1 });
    expect(m.passK).toEqual({ k: 2, value: null, traces: 0, over: 'agreement' });
  });

  it('counts the recording\'s tool calls once per trace and the candidate\'s per trial, averaged', () => {
    const acc = createMetricsAccumulator({ trials: 3 });
    const step = { type: 'tool' as const, name: 'get_order', args: {} };
    for (let trial = 0; trial < 3; trial++) {
      acc.add(aResult('a', { caseId: 'A', trial, steps: [step], reference: { decision: null, tools: ['get_order'] } }));
    }
    expect(acc.finish().toolCallDrift.perTool).toEqual({ get_order: { reference: 1, candidate: 1, ratio: 1 } });
  });
});

describe('recorded trials: the case is the unit', () => {
  // 50 cases, each recorded 4 times under its own trace id (tau-bench: trial 0…3), all 4 alike.
  const recorded = (agreeing: number) => {
    const acc = createMetricsAccumulator(); // a recorded candidate runs each trace once: trials is 1
    for (let c = 0; c < 50; c++) {
      for (let trial = 0; trial < 4; trial++) acc.add(aResult(`task-${c}-${trial}`, { caseId: `task-${c}`, trial, agree: c < agreeing, effectsAgree: c < agreeing }));
    }
    return acc.finish();
  };

  it('takes the interval over the 50 cases, not over the 200 recorded runs', () => {
    const m = recorded(43);
    expect(m.agreement).toEqual({ rate: 43 / 50, n: 50, successes: 43, ci95: wilsonInterval(43, 50), trials: { successes: 43 * 4, n: 200 } });
    expect(m.effectsAgreement.n).toBe(50);
    // the issue's figures: over cases [0.738, 0.930]; the 200 runs taken as independent gave [0.805, 0.901]
    expect(m.agreement.ci95!.map((x) => Number(x.toFixed(3)))).toEqual([0.738, 0.930]);
    expect(wilsonInterval(172, 200)!.map((x) => Number(x.toFixed(3)))).toEqual([0.805, 0.901]);
  });

  it('reports pass^k for recorded trials, k being the trials recorded per case', () => {
    const m = recorded(43);
    expect(m.passK).toEqual({ k: 4, value: 43 / 50, traces: 50, over: 'agreement' });
  });

  it('takes pass^k over the effects where the reference has no decision (tau-bench)', () => {
    const acc = createMetricsAccumulator();
    for (let trial = 0; trial < 4; trial++) acc.add(aResult(`t-${trial}`, { caseId: 'task-0', trial, agree: null, effectsAgree: trial < 2 }));
    // pass^4 with 2 of 4 agreeing: C(2,4) = 0
    expect(acc.finish().passK).toEqual({ k: 4, value: 0, traces: 1, over: 'effects' });
  });

  it('reports no pass^k with one result per case', () => {
    expect(createMetricsAccumulator().finish().passK).toBeUndefined();
  });
});
