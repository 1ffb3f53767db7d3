import { describe, expect, it } from 'vitest';
import { decisionsAgree, WHOLE_DECISION } from '../metrics/compare.js';
import { createSuggestAccumulator, simulateReview } from './suggest.js';

const comparator = WHOLE_DECISION;
/** The comparator of the bundled refund-triage suites. */
const REFUND_COMPARE = { fields: ['action', 'amount'], numericTolerance: 0.01 };

const round4 = (ci: [number, number] | null) => ci && ci.map((x) => Math.round(x * 1e4) / 1e4);

describe('simulateReview', () => {
  it('accepted when equal, edited up to the threshold (inclusive), rejected beyond', () => {
    expect(simulateReview({ a: 1, b: 2 }, { b: 2, a: 1 }, { comparator })).toBe('accepted');
    // distance 1/2 ≤ default 0.5 → edited
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, b: 3 }, { comparator })).toBe('edited');
    // distance 2/3 > 0.5 → rejected; ≤ 0.7 → edited
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, c: 2 }, { comparator })).toBe('rejected');
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, c: 2 }, { comparator, editThreshold: 0.7 })).toBe('edited');
  });

  it('decides "same decision" with the suite comparator, as agreement does: 10.004 vs 10 within 0.01 is accepted', () => {
    const suggestion = { action: 'refund', amount: 10.004 };
    const human = { action: 'refund', amount: 10 };
    expect(decisionsAgree(suggestion, human, REFUND_COMPARE)).toBe(true);
    expect(simulateReview(suggestion, human, { comparator: REFUND_COMPARE })).toBe('accepted');
    // Without the tolerance the same pair is an edit (1 of 2 fields), in both consumers alike.
    expect(decisionsAgree(suggestion, human, WHOLE_DECISION)).toBe(false);
    expect(simulateReview(suggestion, human, { comparator: WHOLE_DECISION })).toBe('edited');
  });

  it('compares only the comparator\'s fields: a differing note the suite ignores is still accepted', () => {
    const suggestion = { action: 'deny', note: 'outside window' };
    const human = { action: 'deny', note: 'late' };
    expect(simulateReview(suggestion, human, { comparator: REFUND_COMPARE })).toBe('accepted');
    expect(simulateReview(suggestion, human, { comparator: WHOLE_DECISION })).toBe('edited');
  });
});

describe('createSuggestAccumulator', () => {
  it('counts recorded and simulated verdicts, distance and time saved', () => {
    const acc = createSuggestAccumulator({ comparator, editThreshold: 0.5 });
    // 1. recorded accepted, nothing to compare with → distance 0, 1000 ms saved
    acc.add({ suggestion: { action: 'refund' }, human: { verdict: 'accepted', reviewMs: 1000 } });
    // 2. recorded edited, final differs in 1 of 2 fields → 0.5; its time is not saved
    acc.add({ suggestion: { action: 'refund', amount: 10 }, human: { verdict: 'edited', final: { action: 'refund', amount: 12 }, reviewMs: 3000 } });
    // 3. simulated: distance 1 > 0.5 → rejected
    acc.add({ suggestion: { action: 'refund' }, human: { decision: { action: 'deny' } } });
    // 4. simulated: equal → accepted, 500 ms saved
    acc.add({ suggestion: { action: 'deny' }, human: { decision: { action: 'deny' }, reviewMs: 500 } });
    // 5, 6. neither verdict nor decision → skipped
    acc.add({ suggestion: { action: 'deny' } });
    acc.add({ suggestion: { action: 'deny' }, human: { reviewMs: 9999 } });
    // 7. the recorded verdict wins over the decision (which would simulate as edited); distance 'abc'→'abd' = 1/3
    acc.add({ suggestion: 'abc', human: { verdict: 'accepted', decision: 'abd' } });
    const m = acc.finish();
    // accepted 1, 4, 7; edited 2; rejected 3 → reviewed 5
    // mean distance = (0 + 0.5 + 1 + 0 + 1/3) / 5 = (11/6) / 5 = 11/30
    expect({ ...m, meanEditDistance: m.meanEditDistance?.toFixed(6), acceptanceRate: undefined, overrideRate: undefined }).toEqual({
      reviewed: 5,
      accepted: 3,
      edited: 1,
      rejected: 1,
      acceptanceRate: undefined,
      overrideRate: undefined,
      meanEditDistance: (11 / 30).toFixed(6),
      reviewerTimeSavedMs: 1500,
      simulated: 2,
    });
    // Wilson 3/5: denom = 1 + 3.8415/5 = 1.76829; centre = (0.6 + 0.38415)/1.76829 = 0.55655
    // half = 1.96·√(0.048 + 0.038415)/1.76829 = 0.32584 → [0.2307, 0.8824]; 2/5 is its mirror
    expect(m.acceptanceRate).toMatchObject({ rate: 0.6, n: 5, successes: 3 });
    expect(round4(m.acceptanceRate.ci95)).toEqual([0.2307, 0.8824]);
    expect(m.overrideRate).toMatchObject({ rate: 0.4, n: 5, successes: 2 });
    expect(round4(m.overrideRate.ci95)).toEqual([0.1176, 0.7693]);
  });

  it('no evidence gives nulls, not zeros', () => {
    const acc = createSuggestAccumulator({ comparator });
    acc.add({ suggestion: 'x' });
    expect(acc.finish()).toEqual({
      reviewed: 0,
      accepted: 0,
      edited: 0,
      rejected: 0,
      acceptanceRate: { rate: null, n: 0, successes: 0, ci95: null },
      overrideRate: { rate: null, n: 0, successes: 0, ci95: null },
      meanEditDistance: null,
      reviewerTimeSavedMs: null,
      simulated: 0,
    });
  });

  it('time recorded but nothing accepted saves 0; an edit with nothing to compare adds no distance', () => {
    const acc = createSuggestAccumulator({ comparator });
    acc.add({ suggestion: 'x', human: { verdict: 'rejected', reviewMs: 700 } });
    const m = acc.finish();
    expect(m.reviewerTimeSavedMs).toBe(0);
    expect(m.meanEditDistance).toBeNull();
  });

  it('uses the threshold it was given when simulating', () => {
    const acc = createSuggestAccumulator({ comparator, editThreshold: 0.7 });
    // distance 2/3 ≤ 0.7 → edited (rejected at the default 0.5)
    acc.add({ suggestion: { a: 1, b: 2 }, human: { decision: { a: 1, c: 2 } } });
    expect(acc.finish()).toMatchObject({ edited: 1, rejected: 0, simulated: 1 });
  });
});
