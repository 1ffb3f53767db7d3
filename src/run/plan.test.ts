import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../store/memory.js';
import type { RunMeta } from '../store/types.js';
import { createMetricsAccumulator, rateMetric, type RunMetrics } from '../metrics/summary.js';
import { buildPlan, planFigures } from './plan.js';

const meta = (runId: string, replica = 0): RunMeta => ({
  runId,
  suite: 's',
  suiteFile: 'suites/s.yaml',
  suiteHash: 'h',
  candidateHash: 'c',
  candidate: 'module:a.mjs',
  model: null,
  promptVersion: null,
  phase: 'shadow',
  reference: 'human',
  gitCommit: null,
  gitRef: null,
  startedAt: `2026-12-0${replica + 1}T00:00:00.000Z`,
  candidateSource: null,
  replica,
});

const metricsWith = (agreed: number, n: number): RunMetrics => ({ ...createMetricsAccumulator().finish(), agreement: rateMetric(agreed, n) });

describe('planFigures', () => {
  it('assumes 90% agreement and the most flips it allows when nothing says otherwise', () => {
    const figures = planFigures({ name: 's', gate: {} }, createMemoryStore());
    expect(figures.agreement).toBe(0.9);
    expect(figures.discordance).toBeCloseTo(2 * 0.9 * 0.1, 12);
    expect(figures.agreementFrom).toMatch(/^assumed/);
  });

  it('reads the effects agreement of the latest stored run for a suite gated on effects, and passes over a noise floor\'s replica', () => {
    const store = createMemoryStore();
    store.createRun(meta('own'));
    store.finishRun('own', '2026-12-01T01:00:00.000Z', { metrics: { ...metricsWith(0, 0), effectsAgreement: rateMetric(30, 40) } });
    store.createRun(meta('replica', 1));
    store.finishRun('replica', '2026-12-02T01:00:00.000Z', { metrics: { ...metricsWith(0, 0), effectsAgreement: rateMetric(10, 40) } });
    const figures = planFigures({ name: 's', gate: { effectsAgreement: { min: 0.6, bound: 'lower' } } }, store);
    expect(figures).toMatchObject({ agreement: 0.75, agreementFrom: 'effectsAgreement of the latest stored run own' });
  });
});

describe('buildPlan', () => {
  it('is one-sample without a paired check, and says whether the suite reaches each lower bound', () => {
    const plan = buildPlan({ suite: 's', gate: { agreement: { min: 0.9, bound: 'lower' } }, traces: 30, unreadable: 2, figures: { agreement: 0.95, agreementFrom: 'x', discordance: 0.05, discordanceFrom: 'y' } });
    expect(plan).toMatchObject({ design: 'one-sample', alpha: 0.025, traces: 30, unreadable: 2 });
    expect(plan.rows.every((r) => r.needed === r.oneSample && r.enough === (r.needed !== null && 30 >= r.needed))).toBe(true);
    // 30/30 gives 30/(30 + z²) = 0.886 < 0.90: the suite cannot pass this bound at all.
    expect(plan.checks).toEqual([{ name: 'agreement', min: 0.9, minimumTraces: 35, enough: false }]);
  });

  it("says whether the suite has the cases the error rate's floor needs, and leaves max 0 (a rule) out", () => {
    const figures = { agreement: 0.95, agreementFrom: 'x', discordance: 0.05, discordanceFrom: 'y' };
    expect(buildPlan({ suite: 's', gate: { errorRate: { max: 0.02 } }, traces: 150, unreadable: 0, figures }).checks).toEqual([{ name: 'errorRate', max: 0.02, minimumTraces: 189, enough: false }]);
    expect(buildPlan({ suite: 's', gate: { errorRate: { max: 0.05 } }, traces: 150, unreadable: 0, figures }).checks).toEqual([{ name: 'errorRate', max: 0.05, minimumTraces: 73, enough: true }]);
    expect(buildPlan({ suite: 's', gate: { errorRate: { max: 0 } }, traces: 150, unreadable: 0, figures }).checks).toEqual([]);
    // The injection-failure share's floor is over the injection-tagged cases, not all of them.
    expect(buildPlan({ suite: 's', gate: { injectionFailures: { max: 0.05 } }, traces: 500, injected: 19, unreadable: 0, figures }).checks).toEqual([{ name: 'injectionFailures', max: 0.05, minimumTraces: 73, injected: 19, enough: false }]);
    expect(buildPlan({ suite: 's', gate: { injectionFailures: { max: 0 } }, traces: 500, injected: 19, unreadable: 0, figures }).checks).toEqual([]);
  });

  it('is paired with a regressions check, at its alpha', () => {
    const plan = buildPlan({ suite: 's', gate: { regressions: { margin: 0.1, alpha: 0.01 } }, traces: 200, unreadable: 0, figures: { agreement: 0.9, agreementFrom: 'x', discordance: 0.1, discordanceFrom: 'y' } });
    expect(plan).toMatchObject({ design: 'paired', alpha: 0.01 });
    expect(plan.rows.every((r) => r.needed === r.paired)).toBe(true);
    expect(plan.checks[0]).toMatchObject({ name: 'regressions', margin: 0.1, enough: true });
  });
});
