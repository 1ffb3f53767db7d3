import { describe, expect, it } from 'vitest';
import { rateMetric } from '../metrics/rate.js';
import type { CandidateStep, TraceResult } from '../replay/types.js';
import { aResult, aTrace } from '../testing/builders.js';
import { agreeWith, callTools, stayWithinBudget, type RunLike } from './matchers.js';
// Registers the matchers with this file's `expect`, as a user's import does.
import './index.js';

const tool = (name: string): CandidateStep => ({ type: 'tool', name, args: {} });
const withTools = (traceId: string, ...names: string[]) => aResult(traceId, { steps: names.map(tool) });

/** A run of `agree` agreeing and `disagree` disagreeing traces, plus `open` with no comparable outcome. */
function aRun(agree: number, disagree: number, open = 0, extra: Partial<RunLike['metrics']['cost']> = {}): RunLike {
  const results: TraceResult[] = [
    ...Array.from({ length: agree }, (_, i) => aResult(`ok-${i + 1}`)),
    ...Array.from({ length: disagree }, (_, i) => aResult(`bad-${i + 1}`, { agree: false })),
    ...Array.from({ length: open }, (_, i) => aResult(`err-${i + 1}`, { status: 'error', agree: null })),
  ];
  return {
    meta: { suite: 'refund-triage', reference: 'human', candidate: 'module:v2.mjs' },
    metrics: { agreement: rateMetric(agree, agree + disagree), cost: { totalUsd: null, inputTokens: null, outputTokens: null, ...extra } },
    results,
  };
}

describe('agreeWith', () => {
  it('passes on the lower 95% bound, and says what it found when it fails', () => {
    const run = aRun(90, 10);
    // 90/100: Wilson [82.6%, 94.5%]
    expect(agreeWith(run, 'human', { min: 0.8 }, false).pass).toBe(true);
    const failed = agreeWith(run, 'human', { min: 0.85, bound: 'lower' }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message()).toBe(
      [
        'expected the lower 95% bound of agreement of module:v2.mjs with human to reach 85.0%',
        '  agreement 90.0% (90/100), 95% CI [82.6%, 94.5%]: lower bound 82.6%',
        '  disagreeing: bad-1, bad-2, bad-3, bad-4, bad-5 and 5 more',
      ].join('\n'),
    );
  });

  it('reads the rate itself with bound: point', () => {
    expect(agreeWith(aRun(90, 10), 'human', { min: 0.85, bound: 'point' }, false).pass).toBe(true);
    expect(agreeWith(aRun(90, 10), 'human', { min: 0.91, bound: 'point' }, false).message().split('\n')[0]).toBe(
      'expected the agreement of module:v2.mjs with human to reach 91.0%',
    );
  });

  it('throws on a run in which nothing could be compared, with .not as without, and counts what was not', () => {
    const unknown = [
      "toAgreeWith('human'): the lower 95% bound of agreement of module:v2.mjs is unknown: no trace could be compared (n = 0)",
      '  not compared (no outcome, or no reference decision): 3 trace(s)',
    ].join('\n');
    expect(() => agreeWith(aRun(0, 0, 3), 'human', { min: 0 }, false)).toThrowError(unknown);
    expect(() => agreeWith(aRun(0, 0, 3), 'human', { min: 0 }, true)).toThrowError(unknown);
    expect(() => agreeWith(aRun(0, 0), 'human', { min: 0.5, bound: 'point' }, true)).toThrowError('the agreement of module:v2.mjs is unknown');
  });

  it('refuses a run compared with another reference, or a missing min, rather than passing or failing', () => {
    expect(() => agreeWith(aRun(9, 1), 'recorded', { min: 0.5 }, true)).toThrowError(
      "toAgreeWith('recorded'): suite refund-triage compares with human, not recorded",
    );
    expect(() => agreeWith(aRun(9, 1), 'human', {} as { min: number }, false)).toThrowError('toAgreeWith needs { min } between 0 and 1');
    expect(() => agreeWith(aResult(), 'human', { min: 0.5 }, false)).toThrowError('toAgreeWith takes a run from runSuite(), got object');
  });
});

