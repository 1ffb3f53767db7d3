import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, chiSquareTest, logGamma, psiBand, regularizedGammaQ } from './chi-square.js';

describe('logGamma', () => {
  it('matches factorials and Γ(½) = √π', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13); // Γ(5) = 4!
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln 100!
  });
});

describe('chiSquareSurvival', () => {
  it('df = 2 is exp(−x/2), on both sides of the series / continued-fraction switch (x/2 = a + 1 = 2)', () => {
    for (const x of [0.5, 3, 4, 5.991465, 12, 40]) {
      expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 14);
    }
    // the 5% critical value of χ²(2) is 2·ln 20 = 5.991465
    expect(chiSquareSurvival(2 * Math.log(20), 2)).toBeCloseTo(0.05, 14);
  });

  it('df = 4 is exp(−y)(1 + y) with y = x/2', () => {
    for (const x of [1, 4, 9.487729, 30]) {
      const y = x / 2;
      expect(chiSquareSurvival(x, 4)).toBeCloseTo(Math.exp(-y) * (1 + y), 14);
    }
  });

  it('df = 1 (erfc(√(x/2))) gives the table values 3.841459 → 0.05 and 6.634897 → 0.01', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 7);
    expect(chiSquareSurvival(6.634897, 1)).toBeCloseTo(0.01, 7);
  });

  it('df = 1 far in the tail: erfc(√150) ≈ e^−150 / (√150·√π) · (1 − 1/300 + 3/90000) = 3.2944e−67', () => {
    // 7.1751e−66 / 21.7082 · 0.996700 = 3.29435e−67
    expect(chiSquareSurvival(300, 1) / 3.29436e-67).toBeCloseTo(1, 4);
  });

  it('df = 100 gives the table value 124.342 → 0.05', () => {
    expect(chiSquareSurvival(124.342113, 100)).toBeCloseTo(0.05, 7);
  });

  it('is 1 at x = 0 and stays in [0, 1]', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(regularizedGammaQ(15, 1e-3)).toBe(1);
    expect(chiSquareSurvival(5000, 3)).toBe(0);
  });
});

describe('chiSquareTest (homogeneity, 2×K)', () => {
  it('a worked 2×3 table', () => {
    // reference (30, 20, 10), candidate (20, 20, 20); row totals 60, 60; column totals 50, 40, 30; N = 120
    // expected = 60·col/120 = (25, 20, 15) in both rows
    // X² = 5²/25 + 5²/25 + 0 + 0 + 5²/15 + 5²/15 = 1 + 1 + 10/3 = 16/3 = 5.3333
    // df = 2, p = exp(−16/6) = exp(−8/3) = 0.069483
    const result = chiSquareTest({ a: 30, b: 20, c: 10 }, { a: 20, b: 20, c: 20 })!;
    expect(result.statistic).toBeCloseTo(16 / 3, 12);
    expect(result.df).toBe(2);
    expect(result.p).toBeCloseTo(Math.exp(-8 / 3), 12);
    expect(result.merged).toEqual([]);
  });

  it('is 0 with p = 1 for the same mix at different totals', () => {
    expect(chiSquareTest({ a: 10, b: 30 }, { a: 20, b: 60 })).toEqual({ statistic: 0, df: 1, p: 1, merged: [] });
  });

  it('merges categories whose expected cell is below 5 into (other)', () => {
    // rows 100 and 100, so expected = column total / 2; c (4 + 4 = 8 → 4) and d (3 + 1 = 4 → 2) are sparse
    // (other) = (7, 5), total 12 → expected 6: kept
    // columns a (50, 40), b (30, 40), e (13, 15), (other) (7, 5); expected 45, 35, 14, 6
    // X² = 2·25/45 + 2·25/35 + 2·1/14 + 2·1/6 = 10/9 + 10/7 + 1/7 + 1/3 = 190/63 = 3.015873
    // df = 3, p = Q(3/2, 95/63) = erfc(√y) + 2√(y/π)·e^−y at y = 1.507937 → 0.389184
    const result = chiSquareTest({ a: 50, b: 30, c: 4, d: 3, e: 13 }, { a: 40, b: 40, c: 4, d: 1, e: 15 })!;
    expect(result.statistic).toBeCloseTo(190 / 63, 12);
    expect(result.df).toBe(3);
    expect(result.p).toBeCloseTo(0.389184, 6);
    expect(result.merged).toEqual(['c', 'd']);
  });

  it('folds a still-sparse (other) into the smallest remaining category', () => {
    // rows 100 and 100; c (2 + 2) and d (2 + 2) are sparse; (other) = (4, 4), expected 4 < 5
    // smallest remaining is a (90 against b's 102): a + (other) = (54, 44), b = (46, 56); expected 49, 51
    // X² = 2·25/49 + 2·25/51 = 50/49 + 50/51 = 2.000800; df = 1; p = erfc(√1.000400) = 0.157216
    const result = chiSquareTest({ a: 50, b: 46, c: 2, d: 2 }, { a: 40, b: 56, c: 2, d: 2 })!;
    expect(result.statistic).toBeCloseTo(50 / 49 + 50 / 51, 12);
    expect(result.df).toBe(1);
    expect(result.p).toBeCloseTo(0.157216, 6);
    expect(result.merged).toEqual(['c', 'd']);
  });

  it('judges sparseness by the smaller row: a tool new in a small candidate run is merged', () => {
    // rows 200 and 20, N = 220; new_tool (0, 6): expected 6·200/220 = 5.45 in the reference row, but
    // 6·20/220 = 0.55 in the candidate row → merged
    // (other) = (0, 6) is still sparse and goes into the smallest remaining: b (104) rather than a (110)
    // a = (100, 10), b = (100, 4 + 6) = (100, 10): the same mix, X² = 0, p = 1
    expect(chiSquareTest({ a: 100, b: 100 }, { a: 10, b: 4, new_tool: 6 })).toEqual({ statistic: 0, df: 1, p: 1, merged: ['new_tool'] });
  });

  it('is null when either side is empty or fewer than 2 categories remain', () => {
    expect(chiSquareTest({}, { a: 3 })).toBeNull();
    expect(chiSquareTest({ a: 3 }, { a: 0 })).toBeNull();
    expect(chiSquareTest({ a: 100 }, { a: 50 })).toBeNull(); // one category
    expect(chiSquareTest({ a: 3 }, { b: 2 })).toBeNull(); // both sparse: only (other) is left
  });

  it('ignores categories with no counts on either side', () => {
    expect(chiSquareTest({ a: 30, b: 20, c: 10, z: 0 }, { a: 20, b: 20, c: 20 })!.df).toBe(2);
  });
});

describe('psiBand', () => {
  it('reads < 0.1 as stable, 0.1–0.25 as moderate, > 0.25 as major', () => {
    expect(psiBand(0)).toBe('stable');
    expect(psiBand(0.0999)).toBe('stable');
    expect(psiBand(0.1)).toBe('moderate');
    expect(psiBand(0.25)).toBe('moderate');
    expect(psiBand(0.2501)).toBe('major');
    expect(psiBand(0.274653)).toBe('major'); // the PSI of (½, ½) → (¾, ¼)
  });
});
