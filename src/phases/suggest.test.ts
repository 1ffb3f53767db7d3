import { describe, expect, it } from 'vitest';
import { createSuggestAccumulator, editDistance, simulateReview } from './suggest.js';

const round4 = (ci: [number, number] | null) => ci && ci.map((x) => Math.round(x * 1e4) / 1e4);

describe('editDistance', () => {
  it('objects: share of fields that differ, over the union of keys', () => {
    // keys {action, amount}; only amount differs → 1/2
    expect(editDistance({ action: 'refund', amount: 10 }, { action: 'refund', amount: 12 })).toBe(0.5);
    // union {a, b, c}; b only on the left, c only on the right → 2/3
    expect(editDistance({ a: 1, b: 2 }, { a: 1, c: 2 })).toBeCloseTo(2 / 3, 12);
  });

  it('objects: canonical values (key order, undefined members) and a 1e-9 relative tolerance', () => {
    expect(editDistance({ a: { y: 1, x: 2 }, b: undefined }, { a: { x: 2, y: 1 } })).toBe(0);
    // 0.1 + 0.2 = 0.30000000000000004: relative difference 1.9e-16 ≤ 1e-9 → equal
    expect(editDistance({ total: 0.1 + 0.2 }, { total: 0.3 })).toBe(0);
    // 1 vs 1.000001: relative difference 1e-6 > 1e-9 → differs
    expect(editDistance({ total: 1 }, { total: 1.000001 })).toBe(1);
    expect(editDistance({}, {})).toBe(0);
  });

  it('strings: normalised Levenshtein distance on characters', () => {
    // kitten → sitting: 3 edits (k→s, e→i, +g) over the longer length 7
    expect(editDistance('kitten', 'sitting')).toBeCloseTo(3 / 7, 12);
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(1);
    // one of two code points differs → 1/2 (UTF-16 units would give 1/3)
    expect(editDistance('😀a', '😀b')).toBe(0.5);
  });

  it('anything else: 0 when canonically equal, 1 when not', () => {
    expect(editDistance(0.1 + 0.2, 0.3)).toBe(0);
    expect(editDistance([1, { b: 2, a: 1 }], [1, { a: 1, b: 2 }])).toBe(0);
    expect(editDistance([1, 2], [2, 1])).toBe(1);
    expect(editDistance(null, null)).toBe(0);
    expect(editDistance('a', { a: 1 })).toBe(1);
    expect(editDistance(true, false)).toBe(1);
  });
});

describe('simulateReview', () => {
  it('accepted when equal, edited up to the threshold (inclusive), rejected beyond', () => {
    expect(simulateReview({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe('accepted');
    // distance 1/2 ≤ default 0.5 → edited
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, b: 3 })).toBe('edited');
    // distance 2/3 > 0.5 → rejected; ≤ 0.7 → edited
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe('rejected');
    expect(simulateReview({ a: 1, b: 2 }, { a: 1, c: 2 }, { editThreshold: 0.7 })).toBe('edited');
  });
});

describe('createSuggestAccumulator', () => {
  it('counts recorded and simulated verdicts, distance and time saved', () => {
    const acc = createSuggestAccumulator({ editThreshold: 0.5 });
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
    const acc = createSuggestAccumulator();
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
    const acc = createSuggestAccumulator();
    acc.add({ suggestion: 'x', human: { verdict: 'rejected', reviewMs: 700 } });
    const m = acc.finish();
    expect(m.reviewerTimeSavedMs).toBe(0);
    expect(m.meanEditDistance).toBeNull();
  });

  it('uses the threshold it was given when simulating', () => {
    const acc = createSuggestAccumulator({ editThreshold: 0.7 });
    // distance 2/3 ≤ 0.7 → edited (rejected at the default 0.5)
    acc.add({ suggestion: { a: 1, b: 2 }, human: { decision: { a: 1, c: 2 } } });
    expect(acc.finish()).toMatchObject({ edited: 1, rejected: 0, simulated: 1 });
  });
});
