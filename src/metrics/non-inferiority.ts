import { InternalError } from '../errors.js';
import { mcnemarMidP } from './paired.js';
import { normalQuantile } from './power.js';
import { Z95 } from './stats.js';

/**
 * Tango's asymptotic score interval for the paired drop in agreement,
 * d = (regressions − fixes) / pairs: the difference between the baseline's agreement and
 * the candidate's over the same traces (Tango 1998, "Equivalence test and confidence
 * interval for the difference in proportions for the paired-sample design").
 *
 * Why this interval: it needs only the flips both ways and the number of pairs, which is
 * what a paired run carries; it inverts the score test whose statistic at d = 0 is
 * McNemar's, so it agrees with the test the gate fails on; and it stays sound where the
 * Wald interval breaks down (with no flips at all the Wald interval has zero width, while
 * this one's upper end is z² / (n + z²), Wilson's for zero events). Fagerland, Lydersen and
 * Laake (2014, "Recommended tests and confidence intervals for paired binomial
 * proportions") recommend it among the asymptotic intervals for its coverage near the
 * nominal level at the sample sizes a suite has. Newcombe's hybrid score interval, the
 * other closed-form choice, needs the baseline's agreement over the pairs as well.
 *
 * The score statistic for a hypothesised drop Δ is
 *   T(Δ) = (b − c − nΔ) / √(n·(2·p̃₂₁ + Δ(1 − Δ))),
 * with p̃₂₁ the maximum-likelihood share of fixes under Δ, the root of
 *   2n·p² + (−b − c + (2n − b + c)Δ)·p − cΔ(1 − Δ) = 0;
 * the interval is the Δ with |T(Δ)| ≤ z, found by bisection (T falls as Δ grows).
 *
 * Returns null without pairs.
 * @example pairedDropInterval(0, 0, 200) // [-0.0188…, 0.0188…]: z² / (200 + z²) either way
 */
