import { describe, expect, it } from 'vitest';
import { aResult, aTrace } from '../testing/builders.js';
import type { Trace } from '../trace/schema.js';
import { createDriftAnalysis } from './analysis.js';
import { createWindowAccumulator } from './accumulator.js';
import { compareWindows } from './compare.js';
import { DEFAULT_DRIFT_CONFIG, DriftConfigSchema } from './config.js';
import { observeResult, observeTrace, traceTime, type DriftObservation } from './observation.js';
import { sparkline } from '../report/drift.js';
import { sparkView } from '../report/drift-html.js';
import { judgeDrift } from './thresholds.js';
import { parseAgainst, parseDuration, planWindows, windowIndex } from './windows.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

function obs(at: number, o: Partial<DriftObservation> = {}): DriftObservation {
  return { at, end: 'completed', agree: true, verdict: null, costUsd: null, costUnknown: false, latencyMs: null, tools: [], ...o };
}

describe('windows', () => {
  it('parses lengths in hours, days and weeks, and rejects anything else', () => {
    expect([parseDuration('12h'), parseDuration('7d'), parseDuration('2w')]).toEqual([12 * 3_600_000, 7 * DAY, 14 * DAY]);
    for (const bad of ['7', '7m', '-1d', '0d', 'week']) expect(() => parseDuration(bad), bad).toThrow(/not a window length/);
  });

  it('plans consecutive windows ending at `until`, and places an instant on a boundary in the earlier one', () => {
    const windows = planWindows(T0, DAY, 3);
    expect(windows).toEqual([
      { start: T0 - 3 * DAY, end: T0 - 2 * DAY },
      { start: T0 - 2 * DAY, end: T0 - DAY },
      { start: T0 - DAY, end: T0 },
    ]);
    expect(windowIndex(windows, T0)).toBe(2);
    expect(windowIndex(windows, T0 - DAY)).toBe(1);
    expect(windowIndex(windows, T0 - DAY + 1)).toBe(2);
    expect(windowIndex(windows, T0 - 3 * DAY + 1)).toBe(0);
    expect(windowIndex(windows, T0 - 3 * DAY)).toBe(-1);
    expect(windowIndex(windows, T0 + 1)).toBe(-1);
  });

  it('parses --against as previous or a range of dates', () => {
    expect(parseAgainst('previous')).toEqual({ kind: 'previous' });
    expect(parseAgainst('2026-10-01..2026-10-08')).toEqual({ kind: 'range', window: { start: Date.parse('2026-10-01T00:00:00Z'), end: Date.parse('2026-10-08T00:00:00Z') } });
    expect(() => parseAgainst('2026-10-08..2026-10-01')).toThrow(/ends before it starts/);
    expect(() => parseAgainst('last week')).toThrow(/previous/);
  });
});

describe('observations', () => {
  it('reads agreement, review, outcome, cost and latency from a production trace', () => {
    const trace = {
      ...aTrace('t1')
        .withModelStep([{ name: 'get_order', args: {} }], { inputTokens: 1_000_000, outputTokens: 0 })
        .withToolCall('get_order', { id: 1 })
        .withToolCall('issue_refund', { id: 1 })
        .withOutcome('completed', { action: 'refund', amount: 10 })
        .withHumanDecision({ action: 'refund', amount: 10.004 })
        .build(),
      recordedAt: '2026-11-01T10:00:00Z',
    };
    trace.human!.verdict = 'edited';
    trace.steps[1]!.latencyMs = 40;
    const o = observeTrace(trace, { compare: { numericTolerance: 0.01 }, pricing: {} });
    expect(o).toEqual({ at: Date.parse('2026-11-01T10:00:00Z'), end: 'completed', agree: true, verdict: 'edited', costUsd: 0.4, costUnknown: false, latencyMs: 40, tools: ['get_order', 'issue_refund'] });
    expect(observeTrace(trace, { compare: { numericTolerance: 0 }, pricing: {} })!.agree).toBe(false);
    // Absent data stays absent: no human decision, no outcome, an unpriced model, no latency.
    const bare = { ...aTrace('t2').withModelStep([], { inputTokens: 10, outputTokens: 1 }, 'my-model').build(), recordedAt: '2026-11-01T10:00:00Z' };
    expect(observeTrace(bare, { compare: { numericTolerance: 0 }, pricing: {} })).toMatchObject({ end: null, agree: null, verdict: null, costUsd: null, latencyMs: null });
    expect(observeTrace(aTrace('t3').build(), { compare: { numericTolerance: 0 }, pricing: {} })).toBeNull();
  });

  it('counts a failed or aborted production run as an error, and a replay error (not its decided failure) as one', () => {
    const failed = { ...aTrace().withOutcome('aborted').build(), recordedAt: '2026-11-01T00:00:00Z' };
    expect(observeTrace(failed, { compare: { numericTolerance: 0 }, pricing: {} })!.end).toBe('error');
    expect(observeResult(aResult('r', { status: 'diverged', agree: null }), 5, null)!.end).toBe('error');
    expect(observeResult(aResult('r', { status: 'failed' }), 5, null)!.end).toBe('other');
    expect(observeResult(aResult('r', { status: 'unpaired' }), 5, null)).toBeNull();
    expect(observeResult(aResult('r', { status: 'error', latencyMs: 900 }), 5, 'rejected')).toMatchObject({ at: 5, latencyMs: null, verdict: 'rejected' });
  });
});

