import { describe, expect, it } from 'vitest';
import { rateMetric } from '../metrics/rate.js';
import type { ReviewSampleMetrics } from './auto-with-review.js';
import { aCatalog } from '../testing/builders.js';
import { assessPromotion, DEFAULT_PROMOTION, promotionThresholds, type PhaseRun } from './promotion.js';
import type { SuggestMetrics } from './suggest.js';
import { reversibilityMatrix } from './reversibility.js';

const catalog = aCatalog({ get_order: 'read', add_note: 'write-reversible', send_email: 'write-external', issue_refund: 'write-irreversible' });
const readOnly = reversibilityMatrix(catalog, { calls: { get_order: 10 } });
const refunds = reversibilityMatrix(catalog, { calls: { get_order: 10, issue_refund: 4 } });
const notes = reversibilityMatrix(catalog, { calls: { get_order: 10, add_note: 4 } });

const day = (d: number) => new Date(Date.UTC(2025, 0, 1 + d)).toISOString();
const shadow = (runId: string, agree: number, n: number, at = 0, candidateHash = 'c1'): PhaseRun => ({
  runId, phase: 'shadow', candidate: 'module:v1.mjs', candidateHash, startedAt: day(at), metrics: { agreement: rateMetric(agree, n) },
});
const suggest = (runId: string, overridden: number, n: number, at = 1): PhaseRun => ({
  runId, phase: 'suggest', candidate: 'module:v1.mjs', candidateHash: 'c1', startedAt: day(at),
  metrics: { agreement: rateMetric(n, n), phase: { suggest: { overrideRate: rateMetric(overridden, n) } as SuggestMetrics } },
});
const reviewed = (runId: string, errors: number, n: number, at = 2): PhaseRun => ({
  runId, phase: 'auto-with-review', candidate: 'module:v1.mjs', candidateHash: 'c1', startedAt: day(at),
  metrics: { agreement: rateMetric(n, n), phase: { autoWithReview: { sampleErrorRate: rateMetric(errors, n) } as ReviewSampleMetrics } },
});
const assess = (runs: PhaseRun[], matrix = readOnly, thresholds = DEFAULT_PROMOTION) => assessPromotion({ candidateHash: 'c1', runs, matrix, thresholds });