describe('callTools', () => {
  const result = withTools('rt-1', 'get_order', 'check_refund_policy', 'issue_refund', 'get_order');

  it('ordered: exactly these calls in this order', () => {
    expect(callTools(result, ['get_order', 'check_refund_policy', 'issue_refund', 'get_order'], {}, false).pass).toBe(true);
    const failed = callTools(result, ['get_order', 'issue_refund', 'check_refund_policy', 'get_order'], { mode: 'ordered' }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message()).toBe(
      [
        'expected rt-1 to call get_order, issue_refund, check_refund_policy, get_order (ordered: exactly these calls, in this order)',
        '  called: get_order → check_refund_policy → issue_refund → get_order',
      ].join('\n'),
    );
    expect({ actual: failed.actual, expected: failed.expected }).toEqual({
      actual: ['get_order', 'check_refund_policy', 'issue_refund', 'get_order'],
      expected: ['get_order', 'issue_refund', 'check_refund_policy', 'get_order'],
    });
  });

  it('unordered: the same calls, each as many times, in any order', () => {
    expect(callTools(result, ['issue_refund', 'get_order', 'get_order', 'check_refund_policy'], { mode: 'unordered' }, false).pass).toBe(true);
    const failed = callTools(result, ['issue_refund', 'get_order', 'escalate_to_human'], { mode: 'unordered' }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message().split('\n').slice(2)).toEqual(['  missing: escalate_to_human', '  not expected: check_refund_policy, get_order']);
  });

  it('subset: at least these calls; a name listed twice must be called twice', () => {
    expect(callTools(result, ['issue_refund', 'get_order', 'get_order'], { mode: 'subset' }, false).pass).toBe(true);
    const failed = callTools(result, ['issue_refund', 'issue_refund'], { mode: 'subset' }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message().split('\n')[2]).toBe('  missing: issue_refund');
    expect(failed.actual).toBeUndefined();
  });

  it('reads model steps as no calls, and works on a recorded trace too', () => {
    const trace = aTrace('t-9').withModelStep([{ name: 'get_order', args: { order_id: 'A' } }]).withToolCall('get_order', { order_id: 'A' }, {}).build();
    expect(callTools(trace, ['get_order'], {}, false).pass).toBe(true);
    expect(callTools(aResult('empty'), [], {}, false).message()).toBe(
      'expected empty to call no tool (ordered: exactly these calls, in this order)\n  called: no tool',
    );
  });

  it('refuses a run, and an unknown mode', () => {
    expect(() => callTools(aRun(1, 0), ['get_order'], {}, false)).toThrowError("toCallTools takes one trace's result, not a run");
    expect(() => callTools(result, ['get_order'], { mode: 'sorted' as 'ordered' }, false)).toThrowError('unknown mode sorted');
  });
});

