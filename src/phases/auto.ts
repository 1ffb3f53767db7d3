import { rateMetric, type RateMetric } from '../metrics/rate.js';

/**
 * Share of runs whose latency is within the SLA (≤ `slaMs`), with its Wilson interval; rate null
 * for no runs. A non-finite latency counts as a miss.
 * When to use: `phase: auto`, where nobody waits on a review. When not to use: as a latency
 * summary (report p50/p95).
 * @example slaAdherence([100, 200, 300], 250).rate // 2/3
 */
export function slaAdherence(latencies: readonly number[], slaMs: number): RateMetric {
  return rateMetric(latencies.filter((ms) => ms <= slaMs).length, latencies.length);
}

export interface CostTrend {
  /** current / baseline; null when either is missing or the baseline is 0. */
  ratio: number | null;
  /** current − baseline (same unit as the inputs, e.g. USD per run); null when either is missing. */
  change: number | null;
  /** Why the baseline's cost per run is not known (it left traces of unknown cost out, an older shadowgate made it, nothing priced); absent where it is. */
  baselineCostUnknown?: string;
}

/**
 * How a cost moved against a baseline (e.g. cost per run of this run against the previous one).
 * @example costTrend(0.03, 0.02) // { ratio: 1.5, change: 0.01 }
 */
export function costTrend(current: number | null, baseline: number | null): CostTrend {
  if (current === null || baseline === null) return { ratio: null, change: null };
  return { ratio: baseline === 0 ? null : current / baseline, change: current - baseline };
}
