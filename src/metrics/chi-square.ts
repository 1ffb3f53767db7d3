/** Name of the pooled column that sparse categories are merged into. */
export const OTHER_CATEGORY = '(other)';

/** Smallest expected cell count for the chi-square approximation to hold (Cochran's rule). */
const MIN_EXPECTED = 5;

export interface ChiSquareResult {
  /** Pearson's X² = Σ (observed − expected)² / expected over the 2×K cells. */
  statistic: number;
  /** K − 1, K counted after merging. */
  df: number;
  /** P(χ²(df) ≥ statistic): small means the two mixes differ by more than chance. */
  p: number;
  /** The sparse categories pooled into `(other)` (or, if the pool was still sparse, into the smallest category), sorted. */
  merged: string[];
}

/**
 * Chi-square test of homogeneity on the 2×K table of two count distributions (the
 * reference's tool-name counts in one row, the candidate's in the other): do both
 * come from the same mix? Expected cells are row total × column total / N. Categories
 * whose smaller expected cell is below 5 are pooled into `(other)`, and that pool, if
 * it is still below 5, into the smallest remaining category, so that no cell breaks
 * the approximation. Zero-count categories (on both sides) take no part.
 *
 * When to use: tool-call drift over a run, to tell whether a shift in the mix
 * (which Jensen–Shannon and PSI size but cannot judge) is more than sampling noise.
 * When not to use: counts that are not independent draws (calls within one trace are
 * correlated, so with many calls per trace p is too small: read it as a flag, not a
 * verdict); tiny samples where everything merges away (null); to size the shift (a
 * large N makes any shift significant; use JSD or PSI for the size).
 *
 * Returns null when either side has no counts or fewer than 2 categories remain.
 *
 * @example
 * chiSquareTest({ a: 30, b: 20, c: 10 }, { a: 20, b: 20, c: 20 })
 * // { statistic: 5.333, df: 2, p: 0.0695, merged: [] }
 */
export function chiSquareTest(
  expectedCounts: Record<string, number>,
  observedCounts: Record<string, number>,
): ChiSquareResult | null {
  const names = [...new Set([...Object.keys(expectedCounts), ...Object.keys(observedCounts)])].sort();
  const all = names
    .map((name) => ({ name, ref: expectedCounts[name] ?? 0, cand: observedCounts[name] ?? 0 }))
    .filter((col) => col.ref + col.cand > 0);
  const refTotal = all.reduce((s, col) => s + col.ref, 0);
  const candTotal = all.reduce((s, col) => s + col.cand, 0);
  if (refTotal === 0 || candTotal === 0) return null;
  const total = refTotal + candTotal;
  // A column's smaller expected cell is in the smaller row.
  const sparse = (col: { ref: number; cand: number }) => ((col.ref + col.cand) * Math.min(refTotal, candTotal)) / total < MIN_EXPECTED;

  const columns = all.filter((col) => !sparse(col));
  const pooled = all.filter(sparse);
  if (pooled.length > 0) {
    const other = {
      name: OTHER_CATEGORY,
      ref: pooled.reduce((s, col) => s + col.ref, 0),
      cand: pooled.reduce((s, col) => s + col.cand, 0),
    };
    if (!sparse(other)) columns.push(other);
    else if (columns.length > 0) {
      const smallest = columns.reduce((min, col) => (col.ref + col.cand < min.ref + min.cand ? col : min));
      smallest.ref += other.ref;
      smallest.cand += other.cand;
    }
  }
  if (columns.length < 2) return null;

  let statistic = 0;
  for (const col of columns) {
    const colTotal = col.ref + col.cand;
    for (const [observed, rowTotal] of [[col.ref, refTotal], [col.cand, candTotal]] as const) {
      const expected = (rowTotal * colTotal) / total;
      statistic += (observed - expected) ** 2 / expected;
    }
  }
  const df = columns.length - 1;
  return { statistic, df, p: chiSquareSurvival(statistic, df), merged: pooled.map((col) => col.name) };
}

/**
 * P(χ²(df) ≥ x), the chi-square survival function: Q(df/2, x/2), the regularised upper
 * incomplete gamma function.
 *
 * @example
 * chiSquareSurvival(3.841459, 1) // 0.05
 */
export function chiSquareSurvival(x: number, df: number): number {
  return regularizedGammaQ(df / 2, x / 2);
}

const EPS = 1e-16;
const FPMIN = 1e-300;
const MAX_ITERATIONS = 10_000;

/**
 * Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0 (Numerical Recipes' gammq): the series for
 * P = 1 − Q where it converges fast (x < a + 1), the continued fraction for Q elsewhere,
 * so that a small Q is never computed as 1 minus something close to 1.
 * @internal
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    // P(a, x) = e^−x x^a / Γ(a) · Σ_n x^n / (a (a+1) … (a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * front));
  }
  // Q(a, x) = e^−x x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))), by modified Lentz.
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.min(1, Math.max(0, front * h));
}

// Lanczos approximation, g = 7, n = 9: relative error about 1e−15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** ln Γ(x) for x > 0. @internal */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

export type PsiBand = 'stable' | 'moderate' | 'major';

/**
 * The usual reading of a population stability index: below 0.1 stable, 0.1 to 0.25
 * a moderate shift, above 0.25 a major one.
 *
 * When to use: to label a PSI in a report. When not to use: as a significance test
 * (PSI has no notion of sample size; use chiSquareTest).
 *
 * @example
 * psiBand(0.27) // 'major'
 */
export function psiBand(psi: number): PsiBand {
  if (psi < 0.1) return 'stable';
  return psi <= 0.25 ? 'moderate' : 'major';
}