describe('window figures', () => {
  it('folds rates over the runs that carry each figure, and leaves absent ones null', () => {
    const acc = createWindowAccumulator();
    acc.add(obs(1, { agree: true, verdict: 'accepted', end: 'completed', costUsd: 0.02, latencyMs: 100, tools: ['a', 'b'] }));
    acc.add(obs(2, { agree: false, verdict: 'rejected', end: 'escalated', costUsd: 0.04, latencyMs: 300, tools: ['a'] }));
    acc.add(obs(3, { agree: null, verdict: null, end: 'error', costUsd: null, latencyMs: null, tools: [] }));
    const f = acc.finish();
    expect(f.traces).toBe(3);
    expect([f.agreement.rate, f.agreement.n]).toEqual([0.5, 2]);
    expect([f.overrideRate.rate, f.overrideRate.n]).toEqual([0.5, 2]);
    expect([f.escalationRate.rate, f.errorRate.rate]).toEqual([1 / 3, 1 / 3]);
    expect(f.costPerCompletedUsd).toBeCloseTo(0.03);
    expect(f.unpriced).toBe(1);
    expect(f.tools).toEqual({ a: 2, b: 1 });
    expect(f.p95LatencyMs).toBeCloseTo(290);
    const empty = createWindowAccumulator().finish();
    expect([empty.agreement.rate, empty.overrideRate.rate, empty.costPerCompletedUsd, empty.p95LatencyMs]).toEqual([null, null, null, null]);
  });

  it('has no cost where a run made model calls of unknown cost: they would count as $0', () => {
    const acc = createWindowAccumulator();
    acc.add(obs(1, { costUsd: 0.02 }));
    acc.add(obs(2, { costUsd: null, costUnknown: true }));
    expect(acc.finish()).toMatchObject({ costPerCompletedUsd: null, totalCostUsd: null, unpriced: 1, costUnknown: 1 });
    // A trace's model step without usage or recorded cost is one of them; a trace without model steps is not.
    const step = { type: 'llm', model: 'gpt-4.1', output: 'x' } as const;
    const trace = (steps: unknown[]) => ({ schema: 'shadowgate.trace/v1', id: 't', workflow: 'w', recordedAt: '2026-11-01T00:00:00Z', input: {}, steps }) as unknown as Trace;
    const options = { compare: { numericTolerance: 0 }, pricing: {} };
    expect(observeTrace(trace([step]), options)).toMatchObject({ costUsd: null, costUnknown: true });
    expect(observeTrace(trace([{ ...step, usage: { inputTokens: 1000, outputTokens: 0 } }]), options)!.costUnknown).toBe(false);
    expect(observeTrace(trace([]), options)).toMatchObject({ costUsd: null, costUnknown: false });
  });
});