export function pairedDropInterval(regressions: number, fixes: number, pairs: number, z = Z95): [number, number] | null {
  for (const [name, v] of [['regressions', regressions], ['fixes', fixes], ['pairs', pairs]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new InternalError(`pairedDropInterval: ${name} must be a non-negative integer, got ${v}`);
  }
  if (regressions + fixes > pairs) throw new InternalError(`pairedDropInterval: ${regressions} regressions and ${fixes} fixes exceed ${pairs} pairs`);
  if (pairs === 0) return null;
  const score = (delta: number) => {
    const b = -regressions - fixes + (2 * pairs - regressions + fixes) * delta;
    const c = -fixes * delta * (1 - delta);
    const p21 = (Math.sqrt(Math.max(0, b * b - 8 * pairs * c)) - b) / (4 * pairs);
    return (regressions - fixes - pairs * delta) / Math.sqrt(pairs * (2 * p21 + delta * (1 - delta)));
  };
  const estimate = (regressions - fixes) / pairs;
  const lower = estimate === -1 ? -1 : root((d) => score(d) - z, -1, estimate);
  const upper = estimate === 1 ? 1 : root((d) => score(d) + z, estimate, 1);
  return [lower, upper];
}

/** The root of a decreasing f on (lo, hi), by bisection to the last representable digit. */
function root(f: (x: number) => number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    // Outside (−1, 1) the statistic is undefined; the ends count as beyond the root.
    const v = mid <= -1 ? Infinity : mid >= 1 ? -Infinity : f(mid);
    if (v > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface NonInferiorityInput {
  /** Pairs that agreed in the baseline and disagree now. */
  regressions: number;
  /** Pairs that disagreed in the baseline and agree now. */
  fixes: number;
  /** Traces decided in both runs. */
  pairs: number;
  /** The largest drop in agreement accepted as "no worse", a rate (0.05 = five points). */
  margin: number;
  /** One-sided level of the McNemar test that fails the check. @default 0.05 */
  alpha?: number;
}

export interface NonInferiorityJudgement {
  status: 'pass' | 'fail' | 'inconclusive';
  /** The upper end of the 95% interval of the paired drop: what the margin is compared with. */
  upper: number;
  /** A sentence with the numbers, for the report. */
  reason: string;
}

/**
 * Non-inferiority on paired traces: a candidate that behaves like its baseline passes even
 * when it is nondeterministic, a real drop fails, and what lies between is inconclusive.
 *
 * - pass: the upper end of the 95% interval of the paired drop (pairedDropInterval) is
 *   below the margin: the candidate is shown to be at most `margin` worse. A drop shown to
 *   be within the margin passes even when it is significant: the margin is what the suite
 *   accepts, and the reason says so.
 * - fail: otherwise, when the one-sided exact McNemar test (mid-p, as judgeRegressions)
 *   finds a significant drop at `alpha`.
 * - inconclusive: neither; the reason gives the traces that would settle it for an
 *   unchanged candidate with the flips seen here (tracesForMargin).
 *
 * @example
 * judgeNonInferiority({ regressions: 9, fixes: 11, pairs: 400, margin: 0.05 }).status // 'pass'
 */
export function judgeNonInferiority(input: NonInferiorityInput): NonInferiorityJudgement {
  const { regressions, fixes, pairs, margin, alpha = 0.05 } = input;
  const [lo, hi] = pairedDropInterval(regressions, fixes, pairs)!;
  const drop = (regressions - fixes) / pairs;
  const counted = `${regressions} regression(s) against ${fixes} fix(es) over ${pairs} paired traces: drop in agreement ${points(drop)} (95% interval ${points(lo)} to ${points(hi)})`;
  const p = mcnemarMidP(regressions, fixes);
  const significant = p !== null && p < alpha;
  const test = p === null ? 'no flips' : `McNemar mid-p ${formatP(p)}`;
  if (hi < margin) {
    return {
      status: 'pass',
      upper: hi,
      reason: `${counted}; its upper end is below the margin of ${points(margin)}${significant ? `, though the drop is significant (${test}, alpha ${alpha})` : ''}`,
    };
  }
  if (significant) {
    return { status: 'fail', upper: hi, reason: `${counted}: a significant drop (${test}, below alpha ${alpha})` };
  }
  const needed = tracesForMargin({ discordance: (regressions + fixes) / pairs, margin });
  return {
    status: 'inconclusive',
    upper: hi,
    reason: `${counted}; its upper end reaches the margin of ${points(margin)} and the drop is not significant (${test}, alpha ${alpha}): with flips at this rate, about ${needed} paired traces would show an unchanged candidate within the margin`,
  };
}

export interface MarginDesign {
  /** The share of traces that flip between two runs of an unchanged candidate, ψ₀. */
  discordance: number;
  margin: number;
  /** The chance that an unchanged candidate passes. @default 0.8 */
  power?: number;
  /** The interval's two-sided level. @default 0.95 */
  confidence?: number;
}

/**
 * Paired traces needed for an unchanged candidate (true drop 0, flips ψ₀ both ways) to pass
 * a non-inferiority margin m with the given power: the sample size of the score test of
 * H₀: drop ≥ m on paired proportions (Nam 1997; Liu et al. 2002), which is the test the
 * interval's upper end inverts. The observed drop is about normal with variance ψ₀ / n; the
 * check passes when it lies z_{(1+c)/2}·√(V / n) below m, with V = 2p̃₂₁ + m(1 − m) the
 * variance under H₀ at the counts expected (p̃₂₁ as in pairedDropInterval, with b = c = nψ₀/2):
 *
 *   p̃₂₁ = (√((2m − ψ₀)² + 4ψ₀m(1 − m)) − (2m − ψ₀)) / 4,
 *   n = ⌈ (z_{(1+c)/2}·√V + z_{power}·√ψ₀)² / m² ⌉.
 *
 * With no flips at all (ψ₀ = 0) this is z²(1 − m) / m, the traces whose upper end with no
 * flips, z² / (n + z²), falls below m. The tighter the margin, the more traces: halving it
 * about quadruples them.
 * @example tracesForMargin({ discordance: 0.1, margin: 0.08, power: 0.95 }) // 240
 */
export function tracesForMargin({ discordance, margin, power = 0.8, confidence = 0.95 }: MarginDesign): number | null {
  if (!(margin > 0)) return null;
  if (margin >= 1) return 1;
  const z = normalQuantile((1 + confidence) / 2);
  const m = margin;
  const psi = Math.max(0, discordance);
  const p21 = (Math.sqrt((2 * m - psi) ** 2 + 4 * psi * m * (1 - m)) - (2 * m - psi)) / 4;
  const v = 2 * p21 + m * (1 - m);
  const n = (z * Math.sqrt(v) + normalQuantile(power) * Math.sqrt(psi)) ** 2 / (m * m);
  return Math.max(1, Math.ceil(n - 1e-9));
}

/**
 * The margin an unchanged candidate passes with the given power on n paired traces, flips
 * ψ₀ both ways: the smallest m with tracesForMargin(ψ₀, m) ≤ n. This is the margin to
 * recommend for a suite of n traces: a tighter one fails unchanged candidates more often.
 * @example marginForTraces({ discordance: 0.1, traces: 200, power: 0.95 }) // about 0.089
 */
export function marginForTraces({ discordance, traces, power = 0.8, confidence = 0.95 }: Omit<MarginDesign, 'margin'> & { traces: number }): number {
  if (!(traces >= 1)) throw new InternalError(`marginForTraces: traces must be at least 1, got ${traces}`);
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if ((tracesForMargin({ discordance, margin: mid, power, confidence }) ?? Infinity) <= traces) hi = mid;
    else lo = mid;
  }
  return hi;
}

const points = (x: number) => `${(x * 100).toFixed(1)} pts`;

function formatP(p: number): string {
  return p < 1e-4 ? '< 0.0001' : `= ${Number(p.toPrecision(2))}`;
}
