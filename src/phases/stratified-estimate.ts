import type { RateMetric } from '../metrics/rate.js';
import { wilsonInterval } from '../metrics/stats.js';

/** One stratum of a stratified review sample: its size in the population and what its sample found. */
export interface StratumCount {
  stratum: string;
  /** Traces of the stratum in the population (with a comparable outcome). */
  population: number;
  /** Of them, reviewed (drawn into the sample). */
  sampled: number;
  /** Of the reviewed, errors (disagreements). */
  errors: number;
}

export interface StratifiedEstimate {
  /**
   * The post-stratified error rate Σ W_h·p_h (W_h = N_h/N, p_h = e_h/n_h) with its 95% interval.
   * `n` is the number of reviewed traces and `successes` the weighted error count rate·n, so
   * that rate = successes / n still holds.
   */
  rate: RateMetric;
  /** The same interval narrowed by each stratum's finite-population correction (1 − n_h/N_h). */
  population: { rate: number | null; ci95: [number, number] | null };
  /** The effective sample size the interval was taken at (≤ n). */
  effectiveN: number | null;
  /** Share of the population in strata with no reviewed trace: their error rate is unknown, so the interval spans it. */
  unreviewedShare: number;
}

/**
 * The population's error rate from a stratified sample. A stratified draw takes the same
 * share of every decision class but at least one trace of each, so rare classes are
 * over-represented in the sample; the sample's raw error rate then describes the sample, not
 * the population. Each stratum's rate is weighted by its share of the population instead
 * (post-stratification, Cochran, Sampling Techniques, ch. 5).
 *
 * The interval is a Wilson interval at the effective sample size (Korn & Graubard 1998):
 * the stratified variance V = Σ W_h² p_h(1 − p_h)/n_h gives n_eff = p(1 − p)/V, capped at n,
 * and the Wilson interval is taken for rate p over n_eff trials. With one stratum (or
 * proportional allocation) it is the ordinary Wilson interval, and like it, it stays inside
 * [0, 1] and keeps a positive upper bound when no error was seen, where a stratified normal
 * interval would collapse to [0, 0] — which would pass a sample error gate on no evidence of
 * its absence. Where V is 0 (every reviewed stratum all right or all wrong) n_eff is Kish's
 * effective size of the weights, N² / Σ N_h²/n_h, the variance-free measure of how much the
 * unequal weights cost. A stratum with no reviewed trace contributes its whole share to the
 * width (its error rate could be anything), never a guess.
 * @example
 * // A rare class, 5% of traces, half of them wrong, oversampled to 10 of 20 reviews:
 * stratifiedErrorRate([{ stratum: 'escalate', population: 50, sampled: 10, errors: 5 }, { stratum: 'refund', population: 950, sampled: 10, errors: 0 }]).rate.rate // 0.025
 */
export function stratifiedErrorRate(strata: readonly StratumCount[]): StratifiedEstimate {
  const N = strata.reduce((s, h) => s + h.population, 0);
  const reviewed = strata.filter((h) => h.sampled > 0 && h.population > 0);
  const n = reviewed.reduce((s, h) => s + h.sampled, 0);
  const covered = reviewed.reduce((s, h) => s + h.population, 0);
  const unreviewedShare = N === 0 ? 0 : 1 - covered / N;
  if (n === 0 || covered === 0) {
    return { rate: { rate: null, n: 0, successes: 0, ci95: null }, population: { rate: null, ci95: null }, effectiveN: null, unreviewedShare };
  }
  // Weights within the reviewed strata; the unreviewed share widens the interval below.
  const terms = reviewed.map((h) => {
    const w = h.population / covered;
    const p = h.errors / h.sampled;
    const f = Math.min(1, h.sampled / h.population);
    return { w, p, n: h.sampled, f, population: h.population };
  });
  const p = terms.reduce((s, t) => s + t.w * t.p, 0);
  const variance = terms.reduce((s, t) => s + (t.w * t.w * t.p * (1 - t.p)) / t.n, 0);
  const kish = covered ** 2 / terms.reduce((s, t) => s + t.population ** 2 / t.n, 0);
  const effectiveN = variance > 0 ? Math.min(n, (p * (1 - p)) / variance) : Math.min(n, kish);
  const wilson = wilsonInterval(p * effectiveN, effectiveN)!;
  const exact: [number, number] = [p === 0 ? 0 : wilson[0], p === 1 ? 1 : wilson[1]];

  // The finite-population correction of the stratified variance, as a factor on the interval's half-widths.
  const unit = (fpc: boolean) => terms.reduce((s, t) => s + (t.w * t.w * (variance > 0 ? t.p * (1 - t.p) : 1) * (fpc ? 1 - t.f : 1)) / t.n, 0);
  const shrink = Math.sqrt(unit(true) / unit(false));
  const corrected: [number, number] = [p - (p - exact[0]) * shrink, p + (exact[1] - p) * shrink];

  // Strata nobody reviewed: anywhere between no error and all errors.
  const span = ([lo, hi]: [number, number]): [number, number] => [lo * (1 - unreviewedShare), hi * (1 - unreviewedShare) + unreviewedShare];
  return {
    rate: { rate: p, n, successes: p * n, ci95: span(exact) },
    population: { rate: p, ci95: span(corrected) },
    effectiveN,
    unreviewedShare,
  };
}
