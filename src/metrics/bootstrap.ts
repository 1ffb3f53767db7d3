import { InternalError } from '../errors.js';
import { quantile, Z95 } from './stats.js';

export interface BootstrapOptions {
  /** @default 2000 */
  resamples?: number;
  /** Seed of the resampling PRNG: the same values and seed give the same interval. @default 1 */
  seed?: number;
  /** @default 0.95 */
  confidence?: number;
}

/**
 * Percentile bootstrap interval of a mean: resample the values with replacement
 * `resamples` times, take each resample's mean, and read the (1 − confidence)/2 and
 * (1 + confidence)/2 quantiles of those means. Each value is one trace's figure (its
 * cost, its tool calls, the share of its trials that agreed), so a resample draws
 * whole traces and keeps whatever correlation there is inside a trace. Seeded, so a
 * report is reproducible.
 *
 * When to use: the mean of a skewed per-trace figure (cost, latency, tool calls) over
 * tens to thousands of traces, where the normal interval's symmetry is wrong.
 * When not to use: a proportion of yes/no outcomes (use wilsonInterval); fewer than
 * about 10 values (the interval is too narrow: it cannot see beyond the sample);
 * very large n in a hot path (cost is resamples × n; see createMeanEstimator).
 *
 * Returns null for no values, and [v, v] for a single value.
 *
 * @example
 * bootstrapMeanInterval([0.012, 0.015, 0.011, 0.042, 0.013]) // [lo, hi] around the mean 0.0186
 */
export function bootstrapMeanInterval(values: readonly number[], options: BootstrapOptions = {}): [number, number] | null {
  const { resamples = 2000, seed = 1, confidence = 0.95 } = options;
  if (!Number.isInteger(resamples) || resamples < 1) throw new InternalError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new InternalError(`bootstrap: confidence must be in (0, 1), got ${confidence}`);
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return [values[0]!, values[0]!];
  const random = mulberry32(seed);
  const means = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  const tail = (1 - confidence) / 2;
  return [quantile(means, tail)!, quantile(means, 1 - tail)!];
}

/**
 * mulberry32: a 32-bit PRNG, small, fast and good enough for resampling (not for
 * secrets). Returns floats in [0, 1).
 * @internal
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MeanEstimate {
  /** null for no values. */
  mean: number | null;
  n: number;
  /** null for no values. */
  ci95: [number, number] | null;
  /** Which interval ci95 is: the bootstrap while the values are kept, the normal one past the limit. */
  method: 'bootstrap' | 'normal';
}

/**
 * The mean of a stream of per-trace values with a 95% interval, in bounded memory.
 * Up to `limit` values are kept and the interval is the percentile bootstrap
 * (bootstrapMeanInterval, default seed). When the `limit + 1`-th value arrives the
 * values are dropped, and from then on only Welford's running mean and variance are
 * kept, and the interval is the normal one, mean ± 1.96·sd/√n (sd with n − 1). By
 * then n is large enough for the central limit theorem to make the two agree closely,
 * and the bootstrap would cost resamples × n anyway. `method` says which was used.
 *
 * When to use: run summaries of per-trace figures (cost, tool calls) of any size.
 * When not to use: proportions (use wilsonInterval); per-call figures of a trace
 * (add one value per trace, or the interval is too narrow).
 *
 * @example
 * const cost = createMeanEstimator();
 * for (const r of results) cost.add(r.costUsd);
 * cost.finish() // { mean, n, ci95, method: 'bootstrap' }
 */
export function createMeanEstimator(limit = 2_000) {
  let values: number[] | undefined = [];
  let n = 0;
  let mean = 0;
  let m2 = 0; // Σ (x − mean)², updated in Welford's way so it does not cancel catastrophically

  return {
    add(value: number): void {
      if (!Number.isFinite(value)) throw new InternalError(`mean estimator: values must be finite, got ${value}`);
      n++;
      const delta = value - mean;
      mean += delta / n;
      m2 += delta * (value - mean);
      if (values) {
        values.push(value);
        if (values.length > limit) values = undefined;
      }
    },

    finish(): MeanEstimate {
      if (n === 0) return { mean: null, n, ci95: null, method: values ? 'bootstrap' : 'normal' };
      if (values) {
        // Sorted first, so that neither the mean nor the interval depends on the order the values came in
        // (concurrency, shards): a merged run must give the figures of an unsharded one.
        const sorted = [...values].sort((a, b) => a - b);
        return { mean: sorted.reduce((a, b) => a + b, 0) / n, n, ci95: bootstrapMeanInterval(sorted), method: 'bootstrap' };
      }
      if (n === 1) return { mean, n, ci95: [mean, mean], method: 'normal' }; // only with limit 0
      const half = Z95 * Math.sqrt(m2 / (n - 1) / n);
      return { mean, n, ci95: [mean - half, mean + half], method: 'normal' };
    },
  };
}

export type MeanEstimator = ReturnType<typeof createMeanEstimator>;
