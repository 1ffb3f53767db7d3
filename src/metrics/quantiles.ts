import { quantile } from './stats.js';

/**
 * Quantiles of a stream of non-negative values in bounded memory: exact while
 * there are at most `exactUpTo` values, then read from log-spaced buckets whose
 * edges are 1% apart (so a quantile is within 1% of the true value). Pure.
 */
export function createQuantileSketch(exactUpTo = 4096) {
  let exact: number[] | undefined = [];
  const buckets = new Map<number, number>();
  let zeros = 0;
  let count = 0;
  const GROWTH = Math.log(1.01);
  const bucketOf = (v: number) => Math.floor(Math.log(v) / GROWTH);

  const toBuckets = (v: number) => {
    if (v <= 0) zeros++;
    else buckets.set(bucketOf(v), (buckets.get(bucketOf(v)) ?? 0) + 1);
  };

  return {
    add(value: number): void {
      count++;
      if (exact) {
        exact.push(value);
        if (exact.length > exactUpTo) {
          for (const v of exact) toBuckets(v);
          exact = undefined;
        }
        return;
      }
      toBuckets(value);
    },
    /** The q-quantile (0..1); null for no values. */
    quantile(q: number): number | null {
      if (exact) return quantile(exact, q);
      const rank = q * (count - 1);
      let seen = zeros;
      if (rank < seen) return 0;
      for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
        seen += buckets.get(b)!;
        if (rank < seen) return Math.exp((b + 0.5) * GROWTH); // the bucket's geometric middle
      }
      return Math.exp(([...buckets.keys()].sort((x, y) => y - x)[0]! + 0.5) * GROWTH);
    },
  };
}