describe('comparing windows', () => {
  const windowOf = (runs: number, tools: Record<string, number>) => {
    const acc = createWindowAccumulator();
    for (let i = 0; i < runs; i++) {
      const names = Object.entries(tools).flatMap(([name, perRun]) => Array.from({ length: Math.round(perRun * (i + 1)) - Math.round(perRun * i) }, () => name));
      acc.add(obs(i, { tools: names }));
    }
    return acc.finish();
  };

  it('gives per-tool ratios per run, so that a busier window is not a shift', () => {
    const before = windowOf(100, { get_order: 1, issue_refund: 0.2 });
    const busier = windowOf(300, { get_order: 1, issue_refund: 0.2 });
    const c = compareWindows(busier, before);
    expect(c.perTool.issue_refund!.ratio).toBeCloseTo(1);
    expect(c.jsd).toBeCloseTo(0);
    const shifted = compareWindows(windowOf(100, { get_order: 1, issue_refund: 0.6 }), before);
    expect(shifted.perTool.issue_refund!.ratio).toBeCloseTo(3);
    expect(shifted.jsd!).toBeGreaterThan(0.02);
    expect(shifted.newTools).toEqual([]);
    const grown = compareWindows(windowOf(10, { get_order: 1, escalate: 1 }), windowOf(10, { get_order: 1, issue_refund: 1 }));
    expect([grown.newTools, grown.missingTools, grown.perTool.escalate!.ratio]).toEqual([['escalate'], ['issue_refund'], null]);
  });

  it('sorts observations into windows in any order, against the previous window or a fixed range', () => {
    const windows = planWindows(T0, DAY, 2);
    const previous = createDriftAnalysis(windows, { kind: 'previous' });
    for (const at of [T0, T0 - DAY - 5, T0 - 10, T0 - 3 * DAY, T0 + 1]) previous.add(obs(at, { tools: ['a'] }));
    const result = previous.finish();
    expect(result.windows.map((w) => w.figures.traces)).toEqual([1, 2]);
    expect(result.windows[0]!.comparison).toBeNull();
    expect(result.windows[1]!.comparison!.perTool.a!.ratio).toBe(1);
    expect([result.outside, result.reference]).toEqual([2, null]);
    const ranged = createDriftAnalysis(windows, { kind: 'range', window: { start: T0 - 10 * DAY, end: T0 - 5 * DAY } });
    ranged.add(obs(T0 - 6 * DAY));
    ranged.add(obs(T0 - 1));
    const r = ranged.finish();
    expect([r.reference!.figures.traces, r.outside, r.windows[0]!.comparison!.agreementChange]).toEqual([1, 0, null]);
  });

  it('reads the window before a single window as its reference, so that it is still compared', () => {
    const single = createDriftAnalysis(planWindows(T0, DAY, 1), { kind: 'previous' });
    expect([single.covers(T0 - DAY - 1), single.covers(T0 - 2 * DAY - 1)]).toEqual([true, false]);
    single.add(obs(T0 - 1, { tools: ['a', 'a'] }));
    single.add(obs(T0 - DAY - 1, { tools: ['a'] }));
    single.add(obs(T0 - 2 * DAY - 1, { tools: ['a'] }));
    const r = single.finish();
    expect([r.against, r.windows.length, r.reference!.figures.traces, r.outside]).toEqual(['previous', 1, 1, 1]);
    expect(r.reference!.end).toBe(r.windows[0]!.start);
    expect(r.windows[0]!.comparison!.perTool.a!.ratio).toBe(2);
  });
});

