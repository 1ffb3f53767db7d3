import { judgeNonInferiority } from '../metrics/non-inferiority.js';
import { judgeRegressions } from '../metrics/paired.js';
import { tracesForLowerBound, tracesForUpperBound } from '../metrics/power.js';
import type { RateMetric, RunMetrics } from '../metrics/summary.js';
import { counts } from '../format.js';
import type { GateConfig } from '../suite/schema.js';
import type { GateCheck } from './gate.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * A bound check on too few traces: when even a perfect run of this size could not meet the
 * threshold (every trace agreeing still leaves the Wilson lower bound below `min`), the
 * check is inconclusive and names how many traces it needs: a small suite is missing
 * evidence, not a failing candidate. It fails all the same when the interval lies wholly
 * below the threshold (its upper end under `min`): that much the traces do show.
 * Null when the suite is large enough, or has no trace at all (the caller's "n = 0").
 */
export function tooFewForLowerBound(name: string, min: number, metric: RateMetric, what: string, all = 'agree'): GateCheck | null {
  const needed = tracesForLowerBound(min);
  if (metric.n === 0 || metric.ci95 === null || (needed !== null && metric.n >= needed)) return null;
  const [lower, upper] = metric.ci95;
  const counted = `${what} (${counts(metric)}) ${pct(lower)}`;
  if (upper < min) {
    return { name, value: lower, threshold: min, status: 'fail', reason: `${counted} < ${pct(min)}, and even its upper bound ${pct(upper)} is below` };
  }
  return {
    name,
    value: lower,
    threshold: min,
    status: 'inconclusive',
    reason:
      needed === null
        ? `a lower bound of ${pct(min)} cannot be reached by any number of traces (${counted}): set min below 100% or bound: point`
        : `needs at least ${needed} traces: ${metric.n} cannot give a lower 95% bound of ${pct(min)} even if all ${all} (${counted})`,
  };
}

/**
 * The same for an upper-bound check on a sampled rate (the review sample's error rate):
 * with no error at all the Wilson upper bound is z² / (n + z²), so a sample smaller than
 * tracesForUpperBound(max) cannot pass. Fails when the interval lies wholly above `max`.
 */
export function tooFewForUpperBound(name: string, max: number, metric: RateMetric, what: string, unit = 'sampled traces', none = 'no error'): GateCheck | null {
  const needed = tracesForUpperBound(max);
  if (metric.n === 0 || metric.ci95 === null || (needed !== null && metric.n >= needed)) return null;
  const [lower, upper] = metric.ci95;
  const counted = `${what} (${counts(metric)}) ${pct(upper)}`;
  if (lower > max) {
    return { name, value: upper, threshold: max, status: 'fail', reason: `${counted} > ${pct(max)}, and even its lower bound ${pct(lower)} is above` };
  }
  return {
    name,
    value: upper,
    threshold: max,
    status: 'inconclusive',
    reason:
      needed === null
        ? `an upper bound of ${pct(max)} cannot be reached by any number of ${unit} (${counted}): set max above 0%`
        : `needs at least ${needed} ${unit}: ${metric.n} cannot give an upper 95% bound of ${pct(max)} even with ${none} (${counted})`,
  };
}

/**
 * The paired check against a baseline. With `margin`, non-inferiority (judgeNonInferiority):
 * its value is the upper end of the 95% interval of the paired drop in agreement. With
 * `max`, the count of regressions (judgeRegressions), raised by the noise floor's share with
 * `beyondNoise`. Either way inconclusive without a baseline or without a trace decided on
 * both sides.
 */
export function regressionsCheck(rule: NonNullable<GateConfig['regressions']>, metrics: Pick<RunMetrics, 'paired' | 'noiseFloor'>): GateCheck {
  const { margin, beyondNoise, alpha = 0.05 } = rule;
  const max = rule.max ?? 0;
  const { paired, noiseFloor } = metrics;
  const threshold = margin ?? max;
  if (!paired) {
    return { name: 'regressions', value: null, threshold, status: 'inconclusive', reason: 'no baseline: pass --baseline <runId | results.json> to count regressions' };
  }
  if (paired.pairs === 0) {
    return { name: 'regressions', value: null, threshold, status: 'inconclusive', reason: `no trace was decided in both this run and the baseline ${paired.baselineRunId}` };
  }
  const regressions = paired.regressions.length;
  const fixes = paired.fixes.length;
  if (margin !== undefined) {
    const judged = judgeNonInferiority({ regressions, fixes, pairs: paired.pairs, margin, alpha });
    return { name: 'regressions', value: judged.upper, threshold: margin, status: judged.status, reason: judged.reason };
  }
  // Noise alone flips traces both ways; about half of an A/A run's flips would show as regressions.
  const noise = beyondNoise && noiseFloor ? Math.ceil(noiseFloor.flips / 2) : 0;
  if (beyondNoise && !noiseFloor && regressions > max) {
    return { name: 'regressions', value: regressions, threshold: max, status: 'inconclusive', reason: 'beyondNoise needs the noise floor: pass --noise-floor' };
  }
  const judged = judgeRegressions({ regressions, fixes, max: max + noise, alpha });
  const noisy = noiseFloor && noise > 0 ? `; the maximum includes ${noise} for noise (${noiseFloor.flips} flips in an A/A run)` : '';
  // What the count is over: the traces both runs decided; this run's others were never compared.
  const over = `; over the ${paired.pairs} trace(s) decided in both runs${paired.unpaired.candidate > 0 ? `, ${paired.unpaired.candidate} of this run's not in the baseline ${paired.baselineRunId} and not compared` : ''}`;
  return { name: 'regressions', value: regressions, threshold: max + noise, status: judged.status, reason: `${judged.reason}${noisy}${over}` };
}
