import { describe, expect, it } from 'vitest';
import { jensenShannon, levenshtein, populationStabilityIndex, quantile, sequenceSimilarity, wilsonInterval } from './stats.js';

/** Rounds an interval's ends to 4 decimals for comparison with hand-computed values. */
const round4 = (ci: [number, number] | null) => ci && ci.map((x) => Math.round(x * 1e4) / 1e4);

describe('wilsonInterval', () => {
  it('8/10 gives [0.4902, 0.9433]', () => {
    // p = 0.8, n = 10, z = 1.96, z² = 3.8415
    // denom  = 1 + z²/n = 1.38415
    // centre = (p + z²/2n) / denom = (0.8 + 0.19207) / 1.38415 = 0.71673
    // half   = z·√(p(1−p)/n + z²/4n²) / denom = 1.96·√(0.016 + 0.0096037) / 1.38415
    //        = 1.96·0.160012 / 1.38415 = 0.22658
    // → [0.71673 − 0.22658, 0.71673 + 0.22658] = [0.4902, 0.9433]
    expect(round4(wilsonInterval(8, 10))).toEqual([0.4902, 0.9433]);
  });

  it('0/0 is null: no evidence is not an interval', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('10/10 has upper bound exactly 1 and lower bound 0.7225', () => {
    // p = 1: centre = (1 + z²/2n)/denom, half = (z²/2n)/denom, so centre + half = 1.
    // lower = (1 + 0.19207 − 0.19207 − 0.19207) / 1.38415 = 1 / 1.38415 = 0.7225
    const ci = wilsonInterval(10, 10)!;
    expect(ci[1]).toBe(1);
    expect(round4(ci)).toEqual([0.7225, 1]);
  });

  it('0/10 has lower bound exactly 0 (mirror of 10/10)', () => {
    const ci = wilsonInterval(0, 10)!;
    expect(ci[0]).toBe(0);
    expect(round4(ci)).toEqual([0, 0.2775]);
  });

  it('the interval narrows as n grows at the same rate', () => {
    const [lo10, hi10] = wilsonInterval(8, 10)!;
    const [lo100, hi100] = wilsonInterval(80, 100)!;
    expect(hi100 - lo100).toBeLessThan(hi10 - lo10);
  });
});

describe('jensenShannon (base 2)', () => {
  it('is 0 for identical distributions, whatever the totals', () => {
    expect(jensenShannon({ a: 1, b: 3 }, { a: 10, b: 30 })).toBe(0);
  });

  it('is 1 for disjoint distributions', () => {
    // P = (1, 0), Q = (0, 1), M = (½, ½): each KL is 1·log2(1/½) = 1, JSD = ½·1 + ½·1 = 1
    expect(jensenShannon({ a: 5 }, { b: 2 })).toBe(1);
  });

  it('a worked example with two categories: P = (½, ½), Q = (1, 0) gives 0.3113', () => {
    // M = (0.75, 0.25)
    // KL(P‖M) = ½·log2(0.5/0.75) + ½·log2(0.5/0.25) = ½·(−0.584963) + ½·1 = 0.207519
    // KL(Q‖M) = 1·log2(1/0.75) = 0.415037
    // JSD = ½·(0.207519 + 0.415037) = 0.311278
    expect(jensenShannon({ a: 2, b: 2 }, { a: 7 })).toBeCloseTo(0.311278, 6);
  });

  it('is symmetric', () => {
    expect(jensenShannon({ a: 7 }, { a: 2, b: 2 })).toBeCloseTo(jensenShannon({ a: 2, b: 2 }, { a: 7 })!, 12);
  });

  it('is null when either side has no counts', () => {
    expect(jensenShannon({}, { a: 1 })).toBeNull();
    expect(jensenShannon({ a: 1 }, { a: 0 })).toBeNull();
  });
});

describe('populationStabilityIndex', () => {
  it('a worked example: expected (½, ½), actual (¾, ¼) gives 0.2747', () => {
    // Σ (a − e)·ln(a/e)
    // = (0.75 − 0.5)·ln(1.5) + (0.25 − 0.5)·ln(0.5)
    // = 0.25·0.405465 + (−0.25)·(−0.693147) = 0.101366 + 0.173287 = 0.274653
    expect(populationStabilityIndex({ a: 50, b: 50 }, { a: 75, b: 25 })).toBeCloseTo(0.274653, 6);
  });

  it('is 0 for the same mix', () => {
    expect(populationStabilityIndex({ a: 1, b: 1 }, { a: 4, b: 4 })).toBe(0);
  });

  it('floors a vanished category at epsilon: large but finite', () => {
    // expected (½, ½), actual (1, 0→1e-4):
    // (1 − 0.5)·ln(2) + (1e-4 − 0.5)·ln(1e-4/0.5) = 0.346574 + (−0.4999)·(−8.517193) = 0.346574 + 4.257745 = 4.604319
    expect(populationStabilityIndex({ a: 1, b: 1 }, { a: 3 })).toBeCloseTo(4.604319, 5);
  });

  it('is null when either side has no counts', () => {
    expect(populationStabilityIndex({}, { a: 1 })).toBeNull();
  });
});

describe('levenshtein', () => {
  it('kitten → sitting is 3 (two substitutions, one insertion), on arrays', () => {
    // k→s, e→i, +g
    expect(levenshtein([...'kitten'], [...'sitting'])).toBe(3);
  });

  it('counts tool-name edits: [get, check, refund] → [get, refund, email] is 2', () => {
    // delete check, insert email
    expect(levenshtein(['get', 'check', 'refund'], ['get', 'refund', 'email'])).toBe(2);
  });

  it('is the other length when one side is empty, 0 when both are', () => {
    expect(levenshtein([], ['a', 'b'])).toBe(2);
    expect(levenshtein(['a', 'b', 'c'], [])).toBe(3);
    expect(levenshtein([], [])).toBe(0);
  });
});

describe('sequenceSimilarity', () => {
  it('kitten/sitting: 1 − 3/7 = 0.5714', () => {
    expect(sequenceSimilarity([...'kitten'], [...'sitting'])).toBeCloseTo(4 / 7, 12);
  });

  it('is 1 for identical sequences and for two empty ones', () => {
    expect(sequenceSimilarity(['a', 'b'], ['a', 'b'])).toBe(1);
    expect(sequenceSimilarity([], [])).toBe(1);
  });

  it('is 0 when nothing is in common', () => {
    // distance 2 (two substitutions) over a longest length of 2
    expect(sequenceSimilarity(['a', 'b'], ['c', 'd'])).toBe(0);
    expect(sequenceSimilarity([], ['a'])).toBe(0);
  });
});

describe('quantile', () => {
  it('interpolates linearly between closest ranks', () => {
    // sorted [10, 20, 30, 40]; median position (4 − 1)·0.5 = 1.5 → 20 + (30 − 20)·0.5 = 25
    expect(quantile([40, 10, 30, 20], 0.5)).toBe(25);
    // p95 position 3·0.95 = 2.85 → 30 + (40 − 30)·0.85 = 38.5
    expect(quantile([40, 10, 30, 20], 0.95)).toBeCloseTo(38.5, 10);
  });

  it('gives the min and max at 0 and 1, and the one value for a single value', () => {
    expect([quantile([3, 1, 2], 0), quantile([3, 1, 2], 1), quantile([7], 0.95)]).toEqual([1, 3, 7]);
  });

  it('is null for no values', () => {
    expect(quantile([], 0.5)).toBeNull();
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});