describe('thresholds', () => {
  const analysed = (shift: number, agreeLatest: number) => {
    const a = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
    for (let i = 0; i < 100; i++) {
      a.add(obs(T0 - DAY - 1 - i, { agree: i < 90, tools: ['get_order', ...(i % 5 === 0 ? ['issue_refund'] : [])] }));
      a.add(obs(T0 - i, { agree: i < agreeLatest, tools: ['get_order', ...(i % 5 < shift ? ['issue_refund'] : [])] }));
    }
    return a.finish().windows;
  };
  const thresholds = DriftConfigSchema.parse({ thresholds: { maxJsd: 0.02, toolRatio: { max: 2, minCalls: 10 }, agreement: { maxDrop: 0.05 }, overrideRate: { max: 0.2 } } }).thresholds;

  it('passes when nothing moved and every threshold has its figure', () => {
    const [ref, latest] = analysed(1, 90);
    const { overrideRate: _o, ...measured } = thresholds;
    const j = judgeDrift(latest, ref!.figures, measured, 30);
    expect(j.verdict).toBe('pass');
    expect(j.checks.map((c) => [c.name, c.status])).toEqual([['maxJsd', 'pass'], ['toolRatio.max', 'pass'], ['agreement.maxDrop', 'pass']]);
  });

  it('is inconclusive, never pass, when a threshold has no data in the window (the source lacks the figure)', () => {
    const [ref, latest] = analysed(1, 90);
    const j = judgeDrift(latest, ref!.figures, thresholds, 30);
    expect(j.checks.map((c) => [c.name, c.status])).toEqual([['maxJsd', 'pass'], ['toolRatio.max', 'pass'], ['agreement.maxDrop', 'pass'], ['overrideRate.max', 'inconclusive']]);
    expect(j.verdict).toBe('inconclusive');
    expect(j.reason).toBe('no data, or too few runs, for overrideRate.max (see each threshold\'s reason)');
    expect(j.checks[3]!.reason).toBe('no override rate in the window or its reference');
  });

  it('is inconclusive on cost where runs made model calls of unknown cost, saying how many and where', () => {
    const a = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
    for (let i = 0; i < 40; i++) {
      a.add(obs(T0 - DAY - 1 - i, { costUsd: 0.01 }));
      a.add(obs(T0 - i, i < 30 ? { costUsd: 0.01 } : { costUsd: null, costUnknown: true }));
    }
    const [ref, latest] = a.finish().windows;
    const cost = DriftConfigSchema.parse({ thresholds: { costPerCompletedUsd: { maxRatio: 1.25 } } }).thresholds;
    const j = judgeDrift(latest, ref!.figures, cost, 30);
    expect(j.verdict).toBe('inconclusive');
    expect(j.checks[0]!.reason).toBe('run(s) made model calls whose cost is unknown (no token usage recorded, or a model with no price under `pricing:`): 10 in the latest window; the cost would leave them out');
  });

  it('fails on a crossed threshold even where another has no data', () => {
    const [ref, latest] = analysed(3, 80);
    expect(judgeDrift(latest, ref!.figures, thresholds, 30).verdict).toBe('fail');
  });

  it('fails with the names of the thresholds crossed', () => {
    const [ref, latest] = analysed(3, 80);
    const j = judgeDrift(latest, ref!.figures, thresholds, 30);
    expect(j.verdict).toBe('fail');
    expect(j.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['maxJsd', 'toolRatio.max', 'agreement.maxDrop']);
    expect(j.reason).toBe('crossed: maxJsd, toolRatio.max, agreement.maxDrop');
    expect(j.checks[1]!.reason).toBe('issue_refund called 3.00× as often per run (limit 2.00× either way)');
  });

  it('words a change by the way it went: a negative drop is a rise', () => {
    const [ref, latest] = analysed(1, 95);
    const j = judgeDrift(latest, ref!.figures, thresholds, 30);
    expect(j.checks.find((c) => c.name === 'agreement.maxDrop')!.reason).toBe('agreement rose 5.0 pp, within the max drop of 5.0 pp');
    const [ref2, latest2] = analysed(1, 80);
    expect(judgeDrift(latest2, ref2!.figures, thresholds, 30).checks.find((c) => c.name === 'agreement.maxDrop')!.reason).toBe('agreement dropped 10.0 pp, above the max drop of 5.0 pp');
  });

  it('passes a rate threshold only on enough runs to show it with 95% confidence, as the gate does (minTraces aside)', () => {
    // Three runs a window, all agreeing, none escalated or broken down: a point estimate that shows nothing yet.
    const a = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
    for (let i = 0; i < 3; i++) {
      a.add(obs(T0 - DAY - 1 - i, { agree: true }));
      a.add(obs(T0 - i, { agree: true }));
    }
    const [ref, latest] = a.finish().windows;
    const rates = DriftConfigSchema.parse({ thresholds: { agreement: { min: 0.8, maxDrop: 0.05 }, errorRate: { max: 0.02 } } }).thresholds;
    const j = judgeDrift(latest, ref!.figures, rates, 1);
    expect(j.verdict).toBe('inconclusive');
    expect(j.checks.map((c) => [c.name, c.status])).toEqual([['agreement.min', 'inconclusive'], ['agreement.maxDrop', 'inconclusive'], ['errorRate.max', 'inconclusive']]);
    expect(j.checks[0]!.reason).toBe('needs at least 16 traces: 3 cannot give a lower 95% bound of 80.0% even if all agree (agreement, a point estimate, (3/3) 43.9%)');
    expect(j.checks[1]!.reason).toBe('agreement unchanged (0.0 pp), within the max drop of 5.0 pp, but needs at least 73 runs with agreement on each side to show a change within 5.0 pp (the latest window has 3, its reference 3)');
    expect(j.checks[2]!.reason).toContain('needs at least 189 runs: 3 cannot give an upper 95% bound of 2.0% even with no error');
    // A window of 100 runs each shows the agreement and the drop; a change past its limit fails on any count.
    const [ref2, latest2] = analysed(1, 90);
    const enough = judgeDrift(latest2, ref2!.figures, DriftConfigSchema.parse({ thresholds: { agreement: { min: 0.8, maxDrop: 0.05 } } }).thresholds, 1);
    expect(enough.checks.map((c) => c.status)).toEqual(['pass', 'pass']);
    const b = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
    for (let i = 0; i < 3; i++) {
      b.add(obs(T0 - DAY - 1 - i, { agree: true }));
      b.add(obs(T0 - i, { agree: i === 0 }));
    }
    const [ref3, latest3] = b.finish().windows;
    expect(judgeDrift(latest3, ref3!.figures, DriftConfigSchema.parse({ thresholds: { agreement: { maxDrop: 0.05 } } }).thresholds, 1).checks[0]).toMatchObject({ status: 'fail' });
  });

  it('judges a p95 latency only over 20 runs with a latency on each side: below that it is the slowest run', () => {
    const judged = (perWindow: number) => {
      const a = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
      for (let i = 0; i < perWindow; i++) {
        a.add(obs(T0 - DAY - 1 - i, { latencyMs: 100 }));
        a.add(obs(T0 - i, { latencyMs: 100 }));
      }
      const [ref, latest] = a.finish().windows;
      return judgeDrift(latest, ref!.figures, DriftConfigSchema.parse({ thresholds: { p95LatencyMs: { max: 500, maxRatio: 1.5 } } }).thresholds, 1);
    };
    const one = judged(1);
    expect(one.verdict).toBe('inconclusive');
    expect(one.checks.map((c) => c.status)).toEqual(['inconclusive', 'inconclusive']);
    expect(one.checks[0]!.reason).toBe('the latest window has 1 run(s) with a latency: a 95th percentile needs at least 20, below which it is the slowest run');
    expect(judged(20).checks.map((c) => c.status)).toEqual(['pass', 'pass']);
  });

  it('takes a max of 0 as a rule (none at all), with no floor, as the gate takes errorRate max 0', () => {
    const a = createDriftAnalysis(planWindows(T0, DAY, 2), { kind: 'previous' });
    for (let i = 0; i < 3; i++) {
      a.add(obs(T0 - DAY - 1 - i, { end: 'completed' }));
      a.add(obs(T0 - i, { end: i === 0 ? 'escalated' : 'completed' }));
    }
    const [ref, latest] = a.finish().windows;
    const rules = DriftConfigSchema.parse({ thresholds: { errorRate: { max: 0, maxRise: 0 }, escalationRate: { max: 0 } } }).thresholds;
    const j = judgeDrift(latest, ref!.figures, rules, 1);
    expect(j.checks.map((c) => [c.name, c.status])).toEqual([['escalationRate.max', 'fail'], ['errorRate.max', 'pass'], ['errorRate.maxRise', 'pass']]);
  });

  it('is inconclusive on too few runs, and passes with no thresholds at all', () => {
    const [ref, latest] = analysed(3, 80);
    expect(judgeDrift(latest, ref!.figures, thresholds, 500)).toMatchObject({ verdict: 'inconclusive', checks: [] });
    expect(judgeDrift(latest, ref!.figures, DEFAULT_DRIFT_CONFIG.thresholds, 1)).toEqual({ verdict: 'pass', reason: 'no thresholds configured', checks: [] });
  });
});