describe('assessPromotion', () => {
  it('no run: no evidence at any step (null, not zero), and shadow is all that is allowed', () => {
    const a = assess([]);
    expect(a.steps.map((s) => [s.status, s.evidence, s.reason])).toEqual([
      ['no-evidence', null, 'shadow → suggest: no shadow run yet'],
      ['no-evidence', null, 'suggest → auto-with-review: no suggest run yet'],
      ['no-evidence', null, 'auto-with-review → auto: no auto-with-review run yet'],
    ]);
    expect(a).toMatchObject({ evidencePhase: 'shadow', cap: 'auto', allowed: 'shadow', candidate: null, runs: 0 });
  });

  it('shadow → suggest on the lower bound of agreement, not the point estimate', () => {
    // 190/200: Wilson [91.0%, 97.3%]; lower 91.0% ≥ 90% → met
    expect(assess([shadow('s1', 190, 200)]).steps[0]).toMatchObject({ status: 'met', evidence: { runId: 's1', n: 200, rate: 0.95 } });
    // 180/200 = 90.0%, at the threshold, but its lower bound is 85.1%
    const step = assess([shadow('s1', 180, 200)]).steps[0]!;
    expect(step.status).toBe('not-met');
    expect(step.reason).toBe('shadow → suggest: agreement 90.0% [85.1%, 93.4%] over 200 traces (run s1); lower bound 85.1% below 90.0%');
  });

  it('too few traces is not enough, whatever the bound', () => {
    const step = assess([shadow('s1', 50, 50)]).steps[0]!;
    expect(step).toMatchObject({ status: 'not-met', minTraces: 100 });
    expect(step.reason).toMatch(/: 50 traces, 100 needed$/);
  });

  it('suggest → auto-with-review on the upper bound of the override rate', () => {
    // 14/100: Wilson [8.5%, 22.1%]; upper 22.1% > 10%
    const step = assess([shadow('s1', 190, 200), suggest('g1', 14, 100)]).steps[1]!;
    expect(step).toMatchObject({ status: 'not-met', bound: 'upper', threshold: 0.1 });
    expect(step.reason).toBe('suggest → auto-with-review: override rate 14.0% [8.5%, 22.1%] over 100 traces (run g1); upper bound 22.1% above 10.0%');
  });

  it('the override rate says how many of the reviewed came from the review queue; queue verdicts that cannot be counted leave no evidence', () => {
    const counted = { ...suggest('g1', 14, 100), fromQueue: 12 };
    const [agreement, override] = assess([shadow('s1', 190, 200), counted]).steps;
    expect(override).toMatchObject({ status: 'not-met', evidence: { runId: 'g1', n: 100, fromQueue: 12 } });
    expect(override!.reason).toBe('suggest → auto-with-review: override rate 14.0% [8.5%, 22.1%] over 100 traces, 12 from the review queue (run g1); upper bound 22.1% above 10.0%');
    // The queue feeds the override rate alone.
    expect(agreement!.evidence!.fromQueue).toBeNull();
    const uncounted = { ...suggest('g1', 10, 200), uncountedQueue: { verdicts: 3, reason: 'the run keeps no settings' } };
    const step = assess([shadow('s1', 190, 200), uncounted]).steps[1]!;
    expect(step).toMatchObject({ status: 'no-evidence', evidence: { runId: 'g1', n: 200, fromQueue: null } });
    expect(step.reason).toBe('suggest → auto-with-review: run g1: 3 verdict(s) in the review queue cannot be counted in its override rate: the run keeps no settings');
  });

  it('climbs the whole ladder when every rung holds, under a read-only cap', () => {
    // 10/200 overridden: upper 9.0% ≤ 10%; 3/120 sample errors: upper 7.1% ≤ 10%
    const a = assess([shadow('s1', 190, 200), suggest('g1', 10, 200), reviewed('r1', 3, 120)]);
    expect(a.steps.map((s) => s.status)).toEqual(['met', 'met', 'met']);
    expect(a).toMatchObject({ evidencePhase: 'auto', cap: 'auto', allowed: 'auto', runs: 3 });
    expect(a.reason).toBe('auto: the evidence reaches it and the cap is auto (get_order is read)');
  });

  it('the reversibility cap holds the allowed phase down, whatever the evidence', () => {
    const a = assess([shadow('s1', 190, 200), suggest('g1', 10, 200), reviewed('r1', 3, 120)], refunds);
    expect(a).toMatchObject({ evidencePhase: 'auto', cap: 'suggest', allowed: 'suggest' });
    expect(a.reason).toBe('suggest: the evidence reaches auto, but the cap is suggest (issue_refund is write-irreversible)');
  });

  it('each rung needs the ones below it: a missing shadow run stops the ladder', () => {
    const a = assess([suggest('g1', 10, 200), reviewed('r1', 3, 120)]);
    expect(a.steps.map((s) => s.status)).toEqual(['no-evidence', 'met', 'met']);
    expect(a.evidencePhase).toBe('shadow');
    expect(a.reason).toBe('shadow: the cap is auto (get_order is read), but the evidence reaches only shadow');
  });

  it('the latest run of a phase counts, and only runs of this candidate', () => {
    const a = assess([shadow('old', 190, 200, 0), shadow('new', 150, 200, 3), shadow('other', 200, 200, 5, 'c2')]);
    expect(a.steps[0]).toMatchObject({ status: 'not-met', evidence: { runId: 'new' } });
    expect(a).toMatchObject({ runs: 2, otherRuns: 1 });
  });

  it('a run without the figure is no evidence, and says which run', () => {
    const a = assess([shadow('s1', 0, 0)]);
    expect(a.steps[0]).toMatchObject({ status: 'no-evidence', evidence: { runId: 's1', rate: null, n: 0 }, reason: 'shadow → suggest: run s1 has no agreement (n = 0)' });
  });

  it('write-reversible: auto only after the shadow period; auto-with-review until then', () => {
    const ladder = [suggest('g1', 10, 200, 9), reviewed('r1', 3, 120, 10)];
    const short = assess([shadow('s1', 190, 200, 0), shadow('s2', 190, 200, 3), ...ladder], notes);
    expect(short.shadowPeriod).toEqual({ required: { runs: 3, days: 7 }, runs: 2, days: 3, met: false });
    expect(short).toMatchObject({ evidencePhase: 'auto', cap: 'auto-with-review', allowed: 'auto-with-review' });
    expect(short.reason).toBe(
      'auto-with-review: the evidence reaches auto, but the cap is auto-with-review until a shadow period of 3 run(s) over 7 day(s) (the store has 2 over 3.0 day(s); add_note is write-reversible)',
    );
    const long = assess([shadow('s1', 190, 200, 0), shadow('s2', 190, 200, 3), shadow('s3', 190, 200, 8), ...ladder], notes);
    expect(long.shadowPeriod).toMatchObject({ runs: 3, days: 8, met: true });
    expect(long).toMatchObject({ cap: 'auto', allowed: 'auto' });
    // no shadow period is asked of a workflow whose cap is lower anyway
    expect(assess(ladder, refunds).shadowPeriod).toBeNull();
  });
});

describe('promotionThresholds', () => {
  it("takes the gate's thresholds where set, `promotion:` next, the defaults last", () => {
    expect(promotionThresholds({ gate: {} })).toEqual(DEFAULT_PROMOTION);
    expect(
      promotionThresholds({
        gate: { agreement: { min: 0.85, bound: 'lower' }, overrideRate: { max: 0.2 }, sampleErrorRate: { max: 0.05, bound: 'upper' } },
        promotion: { minTraces: 30, shadowPeriod: { days: 14 } },
      }),
    ).toEqual({ minTraces: 30, agreementMin: 0.85, overrideRateMax: 0.2, sampleErrorRateMax: 0.05, shadowPeriod: { runs: 3, days: 14 } });
  });
});
