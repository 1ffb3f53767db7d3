import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator, rateMetric, type RunMetrics } from '../metrics/summary.js';
import type { GateConfig } from '../suite/schema.js';
import { evaluateGate, gatesAnything, inconclusiveReasons } from './gate.js';

/** Metrics of a run in which 10 of 10 traces agreed, with the figures a test is about set over them. */
function metrics(overrides: Partial<RunMetrics> = {}): RunMetrics {
  return { ...createMetricsAccumulator().finish(), agreement: rateMetric(10, 10), ...overrides };
}

describe('evaluateGate', () => {
  it('says so when no check is configured, rather than passing on nothing', () => {
    expect(evaluateGate({}, metrics())).toEqual({ verdict: 'pass', checks: [], noChecks: true });
    expect(gatesAnything({})).toBe(false);
  });

  it('counts neither dry-run checks nor coverage alone as something to gate on', () => {
    expect(gatesAnything({ agreement: { min: 0.9, bound: 'lower', dryRun: true } })).toBe(false);
    expect(gatesAnything({ coverage: { min: 0.9 } })).toBe(false);
    expect(gatesAnything({ coverage: { min: 0.9 }, errorRate: { max: 0.1 } })).toBe(true);
    expect(evaluateGate({ errorRate: { max: 0.1, dryRun: true } }, metrics({ errorRate: 0 }))).toMatchObject({ noChecks: true, verdict: 'pass' });
  });

  it('is inconclusive, whatever is configured, when no trace could be compared', () => {
    expect(evaluateGate({ errorRate: { max: 1 } }, metrics({ agreement: rateMetric(0, 0), errorRate: 1 }))).toEqual({
      verdict: 'inconclusive',
      checks: [
        { name: 'errorRate', value: 1, threshold: 1, status: 'pass', reason: 'error rate 100.0% ≤ 100.0%' },
        { name: 'evidence', value: 0, threshold: 1, status: 'inconclusive', reason: 'no trace produced an outcome that could be compared with the reference' },
      ],
    });
  });

  it('takes traces compared by their effects alone (no decisions) as evidence', () => {
    const m = metrics({ agreement: rateMetric(0, 0), effectsAgreement: rateMetric(44, 200) });
    expect(evaluateGate({}, m)).toEqual({ verdict: 'pass', checks: [], noChecks: true });
    expect(evaluateGate({}, metrics({ agreement: rateMetric(0, 0), effectsAgreement: rateMetric(0, 0) })).verdict).toBe('inconclusive');
  });

  it('passes agreement on the lower bound when the bound clears the threshold', () => {
    // 95/100: denom = 1 + 3.8415/100 = 1.038415, centre = (0.95 + 0.019207)/1.038415 = 0.933350,
    // half = 1.96·√(0.000475 + 0.000096)/1.038415 = 0.045105 → lower 0.888245 ≥ 0.85
    const m = metrics({ agreement: rateMetric(95, 100) });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, m)).toEqual({
      verdict: 'pass',
      checks: [
        {
          name: 'agreement',
          value: m.agreement.ci95![0],
          threshold: 0.85,
          status: 'pass',
          reason: 'lower 95% bound of agreement (95/100) 88.8% ≥ 85.0%',
        },
      ],
    });
  });

  it('judges the lower bound, not the point estimate: 9/10 fails a 0.85 lower bound but passes a 0.85 point', () => {
    // 9/10 = 0.9 ≥ 0.85, but its Wilson lower bound is below: centre = (0.9 + 0.19207)/1.38415 = 0.788982,
    // half = 1.96·√(0.009 + 0.009604)/1.38415 = 0.193141 → lower 0.595841 < 0.85
    const m = metrics({ agreement: rateMetric(9, 10) });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, m)).toEqual({
      verdict: 'fail',
      checks: [
        {
          name: 'agreement',
          value: m.agreement.ci95![0],
          threshold: 0.85,
          status: 'fail',
          reason: 'lower 95% bound of agreement (9/10) 59.6% < 85.0%',
        },
      ],
    });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'point' } }, m)).toEqual({
      verdict: 'pass',
      checks: [{ name: 'agreement', value: 0.9, threshold: 0.85, status: 'pass', reason: 'agreement (9/10) 90.0% ≥ 85.0%' }],
    });
  });

  it('is inconclusive when nothing could be compared (n = 0)', () => {
    expect(evaluateGate({ effectsAgreement: { min: 0.9, bound: 'lower' } }, metrics())).toEqual({
      verdict: 'inconclusive',
      checks: [{ name: 'effectsAgreement', value: null, threshold: 0.9, status: 'inconclusive', reason: 'no trace could be compared (n = 0)' }],
    });
  });

  it('fails a maximum that is exceeded and passes one that is met exactly', () => {
    const m = metrics({
      errorRate: 0.05,
      toolCallDrift: { ...metrics().toolCallDrift, jsd: 0.1 },
    });
    expect(evaluateGate({ errorRate: { max: 0.02 }, toolCallDrift: { maxJsd: 0.1 } }, m)).toEqual({
      verdict: 'fail',
      checks: [
        { name: 'errorRate', value: 0.05, threshold: 0.02, status: 'fail', reason: 'error rate 5.0% > 2.0%' },
        { name: 'toolCallDrift', value: 0.1, threshold: 0.1, status: 'pass', reason: 'tool-call JSD 0.100 ≤ 0.100' },
      ],
    });
  });

  it('checks cost per run in dollars, inconclusive when nothing was priced', () => {
    const priced = metrics({ cost: { ...metrics().cost, totalUsd: 0.3, perRunUsd: 0.03 } });
    expect(evaluateGate({ costPerRunUsd: { max: 0.05 } }, priced).checks).toEqual([
      { name: 'costPerRunUsd', value: 0.03, threshold: 0.05, status: 'pass', reason: 'cost per run $0.0300 ≤ $0.0500' },
    ]);
    expect(evaluateGate({ costPerRunUsd: { max: 0.05 } }, metrics())).toEqual({
      verdict: 'inconclusive',
      checks: [{ name: 'costPerRunUsd', value: null, threshold: 0.05, status: 'inconclusive', reason: 'no priced model usage' }],
    });
  });

  it('is inconclusive on cost while any trace is unpriced, naming how many (the mean over the priced ones says nothing of them)', () => {
    const partly = metrics({ cost: { ...metrics().cost, totalUsd: 0.3, perRunUsd: 0.03, unpriced: 7 } });
    const [check] = evaluateGate({ costPerRunUsd: { max: 0.05 } }, partly).checks;
    expect(check).toMatchObject({ name: 'costPerRunUsd', value: null, status: 'inconclusive' });
    expect(check!.reason).toContain('7 trace(s) used a model with no price');
    expect(evaluateGate({ costPerRunUsd: { max: 0.05 } }, partly).verdict).toBe('inconclusive');
    const auto = metrics({ cost: partly.cost, phase: { auto: { costTrend: { ratio: 1, change: 0 } } } as unknown as RunMetrics['phase'] });
    expect(evaluateGate({ costTrend: { maxRatio: 1.2 } }, auto).checks[0]).toMatchObject({ status: 'inconclusive', value: null });
  });

  it('is inconclusive on the override rate with no reviewed item, never pass', () => {
    const result = evaluateGate({ overrideRate: { max: 0.2 } }, metrics());
    expect(result.verdict).toBe('inconclusive');
    expect(result.checks).toEqual([{ name: 'overrideRate', value: null, threshold: 0.2, status: 'inconclusive', reason: 'no reviewed items: the override rate needs review verdicts' }]);
  });

  it('lists a dry-run check with its status, and leaves it out of the verdict', () => {
    const m = metrics({ agreement: rateMetric(5, 10), errorRate: 0 });
    const dry = evaluateGate({ agreement: { min: 0.9, bound: 'point', dryRun: true }, errorRate: { max: 0.1 } }, m);
    const wet = evaluateGate({ agreement: { min: 0.9, bound: 'point' }, errorRate: { max: 0.1 } }, m);
    expect(wet.verdict).toBe('fail');
    expect(dry.verdict).toBe('pass');
    expect(dry.checks.map((c) => [c.name, c.status, c.dryRun])).toEqual([['agreement', 'fail', true], ['errorRate', 'pass', undefined]]);
    // A dry-run inconclusive check does not make the verdict inconclusive either, nor is it given as a reason.
    const unreviewed = evaluateGate({ overrideRate: { max: 0.2, dryRun: true }, errorRate: { max: 0.1 } }, m);
    expect(unreviewed).toMatchObject({ verdict: 'pass' });
    expect(inconclusiveReasons(unreviewed)).toEqual([]);
    // policy:<id> checks follow policyViolations' dryRun.
    const policy = evaluateGate({ policyViolations: { rules: { r1: { max: 0 } }, dryRun: true }, errorRate: { max: 0.1 } }, m);
    expect(policy.checks.find((c) => c.name === 'policy:r1')).toMatchObject({ status: 'inconclusive', dryRun: true });
    expect(policy.verdict).toBe('pass');
  });

  it('checks coverage whenever another check is configured: any unreadable line is inconclusive, naming the count and the first locations', () => {
    const lines = 480;
    const bad = ['t.jsonl:3', 't.jsonl:4', 't.jsonl:9', 't.jsonl:10', 't.jsonl:11'];
    const coverage = { lines, unreadable: 330, firstLocations: bad };
    const result = evaluateGate({ errorRate: { max: 0.1 } }, metrics({ errorRate: 0 }), coverage);
    const check = result.checks.find((c) => c.name === 'coverage')!;
    expect(result.verdict).toBe('inconclusive');
    expect(check).toMatchObject({ status: 'inconclusive', threshold: 1, value: (lines - 330) / lines });
    expect(check.reason).toContain(`330 of ${lines} trace line(s) unreadable (${bad.join(', ')}, …)`);
    expect(inconclusiveReasons(result)[0]).toBe(`coverage: ${check.reason}`);
    // Every line read: coverage passes.
    expect(evaluateGate({ errorRate: { max: 0.1 } }, metrics({ errorRate: 0 }), { lines, unreadable: 0, firstLocations: [] }).verdict).toBe('pass');
    // gate.coverage.min accepts a loss explicitly, and only as much as it says.
    const some = { lines: 100, unreadable: 3, firstLocations: ['t.jsonl:1', 't.jsonl:2', 't.jsonl:3'] };
    expect(evaluateGate({ errorRate: { max: 0.1 }, coverage: { min: 0.97 } }, metrics({ errorRate: 0 }), some).verdict).toBe('pass');
    expect(evaluateGate({ errorRate: { max: 0.1 }, coverage: { min: 0.98 } }, metrics({ errorRate: 0 }), some).verdict).toBe('inconclusive');
    // Coverage the caller cannot state (a shard of an older version) is inconclusive; one not given at all is not checked.
    expect(evaluateGate({ errorRate: { max: 0.1 } }, metrics({ errorRate: 0 }), null).checks.find((c) => c.name === 'coverage')).toMatchObject({ status: 'inconclusive' });
    expect(evaluateGate({ errorRate: { max: 0.1 } }, metrics({ errorRate: 0 })).checks.map((c) => c.name)).toEqual(['errorRate']);
    // No check to gate on: no coverage check either (run without gate checks reports the bad lines, not a verdict on them).
    expect(evaluateGate({}, metrics(), coverage).checks).toEqual([]);
  });

  it('any failing check fails the gate, even next to inconclusive ones', () => {
    const m = metrics({ agreement: rateMetric(1, 10), errorRate: 0 });
    const config: GateConfig = {
      agreement: { min: 0.9, bound: 'point' }, // fail
      effectsAgreement: { min: 0.9, bound: 'lower' }, // inconclusive: n = 0
      errorRate: { max: 0.1 }, // pass
    };
    const result = evaluateGate(config, m);
    expect(result.checks.map((c) => [c.name, c.status])).toEqual([
      ['agreement', 'fail'],
      ['effectsAgreement', 'inconclusive'],
      ['errorRate', 'pass'],
    ]);
    expect(result.verdict).toBe('fail');
  });

  it('with no failure, any inconclusive check makes the gate inconclusive', () => {
    const m = metrics({ agreement: rateMetric(10, 10), errorRate: 0 });
    const result = evaluateGate({ agreement: { min: 0.5, bound: 'lower' }, errorRate: { max: 0.1 }, overrideRate: { max: 0.2 } }, m);
    expect(result.checks.map((c) => [c.name, c.status])).toEqual([
      ['agreement', 'pass'],
      ['errorRate', 'pass'],
      ['overrideRate', 'inconclusive'],
    ]);
    expect(result.verdict).toBe('inconclusive');
  });

  it('regressions cannot be judged without a baseline: inconclusive', () => {
    expect(evaluateGate({ regressions: { max: 0 } }, metrics())).toEqual({
      verdict: 'inconclusive',
      checks: [
        {
          name: 'regressions',
          value: null,
          threshold: 0,
          status: 'inconclusive',
          reason: 'no baseline: pass --baseline <runId | results.json> to count regressions',
        },
      ],
    });
  });

  it('judges regressions against a baseline: more than max and significant fails', () => {
    const paired = { baselineRunId: 'b', regressions: ['a', 'b', 'c', 'd', 'e', 'f'], fixes: [], mcnemarMidP: 0.0078, pairs: 100, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
    const result = evaluateGate({ regressions: { max: 2 } }, metrics({ paired }));
    expect(result.verdict).toBe('fail');
    expect(result.checks[0]).toMatchObject({ name: 'regressions', value: 6, threshold: 2, status: 'fail' });
  });

  it('is inconclusive on regressions when no trace was decided on both sides', () => {
    const paired = { baselineRunId: 'b', regressions: [], fixes: [], mcnemarMidP: null, pairs: 0, lost: [], undecided: 0, unpaired: { baseline: 40, candidate: 40 } };
    expect(evaluateGate({ regressions: { max: 0 } }, metrics({ paired })).checks[0]).toMatchObject({
      status: 'inconclusive',
      reason: 'no trace was decided in both this run and the baseline b',
    });
  });

  it('passes regressions within max with beyondNoise, even without a noise floor', () => {
    const paired = { baselineRunId: 'b', regressions: [], fixes: ['x'], mcnemarMidP: 1, pairs: 10, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
    expect(evaluateGate({ regressions: { max: 0, beyondNoise: true } }, metrics({ paired })).verdict).toBe('pass');
  });

  it('gates the phase figures, and is inconclusive on a phase the suite is not in', () => {
    const sample = { sampled: 50, sampleErrorRate: rateMetric(2, 50), populationErrorEstimate: { rate: 0.04, ci95: [0.01, 0.13] as [number, number] }, rollbackFrequency: rateMetric(3, 100) };
    const withSample = metrics({ phase: { autoWithReview: sample } });
    // 2/50: Wilson upper bound 0.135 > 0.10 fails; the point estimate 0.04 passes
    expect(evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'upper' } }, withSample).checks[0]!.status).toBe('fail');
    expect(evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'point' } }, withSample).checks[0]!.status).toBe('pass');
    expect(evaluateGate({ rollbackFrequency: { max: 0.02 } }, withSample).checks[0]).toMatchObject({ value: 0.03, status: 'fail' });
    expect(evaluateGate({ slaAdherence: { min: 0.9 } }, withSample).checks[0]).toMatchObject({ status: 'inconclusive', reason: 'the suite is not in the auto phase' });
  });
});