describe('recordedAt', () => {
  it('tells a missing recordedAt from one that is not a date', () => {
    expect(traceTime(aTrace('t').build())).toEqual({ ok: false, problem: 'missing' });
    expect(traceTime({ ...aTrace('t').build(), recordedAt: 'garbage' })).toEqual({ ok: false, problem: 'unparseable' });
    expect(traceTime({ ...aTrace('t').build(), recordedAt: '2026-11-01T00:00:00Z' })).toEqual({ ok: true, at: T0 });
  });
});

describe('sparklines', () => {
  it('draws a change far below the scale floor flat, and one as wide as the floor full height', () => {
    // JSD 0.0001 → 0.0004 is no movement on a 0–1 divergence: without a floor it would draw ▁█.
    expect(sparkline([0.0001, 0.0004])).toBe('▁█');
    expect(sparkline([0.0001, 0.0004], 0.05)).toBe('▄▄');
    expect(sparkline([0, 0.05, 0.025], 0.05)).toBe('▁█▄');
    expect(sparkline([0.2, null, 0.2], 0.05)).toBe('▄ ▄');
    const flat = sparkView([0.0001, 0.0004], 0.05).points.map((p) => p.y);
    expect(Math.abs(flat[0]! - flat[1]!)).toBeLessThan(0.5);
    const full = sparkView([0, 0.05], 0.05).points.map((p) => p.y);
    expect(full[0]! - full[1]!).toBeGreaterThan(15);
  });
});
