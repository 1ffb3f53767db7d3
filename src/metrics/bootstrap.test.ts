import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, createMeanEstimator, mulberry32 } from './bootstrap.js';

/** A deterministic right-skewed sample (like per-trace cost): exp of evenly spread points in [0, 3). */
const skewed = (n: number) => Array.from({ length: n }, (_, i) => Math.exp((((i * 7919) % n) / n) * 3));
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('mulberry32', () => {
  it('is reproducible and uniform on [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    // a uniform's mean is ½ with sd 1/√(12·10000) = 0.0029
    expect(mean(draws)).toBeCloseTo(0.5, 1);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('bootstrapMeanInterval', () => {
  it('is reproducible: the same seed gives the same interval, another seed another', () => {
    const values = skewed(200);
    expect(bootstrapMeanInterval(values, { seed: 7 })).toEqual(bootstrapMeanInterval(values, { seed: 7 }));
    expect(bootstrapMeanInterval(values, { seed: 7 })).not.toEqual(bootstrapMeanInterval(values, { seed: 8 }));
  });

  it('contains the mean, below and above it', () => {
    const values = skewed(200);
    const [lo, hi] = bootstrapMeanInterval(values)!;
    expect(lo).toBeLessThan(mean(values));
    expect(hi).toBeGreaterThan(mean(values));
  });

  it('narrows with n: about 1/√10 as wide for 10 times the traces', () => {
    const [lo1, hi1] = bootstrapMeanInterval(skewed(100))!;
    const [lo2, hi2] = bootstrapMeanInterval(skewed(1000))!;
    const ratio = (hi2 - lo2) / (hi1 - lo1);
    expect(ratio).toBeGreaterThan(0.25); // 1/√10 = 0.316
    expect(ratio).toBeLessThan(0.4);
  });

  it('agrees with the normal interval on a symmetric sample: 0..99 gives 49.5 ± 5.69', () => {
    // mean 49.5; population sd √((100² − 1)/12) = 28.866 (the bootstrap resamples the empirical distribution)
    // se = 28.866/√100 = 2.8866; 1.96·se = 5.658 → about [43.84, 55.16]
    const [lo, hi] = bootstrapMeanInterval(Array.from({ length: 100 }, (_, i) => i), { resamples: 4000 })!;
    expect(lo).toBeCloseTo(43.84, 0);
    expect(hi).toBeCloseTo(55.16, 0);
  });

  it('two values 0 and 1: the resample means are 0, ½, 1 with chances ¼, ½, ¼, so the 95% interval is [0, 1]', () => {
    // 2.5% < ¼ of the means are 0 and 2.5% < ¼ are 1
    expect(bootstrapMeanInterval([0, 1])).toEqual([0, 1]);
    // at 40% confidence the 30% and 70% quantiles fall among the ½s
    expect(bootstrapMeanInterval([0, 1], { confidence: 0.4 })).toEqual([0.5, 0.5]);
  });

  it('is null for no values, [v, v] for one, [c, c] for constants', () => {
    expect(bootstrapMeanInterval([])).toBeNull();
    expect(bootstrapMeanInterval([3.5])).toEqual([3.5, 3.5]);
    expect(bootstrapMeanInterval([2, 2, 2, 2])).toEqual([2, 2]);
  });
});

describe('createMeanEstimator', () => {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 40/8 = 5; Σ(x − 5)² = 9 + 1 + 1 + 1 + 0 + 0 + 4 + 16 = 32
  // sample variance 32/7 = 4.571429; se = √(32/7/8) = √0.571429 = 0.755929
  // 1.959964·0.755929 = 1.481594 → [3.518406, 6.481594]
  const sample = [2, 4, 4, 4, 5, 5, 7, 9];

  it('past the limit, drops the values and gives Welford’s mean with the normal interval', () => {
    const estimator = createMeanEstimator(3);
    for (const v of sample) estimator.add(v);
    const { mean: m, n, ci95, method } = estimator.finish();
    expect(method).toBe('normal');
    expect(n).toBe(8);
    expect(m).toBeCloseTo(5, 12);
    expect(ci95![0]).toBeCloseTo(3.518406, 6);
    expect(ci95![1]).toBeCloseTo(6.481594, 6);
  });

  it('Welford stays exact on values with a large offset, where Σx² − n·mean² would cancel', () => {
    const estimator = createMeanEstimator(0);
    for (const v of sample) estimator.add(1e9 + v);
    const { mean: m, ci95 } = estimator.finish();
    expect(m).toBeCloseTo(1e9 + 5, 6);
    expect(ci95![1] - m!).toBeCloseTo(1.481594, 5); // the same half-width as without the offset
  });

  it('up to the limit, keeps the values and gives the bootstrap interval', () => {
    const estimator = createMeanEstimator(8);
    for (const v of sample) estimator.add(v);
    expect(estimator.finish()).toEqual({ mean: 5, n: 8, ci95: bootstrapMeanInterval(sample), method: 'bootstrap' });
  });

  it('the two intervals agree closely on either side of the switch', () => {
    const values = skewed(2000);
    const kept = createMeanEstimator(2000);
    const dropped = createMeanEstimator(1999);
    for (const v of values) {
      kept.add(v);
      dropped.add(v);
    }
    const a = kept.finish();
    const b = dropped.finish();
    expect([a.method, b.method]).toEqual(['bootstrap', 'normal']);
    expect(a.ci95![0]).toBeCloseTo(b.ci95![0], 1);
    expect(a.ci95![1]).toBeCloseTo(b.ci95![1], 1);
  });

  it('has no mean and no interval with no values, and a point with one', () => {
    expect(createMeanEstimator().finish()).toEqual({ mean: null, n: 0, ci95: null, method: 'bootstrap' });
    const one = createMeanEstimator(0);
    one.add(4);
    expect(one.finish()).toEqual({ mean: 4, n: 1, ci95: [4, 4], method: 'normal' });
  });

  it('rejects values that are not finite', () => {
    expect(() => createMeanEstimator().add(Number.NaN)).toThrow(/finite/);
  });
});
