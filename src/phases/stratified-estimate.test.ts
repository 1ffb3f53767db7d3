import { describe, expect, it } from 'vitest';
import { rateMetric } from '../metrics/rate.js';
import { createMetricsAccumulator } from '../metrics/summary.js';
import { aResult } from '../testing/builders.js';
import { assessPromotion, DEFAULT_PROMOTION, type PhaseRun } from './promotion.js';
import { reversibilityMatrix } from './reversibility.js';
import { aCatalog } from '../testing/builders.js';
import { stratifiedErrorRate } from './stratified-estimate.js';

/**
 * A made-up population of 1,000 decided traces: a common class (refund, 952 traces, 8 of them
 * wrong) and twelve rare escalation classes of 4 traces each, five of them always wrong: 28
 * errors, 2.8%. A
 * stratified draw at 6% reviews ~58 refunds but one trace of every rare class, so the rare,
 * error-prone classes are a fifth of the sample while they are 5% of the population.
 */
function population() {
  const results = [];
  for (let i = 0; i < 952; i++) results.push(aResult(`refund-${i}`, { decision: { action: 'refund' }, agree: true }));
  for (let c = 0; c < 11; c++) {
    const wrong = c < 7;
    for (let i = 0; i < (wrong ? 4 : 5); i++) results.push(aResult(`rare-${c}-${i}`, { decision: { action: `escalate-${c}` }, agree: !wrong }));
  }
  return results;
}

describe('stratifiedErrorRate', () => {
  it('is the ordinary Wilson interval with one stratum', () => {
    const e = stratifiedErrorRate([{ stratum: 'a', population: 500, sampled: 40, errors: 6 }]);
    expect(e.rate.rate).toBeCloseTo(6 / 40, 12);
    expect(e.effectiveN).toBeCloseTo(40, 9);
    const wilson = rateMetric(6, 40).ci95!;
    expect(e.rate.ci95![0]).toBeCloseTo(wilson[0], 9);
    expect(e.rate.ci95![1]).toBeCloseTo(wilson[1], 9);
  });

  it('weights each stratum by its population share, not its sample share', () => {
    const e = stratifiedErrorRate([
      { stratum: 'rare', population: 50, sampled: 10, errors: 5 },
      { stratum: 'common', population: 950, sampled: 10, errors: 0 },
    ]);
    // 0.05 × 0.5 + 0.95 × 0 = 0.025, where the raw sample says 5/20 = 0.25
    expect(e.rate.rate).toBeCloseTo(0.025, 12);
    expect(e.rate.successes / e.rate.n).toBeCloseTo(e.rate.rate!, 12);
    expect(e.rate.ci95![0]).toBeLessThan(0.025);
    expect(e.rate.ci95![1]).toBeGreaterThan(0.025);
    expect(e.effectiveN).toBeLessThanOrEqual(20);
  });

  it('keeps a positive upper bound when no error was seen (fail closed), and a census narrows it to the point', () => {
    const none = stratifiedErrorRate([
      { stratum: 'a', population: 900, sampled: 9, errors: 0 },
      { stratum: 'b', population: 100, sampled: 1, errors: 0 },
    ]);
    expect(none.rate.rate).toBe(0);
    expect(none.rate.ci95![0]).toBe(0);
    expect(none.rate.ci95![1]).toBeGreaterThan(0.1);
    const census = stratifiedErrorRate([{ stratum: 'a', population: 10, sampled: 10, errors: 3 }]);
    expect(census.population).toEqual({ rate: 0.3, ci95: [0.3, 0.3] });
  });

  it('lets a stratum nobody reviewed span its whole share of the interval', () => {
    const e = stratifiedErrorRate([
      { stratum: 'a', population: 800, sampled: 40, errors: 0 },
      { stratum: 'b', population: 200, sampled: 0, errors: 0 },
    ]);
    expect(e.unreviewedShare).toBeCloseTo(0.2, 12);
    expect(e.rate.ci95![1]).toBeGreaterThanOrEqual(0.2);
  });

  it('has no estimate without a reviewed trace', () => {
    expect(stratifiedErrorRate([{ stratum: 'a', population: 5, sampled: 0, errors: 0 }]).rate).toEqual({ rate: null, n: 0, successes: 0, ci95: null });
  });
});

describe('a stratified review sample through the run metrics', () => {
  const results = population();
  const trueRate = results.filter((r) => r.agree === false).length / results.length;
  const metricsOf = (stratify: boolean) => {
    const acc = createMetricsAccumulator({ phase: 'auto-with-review', review: { sampleRate: 0.06, seed: 7, ...(stratify ? { stratify: 'decision' as const } : {}) } });
    for (const r of results) acc.add(r);
    const m = acc.finish();
    if (!m.phase || !('autoWithReview' in m.phase)) throw new Error('no auto-with-review metrics');
    return { metrics: m, sample: m.phase.autoWithReview };
  };

  it('estimates the population error rate, where the raw stratified sample rate overstates it', () => {
    const { sample } = metricsOf(true);
    const unweighted = sample.stratified!.unweighted.rate!;
    const weighted = sample.sampleErrorRate.rate!;
    // The population: 2.8% wrong. The raw sample over-represents the rare classes several times over.
    expect(trueRate).toBeCloseTo(0.028, 12);
    expect(unweighted).toBeGreaterThan(3 * trueRate);
    expect(Math.abs(weighted - trueRate)).toBeLessThan(0.01);
    expect(sample.sampleErrorRate.ci95![0]).toBeLessThanOrEqual(trueRate);
    expect(sample.sampleErrorRate.ci95![1]).toBeGreaterThanOrEqual(trueRate);
    expect(sample.stratified!.strata.reduce((s, h) => s + h.population, 0)).toBe(results.length);
  });

  it('an unstratified sample keeps the plain rate and carries no strata', () => {
    const { sample } = metricsOf(false);
    expect(sample.stratified).toBeUndefined();
    expect(sample.sampleErrorRate).toEqual(rateMetric(sample.sampleErrorRate.successes, sample.sampleErrorRate.n));
  });

  it('the promotion rung to auto reads the weighted estimate', () => {
    const { metrics, sample } = metricsOf(true);
    const catalog = aCatalog({ get_order: 'read' });
    const run: PhaseRun = { runId: 'r1', phase: 'auto-with-review', candidate: 'm', candidateHash: 'c1', startedAt: '2026-01-01T00:00:00Z', metrics };
    const shadowAndSuggest: PhaseRun[] = [
      { runId: 's', phase: 'shadow', candidate: 'm', candidateHash: 'c1', startedAt: '2025-12-01T00:00:00Z', metrics: { agreement: rateMetric(1000, 1000) } },
      { runId: 'g', phase: 'suggest', candidate: 'm', candidateHash: 'c1', startedAt: '2025-12-02T00:00:00Z', metrics: { overrideRate: { ...rateMetric(0, 1000), accepted: 1000, edited: 0, rejected: 0 } } },
    ];
    const a = assessPromotion({ candidateHash: 'c1', runs: [...shadowAndSuggest, run], matrix: reversibilityMatrix(catalog, { calls: { get_order: 1 } }), thresholds: { ...DEFAULT_PROMOTION, minTraces: 10 } });
    const step = a.steps.find((s) => s.metric === 'sampleErrorRate')!;
    expect(step.evidence).toMatchObject({ rate: sample.sampleErrorRate.rate, ci95: sample.sampleErrorRate.ci95 });
    expect(step.evidence!.rate).not.toBe(sample.stratified!.unweighted.rate);
  });
});