describe('stayWithinBudget', () => {
  const timed = (id: string, steps: number, latencyMs: number, costUsd: number | null = null) =>
    aResult(id, { steps: Array.from({ length: steps }, () => tool('get_order')), latencyMs, costUsd });

  it('one result: every limit given holds', () => {
    const result = timed('rt-1', 4, 1200, 0.002);
    expect(stayWithinBudget(result, { maxSteps: 4, maxLatencyMs: 1500, maxCostUsd: 0.01 }, false).pass).toBe(true);
    const failed = stayWithinBudget(result, { maxSteps: 3, maxLatencyMs: 1500 }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message()).toBe(
      [
        'expected rt-1 to stay within budget',
        '  ✗ maxSteps 3: 1 of 1 trace(s) over: rt-1; 4 (rt-1)',
        '  ✓ maxLatencyMs 1500 ms: 1200 ms (rt-1)',
      ].join('\n'),
    );
  });

  it('a run: each trace, the ones over listed, and the worst', () => {
    const run = { ...aRun(0, 0), results: [timed('a', 3, 900), timed('b', 7, 800), timed('c', 9, 950), aResult('d', { status: 'unpaired', latencyMs: null })] };
    const failed = stayWithinBudget(run, { maxSteps: 6, maxLatencyMs: 1000 }, false);
    expect(failed.pass).toBe(false);
    expect(failed.message()).toBe(
      [
        'expected the run of module:v2.mjs on refund-triage to stay within budget',
        '  ✗ maxSteps 6: 2 of 3 trace(s) over: b, c; the most 9 (c)',
        '  ✓ maxLatencyMs 1000 ms: the most 950 ms (c)',
      ].join('\n'),
    );
  });

  it('an unknown figure cannot be judged: it throws and says why, with .not as without', () => {
    const unknown = [
      'toStayWithinBudget: the budget of rt-1 cannot be judged: a figure is unknown',
      '  ? maxCostUsd $0.0100: unknown for 1 of 1 trace(s) (no priced model usage); no figure',
      '  ? maxTokens 100: unknown for 1 of 1 trace(s) (no model usage recorded); no figure',
      '  ✓ maxSteps 5: 2 (rt-1)',
    ].join('\n');
    for (const isNot of [false, true]) {
      expect(() => stayWithinBudget(timed('rt-1', 2, 100, null), { maxSteps: 5, maxCostUsd: 0.01, maxTokens: 100 }, isNot)).toThrowError(unknown);
    }
    // A run with no trace the candidate ran has no figure at all.
    const empty = { ...aRun(0, 0), results: [aResult('d', { status: 'unpaired', latencyMs: null })] };
    expect(() => stayWithinBudget(empty, { maxSteps: 3 }, true)).toThrowError('  ? maxSteps 3: no figure');
  });

  it("a run's totals", () => {
    const run = aRun(2, 0, 0, { totalUsd: 0.42, inputTokens: 9000, outputTokens: 1500 });
    expect(stayWithinBudget(run, { maxTotalCostUsd: 0.5, maxTotalTokens: 10_500 }, false).pass).toBe(true);
    expect(stayWithinBudget(run, { maxTotalTokens: 10_000 }, false).message().split('\n')[1]).toBe('  ✗ maxTotalTokens 10000: 10500 in all');
    expect(() => stayWithinBudget(aRun(2, 0), { maxTotalCostUsd: 1 }, true)).toThrowError(
      'cannot be judged: a figure is unknown\n  ? maxTotalCostUsd $1.0000: unknown (no priced model usage)',
    );
  });

  it('refuses unknown limits, no limits, and run totals on one trace', () => {
    expect(() => stayWithinBudget(aResult(), { maxStep: 3 } as never, false)).toThrowError('toStayWithinBudget: unknown limit maxStep');
    expect(() => stayWithinBudget(aResult(), {}, false)).toThrowError('toStayWithinBudget needs at least one limit');
    expect(() => stayWithinBudget(aResult(), { maxTotalCostUsd: 1 }, false)).toThrowError('maxTotalCostUsd limit a run, not one trace');
    expect(() => stayWithinBudget([], { maxSteps: 1 }, false)).toThrowError('got an array');
  });
});

describe('the matchers in expect', () => {
  const run = aRun(90, 10);

  it('pass and fail with the messages above', () => {
    expect(run).toAgreeWith('human', { min: 0.8 });
    expect(() => expect(run).toAgreeWith('human', { min: 0.85 })).toThrowError('lower bound 82.6%');
    expect(withTools('rt-1', 'get_order', 'issue_refund')).toCallTools(['issue_refund', 'get_order'], { mode: 'unordered' });
    expect(() => expect(withTools('rt-1', 'get_order')).toCallTools(['issue_refund'])).toThrowError('called: get_order');
    expect(run).toStayWithinBudget({ maxSteps: 0 });
  });

  it('.not inverts them, with a message that reads the other way', () => {
    expect(run).not.toAgreeWith('human', { min: 0.85 });
    expect(() => expect(run).not.toAgreeWith('human', { min: 0.8 })).toThrowError(
      'expected the lower 95% bound of agreement of module:v2.mjs with human to stay below 80.0%',
    );
    expect(withTools('rt-1', 'get_order', 'escalate_to_human')).not.toCallTools(['issue_refund'], { mode: 'subset' });
    expect(() => expect(withTools('rt-1', 'issue_refund')).not.toCallTools(['issue_refund'], { mode: 'subset' })).toThrowError(
      'expected rt-1 not to call at least issue_refund',
    );
    expect(withTools('rt-1', 'get_order', 'get_order')).not.toStayWithinBudget({ maxSteps: 1 });
    expect(() => expect(aRun(1, 0)).not.toStayWithinBudget({ maxSteps: 1 })).toThrowError('to exceed its budget');
  });

  it('unknown fails with .not too', () => {
    expect(() => expect(aRun(0, 0, 2)).not.toAgreeWith('human', { min: 0.8 })).toThrowError('no trace could be compared (n = 0)');
    expect(() => expect(aRun(2, 0)).not.toStayWithinBudget({ maxTotalCostUsd: 1 })).toThrowError('a figure is unknown');
  });
});
