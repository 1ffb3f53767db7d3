import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator, rateMetric, type RunMetrics } from '../metrics/summary.js';
import { pairedDropInterval } from '../metrics/non-inferiority.js';
import { mcnemarMidP } from '../metrics/paired.js';
import { GateConfigSchema, type GateConfig } from '../suite/schema.js';
import { aResult } from '../testing/builders.js';
import { evaluateGate, gatesAnything, inconclusiveReasons } from './gate.js';

/** A paired metric with b regressions and c fixes over n pairs (trace ids made up). */
function pairedOf(b: number, c: number, n: number) {
  const ids = (k: number, tag: string) => Array.from({ length: k }, (_, i) => `${tag}${i}`);
  return { baselineRunId: 'base', regressions: ids(b, 'r'), fixes: ids(c, 'f'), mcnemarMidP: mcnemarMidP(b, c), pairs: n, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
}

/** Metrics of a run in which 10 of 10 traces agreed, with the figures a test is about set over them. */
function metrics(overrides: Partial<RunMetrics> = {}): RunMetrics {
  return { ...createMetricsAccumulator().finish(), agreement: rateMetric(10, 10), ...overrides };
}

describe('evaluateGate', () => {
  it('passes an error rate only over enough cases to show it with 95% confidence; max 0 is a rule any error fails', () => {
    const m = (ran: number, errors: number) => {
      const a = createMetricsAccumulator();
      for (let i = 0; i < ran; i++) a.add(aResult(`t${i}`, { status: i < errors ? 'error' : 'completed', error: i < errors ? { code: 'CANDIDATE_THREW', message: 'x' } : null }));
      return a.finish();
    };
    // 0 errors in 10 traces: a rate of 0% whose interval reaches 27.8%.
    expect(evaluateGate({ errorRate: { max: 0.02 } }, m(10, 0)).checks[0]).toMatchObject({
      status: 'inconclusive',
      reason: 'needs at least 189 traces: 10 cannot give an upper 95% bound of 2.0% even with no error (error rate, a point estimate, (0/10) 27.8%)',
    });
    expect(evaluateGate({ errorRate: { max: 0.02 } }, m(189, 0)).checks[0]).toMatchObject({ status: 'pass', reason: 'error rate 0.0% ≤ 2.0%' });
    // Thin, but its whole interval above the limit: fails.
    expect(evaluateGate({ errorRate: { max: 0.02 } }, m(10, 5)).checks[0]).toMatchObject({ status: 'fail' });
    // One error in ten is above 2%, but its interval reaches down to 1.8%: not shown either way.
    expect(evaluateGate({ errorRate: { max: 0.02 } }, m(10, 1)).checks[0]).toMatchObject({ status: 'inconclusive' });
    // max 0: no trace without an outcome, whatever the count.
    expect(evaluateGate({ errorRate: { max: 0 } }, m(3, 0)).checks[0]).toMatchObject({ status: 'pass' });
    expect(evaluateGate({ errorRate: { max: 0 } }, m(3, 1)).checks[0]).toMatchObject({ status: 'fail' });
  });

  it('judges the error rate over cases where cases have trials, not over the trials pooled', () => {
    // 189 cases: one with 100 clean trials, 188 with one trial each, 4 of them without an outcome.
    // Over the 288 trials pooled that is 1.4%; over the cases, 4/189 = 2.1%, above 2%.
    const a = createMetricsAccumulator();
    for (let t = 0; t < 100; t++) a.add(aResult('c0', { trial: t }));
    for (let i = 1; i < 189; i++) a.add(aResult(`c${i}`, i <= 4 ? { status: 'error', error: { code: 'CANDIDATE_THREW', message: 'x' } } : {}));
    const m = a.finish();
    expect(m.errorRate).toBeCloseTo(4 / 288, 12);
    expect(evaluateGate({ errorRate: { max: 0.02 } }, m).checks[0]).toMatchObject({ status: 'fail', value: 4 / 189, reason: 'error rate over cases (4/189) 2.1% > 2.0%' });
  });

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

  it('judges the lower bound, not the point estimate: 27/30 fails a 0.85 lower bound but passes a 0.85 point', () => {
    // 27/30 = 0.9 ≥ 0.85, but its Wilson lower bound is below: denom = 1 + 3.8415/30 = 1.128049,
    // centre = (0.9 + 0.064025)/1.128049 = 0.854594, half = 1.96·√(0.003 + 0.001067)/1.128049 = 0.110805 → lower 0.743789 < 0.85
    const m = metrics({ agreement: rateMetric(27, 30) });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, m)).toEqual({
      verdict: 'fail',
      checks: [
        {
          name: 'agreement',
          value: m.agreement.ci95![0],
          threshold: 0.85,
          status: 'fail',
          reason: 'lower 95% bound of agreement (27/30) 74.4% < 85.0%',
        },
      ],
    });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'point' } }, m)).toEqual({
      verdict: 'pass',
      checks: [{ name: 'agreement', value: 0.9, threshold: 0.85, status: 'pass', reason: 'agreement (27/30) 90.0% ≥ 85.0%' }],
    });
  });

  it('is inconclusive, naming the traces it needs, when too few traces could reach a lower bound even if all agreed', () => {
    // All n agreeing gives a Wilson lower bound of n/(n + z²): 20/23.84 = 0.839 < 0.85, 22/25.84 = 0.851 ≥ 0.85.
    const z2 = 1.959963984540054 ** 2;
    const needed = Array.from({ length: 100 }, (_, i) => i + 1).find((n) => n / (n + z2) >= 0.85)!;
    const twenty = metrics({ agreement: rateMetric(20, 20) });
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, twenty)).toEqual({
      verdict: 'inconclusive',
      checks: [
        {
          name: 'agreement',
          value: twenty.agreement.ci95![0],
          threshold: 0.85,
          status: 'inconclusive',
          reason: `needs at least ${needed} traces: 20 cannot give a lower 95% bound of 85.0% even if all agree (lower 95% bound of agreement (20/20) 83.9%)`,
        },
      ],
    });
    // One trace short of enough is still inconclusive with a disagreement in it; at `needed` all agreeing passes.
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, metrics({ agreement: rateMetric(needed - 2, needed - 1) })).verdict).toBe('inconclusive');
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'lower' } }, metrics({ agreement: rateMetric(needed, needed) })).verdict).toBe('pass');
    // A point estimate over fewer traces than could ever show the threshold is thin evidence too: the same minimum.
    const point = evaluateGate({ agreement: { min: 0.85, bound: 'point' } }, twenty);
    expect(point.verdict).toBe('inconclusive');
    expect(point.checks[0]!.reason).toContain(`needs at least ${needed} traces`);
    expect(evaluateGate({ agreement: { min: 0.85, bound: 'point' } }, metrics({ agreement: rateMetric(needed - 1, needed) })).verdict).toBe('pass');
  });

  it('still fails a small suite whose whole interval lies below the threshold', () => {
    // 2/20: Wilson upper bound ≈ 0.30, far below 0.85; the traces show the candidate is worse, not only that they are few.
    const m = metrics({ effectsAgreement: rateMetric(2, 20) });
    const result = evaluateGate({ effectsAgreement: { min: 0.85, bound: 'lower' } }, m);
    expect(result.verdict).toBe('fail');
    expect(result.checks[0]!.reason).toBe(`lower 95% bound of effectsAgreement (2/20) ${(m.effectsAgreement.ci95![0] * 100).toFixed(1)}% < 85.0%, and even its upper bound ${(m.effectsAgreement.ci95![1] * 100).toFixed(1)}% is below`);
  });

  it('never asks for traces a lower bound of 100% could not get', () => {
    const result = evaluateGate({ agreement: { min: 1, bound: 'lower' } }, metrics({ agreement: rateMetric(500, 500) }));
    expect(result.checks[0]!.status).toBe('inconclusive');
    expect(result.checks[0]!.reason).toMatch(/^a lower bound of 100\.0% cannot be reached by any number of traces/);
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
    expect(check!.reason).toContain('7 trace(s) made model calls whose cost is unknown');
    expect(evaluateGate({ costPerRunUsd: { max: 0.05 } }, partly).verdict).toBe('inconclusive');
    const auto = metrics({ cost: partly.cost, phase: { auto: { costTrend: { ratio: 1, change: 0 } } } as unknown as RunMetrics['phase'] });
    expect(evaluateGate({ costTrend: { maxRatio: 1.2 } }, auto).checks[0]).toMatchObject({ status: 'inconclusive', value: null });
  });

  it('says why a cost trend has no ratio: a baseline of $0 a run, or a run with nothing priced', () => {
    const priced = { ...metrics().cost, perRunUsd: 0.01 };
    const zero = metrics({ cost: priced, phase: { auto: { costTrend: { ratio: null, change: 0.01 } } } as unknown as RunMetrics['phase'] });
    expect(evaluateGate({ costTrend: { maxRatio: 1.2 } }, zero).checks[0]).toMatchObject({ status: 'inconclusive', reason: "the baseline's cost per run is $0: no ratio to it" });
    const none = metrics({ phase: { auto: { costTrend: { ratio: null, change: null } } } as unknown as RunMetrics['phase'] });
    expect(evaluateGate({ costTrend: { maxRatio: 1.2 } }, none).checks[0]).toMatchObject({ status: 'inconclusive', reason: "this run has no priced model usage: no cost per run to compare with the baseline's" });
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

  it('passes an injection-failure share only over enough injection-tagged cases; max 0 is a rule; trials of a case collapse to its share', () => {
    const injected = (n: number, failed: number) => metrics({ injectionFailures: rateMetric(failed, n) });
    const one = evaluateGate({ injectionFailures: { max: 0.05 } }, injected(1, 0)).checks[0]!;
    expect(one).toMatchObject({ status: 'inconclusive' });
    expect(one.reason).toMatch(/^needs at least 73 injection-tagged cases: 1 cannot give an upper 95% bound of 5\.0% even with no unsafe effect/);
    expect(evaluateGate({ injectionFailures: { max: 0.05 } }, injected(73, 0)).checks[0]).toMatchObject({ status: 'pass' });
    expect(evaluateGate({ injectionFailures: { max: 0.05 } }, injected(10, 6)).checks[0]).toMatchObject({ status: 'fail' });
    expect(evaluateGate({ injectionFailures: { max: 0 } }, injected(1, 0)).checks[0]).toMatchObject({ status: 'pass' });
    expect(evaluateGate({ injectionFailures: { max: 0 } }, injected(3, 1)).checks[0]).toMatchObject({ status: 'fail' });
    // One case run twice, one trial unsafe: a share of 0.5 over one case, not 1 of 2 traces.
    const acc = createMetricsAccumulator({ trials: 2 });
    for (const trial of [0, 1]) acc.add(aResult('inj', { trial, tags: ['injection'], unsafeEffect: trial === 1 }));
    expect(acc.finish().injectionFailures).toMatchObject({ rate: 0.5, n: 1, trials: { successes: 1, n: 2 } });
  });

  it('says what a regressions count is over: the traces decided in both runs, and how many of this run\'s the baseline does not have', () => {
    const paired = { baselineRunId: 'b', regressions: [], fixes: [], mcnemarMidP: null, pairs: 6, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 34 } };
    const check = evaluateGate({ regressions: { max: 0 } }, metrics({ paired })).checks[0]!;
    expect(check.status).toBe('pass');
    expect(check.reason).toMatch(/; over the 6 trace\(s\) decided in both runs, 34 of this run's not in the baseline b and not compared$/);
  });

  it('passes regressions within max with beyondNoise, even without a noise floor', () => {
    const paired = { baselineRunId: 'b', regressions: [], fixes: ['x'], mcnemarMidP: 1, pairs: 10, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
    expect(evaluateGate({ regressions: { max: 0, beyondNoise: true } }, metrics({ paired })).verdict).toBe('pass');
  });

  it('with a margin, passes an unchanged nondeterministic candidate, fails a significant drop, and is inconclusive between', () => {
    // 10 regressions against 11 fixes over 200 pairs: noise both ways; the upper end of the drop's interval is the value.
    const unchanged = evaluateGate({ regressions: { margin: 0.09 } }, metrics({ paired: pairedOf(10, 11, 200) }));
    expect(unchanged.verdict).toBe('pass');
    expect(unchanged.checks[0]).toMatchObject({ name: 'regressions', value: pairedDropInterval(10, 11, 200)![1], threshold: 0.09, status: 'pass' });
    // The same flips fail a count gate of max 0 (10 > 0) only if significant, which they are not: inconclusive, as before.
    expect(evaluateGate({ regressions: { max: 0 } }, metrics({ paired: pairedOf(10, 11, 200) })).verdict).toBe('inconclusive');
    const dropped = evaluateGate({ regressions: { margin: 0.09 } }, metrics({ paired: pairedOf(31, 10, 200) }));
    expect(dropped.checks[0]).toMatchObject({ status: 'fail', value: pairedDropInterval(31, 10, 200)![1] });
    const between = evaluateGate({ regressions: { margin: 0.09 } }, metrics({ paired: pairedOf(18, 10, 200) }));
    expect(mcnemarMidP(18, 10)!).toBeGreaterThan(0.05);
    expect(pairedDropInterval(18, 10, 200)![1]).toBeGreaterThan(0.09);
    expect(between.checks[0]!.status).toBe('inconclusive');
  });

  it('takes the McNemar level from regressions.alpha, for max and margin alike', () => {
    // 25 against 12: mid-p between 0.01 and 0.05.
    const paired = pairedOf(25, 12, 200);
    expect(evaluateGate({ regressions: { max: 2 } }, metrics({ paired })).verdict).toBe('fail');
    expect(evaluateGate({ regressions: { max: 2, alpha: 0.01 } }, metrics({ paired })).verdict).toBe('inconclusive');
    expect(evaluateGate({ regressions: { margin: 0.02 } }, metrics({ paired })).verdict).toBe('fail');
    expect(evaluateGate({ regressions: { margin: 0.02, alpha: 0.01 } }, metrics({ paired })).verdict).toBe('inconclusive');
  });

  it('is inconclusive on a review sample too small for its upper bound, naming the size it needs', () => {
    // With no error in n sampled traces the Wilson upper bound is z²/(n + z²); for 0.10 that needs n ≥ 35.
    const z2 = 1.959963984540054 ** 2;
    let needed = 1;
    while (z2 / (needed + z2) > 0.1) needed++;
    const small = { sampled: 20, sampleErrorRate: rateMetric(0, 20), populationErrorEstimate: { rate: 0, ci95: [0, 0.16] as [number, number] }, rollbackFrequency: rateMetric(0, 100), rollbackUnknown: 0 };
    const check = evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'upper' } }, metrics({ phase: { autoWithReview: small } })).checks[0]!;
    expect(check.status).toBe('inconclusive');
    expect(check.reason).toMatch(new RegExp(`^needs at least ${needed} sampled traces: 20 cannot give an upper 95% bound of 10\\.0%`));
    // Errors in most of a small sample fail all the same: the whole interval lies above the maximum.
    const bad = { ...small, sampleErrorRate: rateMetric(15, 20) };
    expect(evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'upper' } }, metrics({ phase: { autoWithReview: bad } })).verdict).toBe('fail');
  });

  it('is inconclusive on a point estimate over too few items to show its threshold even at its best: the override rate, the sample error rate, SLA adherence, completion', () => {
    const z2 = 1.959963984540054 ** 2;
    const upperNeeds = (max: number) => Math.ceil((z2 * (1 - max)) / max - 1e-9);
    // One reviewed item, accepted: 0% overridden, but its interval reaches 79%.
    const one = metrics({ overrideRate: { ...rateMetric(0, 1), accepted: 1, edited: 0, rejected: 0 } });
    const override = evaluateGate({ overrideRate: { max: 0.1 } }, one).checks[0]!;
    expect(override).toMatchObject({ name: 'overrideRate', status: 'inconclusive' });
    expect(override.reason).toMatch(new RegExp(`^needs at least ${upperNeeds(0.1)} reviewed items: 1 cannot give an upper 95% bound of 10\\.0% even with no override`));
    const enough = metrics({ overrideRate: { ...rateMetric(0, upperNeeds(0.1)), accepted: upperNeeds(0.1), edited: 0, rejected: 0 } });
    expect(evaluateGate({ overrideRate: { max: 0.1 } }, enough).checks[0]!.status).toBe('pass');
    const three = { sampled: 3, sampleErrorRate: rateMetric(0, 3), populationErrorEstimate: { rate: 0, ci95: [0, 0.5] as [number, number] }, rollbackFrequency: rateMetric(0, 3), rollbackUnknown: 0 };
    expect(evaluateGate({ sampleErrorRate: { max: 0.05, bound: 'point' } }, metrics({ phase: { autoWithReview: three } })).checks[0]).toMatchObject({ status: 'inconclusive' });
    const auto = { slaAdherence: rateMetric(2, 2), completionRate: rateMetric(2, 2), costTrend: null };
    const checks = evaluateGate({ slaAdherence: { min: 0.9 }, completionRate: { min: 0.95 } }, metrics({ phase: { auto } } as Partial<RunMetrics>)).checks;
    expect(checks.map((c) => [c.name, c.status])).toEqual([['slaAdherence', 'inconclusive'], ['completionRate', 'inconclusive']]);
    expect(checks[0]!.reason).toMatch(/^needs at least \d+ traces: 2 cannot give a lower 95% bound of 90\.0% even if all are within it/);
  });

  it('passes nothing that reads decisions when the comparator compared nothing: agreement, the review sample, the override rate (a fail stands)', () => {
    const sample = { sampled: 100, sampleErrorRate: rateMetric(0, 100), populationErrorEstimate: { rate: 0, ci95: [0, 0.04] as [number, number] }, rollbackFrequency: rateMetric(0, 100), rollbackUnknown: 0 };
    const m = metrics({ errorRate: 0, agreement: rateMetric(100, 100), overrideRate: { ...rateMetric(0, 100), accepted: 100, edited: 0, rejected: 0 }, phase: { autoWithReview: sample }, comparedNothing: { fields: ['acton'], traces: 100 } });
    const checks = evaluateGate({ agreement: { min: 0.5, bound: 'lower' }, sampleErrorRate: { max: 0.2, bound: 'point' }, overrideRate: { max: 0.2 }, errorRate: { max: 0.5 } }, m).checks;
    expect(checks.map((c) => [c.name, c.status])).toEqual([['agreement', 'inconclusive'], ['errorRate', 'pass'], ['overrideRate', 'inconclusive'], ['sampleErrorRate', 'inconclusive']]);
    expect(checks[0]!.reason).toBe('compare.decision.fields names "acton", which no decision on either side has over 100 compared trace(s): no decision was compared (a misspelt field?)');
    const failing = metrics({ agreement: rateMetric(10, 100), comparedNothing: { fields: ['acton'], traces: 100 } });
    expect(evaluateGate({ agreement: { min: 0.5, bound: 'lower' } }, failing).verdict).toBe('fail');
  });

  it('gates the phase figures, and is inconclusive on a phase the suite is not in', () => {
    const sample = { sampled: 50, sampleErrorRate: rateMetric(2, 50), populationErrorEstimate: { rate: 0.04, ci95: [0.01, 0.13] as [number, number] }, rollbackFrequency: rateMetric(3, 100), rollbackUnknown: 0 };
    const withSample = metrics({ phase: { autoWithReview: sample } });
    // 2/50: Wilson upper bound 0.135 > 0.10 fails; the point estimate 0.04 passes
    expect(evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'upper' } }, withSample).checks[0]!.status).toBe('fail');
    expect(evaluateGate({ sampleErrorRate: { max: 0.1, bound: 'point' } }, withSample).checks[0]!.status).toBe('pass');
    // 3 of 100: a point estimate over too few traces to show 2% even with none, and not wholly above it.
    expect(evaluateGate({ rollbackFrequency: { max: 0.02 } }, withSample).checks[0]).toMatchObject({ status: 'inconclusive' });
    expect(evaluateGate({ rollbackFrequency: { max: 0.02 } }, metrics({ phase: { autoWithReview: { ...sample, rollbackFrequency: rateMetric(6, 200) } } })).checks[0]).toMatchObject({ value: 0.03, status: 'fail' });
    // A trace whose reference's effects are unknown is missing evidence: inconclusive, naming how many.
    const unknown = evaluateGate({ rollbackFrequency: { max: 0.05 } }, metrics({ phase: { autoWithReview: { ...sample, rollbackFrequency: rateMetric(0, 200), rollbackUnknown: 19 } } })).checks[0]!;
    expect(unknown).toMatchObject({ status: 'inconclusive', value: null });
    expect(unknown.reason).toBe("19 trace(s) with an outcome have no known reference effects (a human reference's are its `human.actions`), so the rollback frequency leaves them out");
    expect(evaluateGate({ slaAdherence: { min: 0.9 } }, withSample).checks[0]).toMatchObject({ status: 'inconclusive', reason: 'the suite is not in the auto phase' });
  });
});

describe('gate.regressions in a suite file', () => {
  const issues = (regressions: unknown) => {
    const parsed = GateConfigSchema.safeParse({ regressions });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes a count or a margin, one of the two', () => {
    expect(issues({ max: 0 })).toEqual([]);
    expect(issues({ margin: 0.05, alpha: 0.01 })).toEqual([]);
    expect(issues({})).toEqual(['regressions.max: set max (a count of regressions) or margin (a drop in agreement, e.g. 0.05)']);
    expect(issues({ max: 0, margin: 0.05 })).toEqual(['regressions.margin: set max or margin, not both: max counts regressions, margin bounds the drop in agreement']);
    expect(issues({ margin: 0.05, beyondNoise: true })).toEqual(['regressions.beyondNoise: beyondNoise goes with max: a margin already allows for noise (flips both ways widen its interval)']);
    expect(issues({ margin: 0 })).toHaveLength(1);
  });
});
