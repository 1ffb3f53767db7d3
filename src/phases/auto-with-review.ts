import { rateMetric, type RateMetric } from '../metrics/rate.js';
import { callKey } from '../trace/canonical.js';
import type { Action } from '../trace/schema.js';
import { inSample } from './sampling.js';
import { stratifiedErrorRate, type StratumCount } from './stratified-estimate.js';

/** Effect classes whose effects would need compensating (a refund reversed, an email apologised for). */
const COMPENSATED: ReadonlySet<string> = new Set(['write-external', 'write-irreversible']);

function multiset(effects: readonly Action[], effectClassOf: (tool: string) => string, ignoreArgs: readonly string[]) {
  const counts = new Map<string, number>();
  for (const e of effects) {
    if (!COMPENSATED.has(effectClassOf(e.name))) continue;
    const key = callKey(e.name, e.args, ignoreArgs);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Whether the candidate's effects on write-external or write-irreversible tools differ, as a
 * multiset keyed by tool name and canonical arguments, from the reference's: those are the
 * effects someone would have to compensate had the candidate acted alone. Effects of other
 * classes (read, write-reversible) are ignored.
 * @example rollbackNeeded([{ name: 'refund', args: { amount: 10 } }], [], () => 'write-external') // true
 */
export function rollbackNeeded(
  candidateEffects: readonly Action[],
  referenceEffects: readonly Action[],
  effectClassOf: (tool: string) => string,
  ignoreArgs: readonly string[] = [],
): boolean {
  const a = multiset(candidateEffects, effectClassOf, ignoreArgs);
  const b = multiset(referenceEffects, effectClassOf, ignoreArgs);
  if (a.size !== b.size) return true;
  for (const [key, n] of a) if (b.get(key) !== n) return true;
  return false;
}

export interface ReviewSampleItem {
  traceId: string;
  /** Whether the candidate agreed with the reference; null when it reached no comparable outcome. */
  agree: boolean | null;
  /** Whether its compensable effects differ from the reference's (see `rollbackNeeded`); null when the reference's effects are not known. */
  rollback: boolean | null;
  /** The stratum the trace was drawn from, when the sample is stratified: the estimates are then weighted per stratum. */
  stratum?: string;
}

export interface ReviewSampleMetrics {
  /** Traces drawn into the review sample (with or without an outcome). */
  sampled: number;
  /**
   * Disagreements among sampled traces with an outcome. For a stratified sample this is the
   * population's rate as the sample estimates it: each stratum weighted by its share of the
   * population (`stratifiedErrorRate`), `successes` being the weighted count rate·n.
   */
  sampleErrorRate: RateMetric;
  /**
   * The sample's error rate as the population's, with the Wilson interval narrowed by the
   * finite-population correction √((N − n)/(N − 1)) (N: traces with an outcome, n: of them sampled).
   */
  populationErrorEstimate: { rate: number | null; ci95: [number, number] | null };
  /** Traces needing a rollback, over the traces with an outcome whose reference's effects are known (none known: a null rate, not 0). */
  rollbackFrequency: RateMetric;
  /** Traces with an outcome whose reference's effects are not known, left out of the rollback frequency (missing evidence for it). */
  rollbackUnknown: number;
  /** For a stratified sample: the raw (unweighted) sample rate beside the weighted one, and the strata it came from. */
  stratified?: {
    unweighted: RateMetric;
    effectiveN: number | null;
    unreviewedShare: number;
    strata: StratumCount[];
  };
}

export interface ReviewSampleOptions {
  /** Share of traces reviewed after the fact, in [0, 1]. */
  sampleRate: number;
  /** Seed of the deterministic sample (see `inSample`). */
  seed: number;
}

/**
 * Auto-with-review metrics: a deterministic sample (`inSample`, or a stratified draw made by the
 * caller) stands for the after-the-fact review, and every trace with an outcome whose reference's
 * effects are known counts towards the rollback frequency (one without them is no evidence either way). Items that carry a `stratum` make the error rate a post-stratified
 * estimate of the population's (`stratifiedErrorRate`), since a stratified draw over-represents
 * rare classes.
 * When to use: `phase: auto-with-review`. When not to use: to gate on agreement over all traces
 * (the shadow agreement rate has all of them, not a sample).
 * @example
 * const acc = createReviewSampleAccumulator({ sampleRate: 0.2, seed: 7 });
 * acc.add({ traceId: 't-1', agree: false, rollback: true });
 * acc.finish().rollbackFrequency.rate // 1
 */
export function createReviewSampleAccumulator({ sampleRate, seed }: ReviewSampleOptions) {
  let sampled = 0;
  let sampleDecided = 0;
  let sampleErrors = 0;
  let decided = 0;
  let rollbacks = 0;
  let rollbackKnown = 0;
  let rollbackUnknown = 0;
  const strata = new Map<string, StratumCount>();
  return {
    /** `inReview` decides membership of the sample where the caller drew it (stratified); otherwise the seeded hash does. */
    add({ traceId, agree, rollback, stratum, inReview: drawn }: ReviewSampleItem & { inReview?: boolean }): void {
      const inReview = drawn ?? inSample(traceId, sampleRate, seed);
      if (inReview) sampled++;
      // The caller adds only traces with an outcome: a rollback is judged on the effects, whether or not the reference has a decision.
      if (rollback === null) rollbackUnknown++;
      else {
        rollbackKnown++;
        if (rollback) rollbacks++;
      }
      if (agree === null) return;
      decided++;
      if (inReview) {
        sampleDecided++;
        if (!agree) sampleErrors++;
      }
      if (stratum !== undefined) {
        const h = strata.get(stratum) ?? { stratum, population: 0, sampled: 0, errors: 0 };
        strata.set(stratum, { ...h, population: h.population + 1, sampled: h.sampled + (inReview ? 1 : 0), errors: h.errors + (inReview && !agree ? 1 : 0) });
      }
    },
    finish(): ReviewSampleMetrics {
      const unweighted = rateMetric(sampleErrors, sampleDecided);
      const rollbackFrequency = rateMetric(rollbacks, rollbackKnown);
      if (strata.size === 0) return { sampled, sampleErrorRate: unweighted, populationErrorEstimate: populationEstimate(unweighted, decided), rollbackFrequency, rollbackUnknown };
      const counts = [...strata.values()].sort((a, b) => (a.stratum < b.stratum ? -1 : a.stratum > b.stratum ? 1 : 0));
      const estimate = stratifiedErrorRate(counts);
      return {
        sampled,
        sampleErrorRate: estimate.rate,
        populationErrorEstimate: estimate.population,
        rollbackFrequency,
        rollbackUnknown,
        stratified: { unweighted, effectiveN: estimate.effectiveN, unreviewedShare: estimate.unreviewedShare, strata: counts },
      };
    },
  };
}

/** Scales each side of the interval's distance from the point estimate by the finite-population correction. */
function populationEstimate({ rate, n, ci95 }: RateMetric, population: number): ReviewSampleMetrics['populationErrorEstimate'] {
  if (rate === null || ci95 === null) return { rate: null, ci95: null };
  // A census (n = N) knows the rate exactly.
  const fpc = n >= population ? 0 : Math.sqrt((population - n) / (population - 1));
  return { rate, ci95: [rate - (rate - ci95[0]) * fpc, rate + (ci95[1] - rate) * fpc] };
}
