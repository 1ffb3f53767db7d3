import { InternalError } from '../errors.js';
import { Z95 } from './stats.js';

/**
 * How many traces a gate needs: the smallest suite in which a threshold can be met at all,
 * and the sample size at which a check detects a given drop in agreement with a given
 * power. Pure arithmetic on rates; the `plan` command and the gate's reasons read it.
 *
 * Notation: α the one-sided significance level, 1 − β the power, z_q the q-quantile of the
 * standard normal, δ the drop in agreement (a rate, 0.05 = five points).
 */

/**
 * The q-quantile of the standard normal distribution (Wichura's algorithm AS 241,
 * PPND16: relative error about 1e-16 over (0, 1)).
 * @example normalQuantile(0.975) // 1.959963984540054
 */
export function normalQuantile(q: number): number {
  if (!(q > 0 && q < 1)) throw new InternalError(`normalQuantile: q must lie in (0, 1), got ${q}`);
  const r0 = q - 0.5;
  if (Math.abs(r0) <= 0.425) {
    const r = 0.180625 - r0 * r0;
    return (
      (r0 *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r +
          3.387132872796366608)) /
      (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1)
    );
  }
  let r = Math.sqrt(-Math.log(r0 < 0 ? q : 1 - q));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    z =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1);
  }
  return r0 < 0 ? -z : z;
}

/**
 * The fewest traces whose Wilson lower bound can reach `min`: with all n traces agreeing
 * the Wilson lower bound is n / (n + z²), so n ≥ min·z² / (1 − min). Below it a
 * lower-bound check cannot pass whatever the candidate does: too few traces, not a
 * failing candidate. Null when no n suffices (min = 1).
 * @example tracesForLowerBound(0.85) // 22: 20/20 gives 20/23.84 = 0.839, 22/22 gives 0.851
 */
export function tracesForLowerBound(min: number, z = Z95): number | null {
  if (min >= 1) return null;
  if (min <= 0) return 1;
  return smallestInteger((min * z * z) / (1 - min), (n) => n / (n + z * z) >= min);
}

/**
 * The fewest items whose Wilson upper bound can stay within `max`: with none of n items
 * failing the upper bound is z² / (n + z²), so n ≥ z²·(1 − max) / max. Null when no n
 * suffices (max = 0).
 * @example tracesForUpperBound(0.05) // 73
 */
export function tracesForUpperBound(max: number, z = Z95): number | null {
  if (max <= 0) return null;
  if (max >= 1) return 1;
  return smallestInteger((z * z * (1 - max)) / max, (n) => (z * z) / (n + z * z) <= max);
}

/** The smallest integer n ≥ 1 with ok(n), starting from a real-valued estimate that floating point may have put a step off. */
function smallestInteger(estimate: number, ok: (n: number) => boolean): number {
  let n = Math.max(1, Math.ceil(estimate));
  while (!ok(n)) n++;
  while (n > 1 && ok(n - 1)) n--;
  return n;
}

export interface PairedDesign {
  /** The drop in agreement to detect, δ = P(regression) − P(fix) per trace. */
  drop: number;
  /**
   * The share of traces that flip between two runs of an unchanged candidate, ψ₀ (its
   * noise floor's self-disagreement). The candidate with the drop is taken to flip
   * ψ = ψ₀ + δ of the traces: the noise's flips both ways, plus δ more regressions.
   */
  discordance: number;
  /** One-sided level of the McNemar test. @default 0.05 */
  alpha?: number;
  /** @default 0.8 */
  power?: number;
}

/**
 * Traces needed for the one-sided McNemar test on paired traces (baseline and candidate
 * run on the same traces) to detect a drop δ with the given power (Connor 1987, the usual
 * sample size of the McNemar test):
 *
 *   n = ⌈ (z_{1−α}·√ψ + z_{1−β}·√(ψ − δ²))² / δ² ⌉,  ψ = ψ₀ + δ.
 *
 * Pairing removes the traces both runs get right or both get wrong, so with little noise
 * (small ψ₀) a drop shows on a few hundred traces where two independent samples would
 * need thousands. A normal approximation: at the smallest sizes (a handful of expected
 * flips) the exact test's power differs by a few points.
 * @example pairedTracesNeeded({ drop: 0.05, discordance: 0.1 }) // 369
 */
export function pairedTracesNeeded({ drop, discordance, alpha = 0.05, power = 0.8 }: PairedDesign): number {
  checkDesign(drop, alpha, power);
  const psi = Math.min(1, discordance + drop);
  const n = (normalQuantile(1 - alpha) * Math.sqrt(psi) + normalQuantile(power) * Math.sqrt(Math.max(0, psi - drop * drop))) ** 2 / (drop * drop);
  return Math.ceil(n);
}

export interface OneSampleDesign {
  /** The agreement before the drop, p₀. */
  rate: number;
  drop: number;
  /** @default 0.05 */
  alpha?: number;
  /** @default 0.8 */
  power?: number;
}

/**
 * Traces needed to detect that agreement fell from a known rate p₀ to p₁ = p₀ − δ with a
 * one-sided test on one sample (the textbook size for a single proportion):
 *
 *   n = ⌈ (z_{1−α}·√(p₀(1 − p₀)) + z_{1−β}·√(p₁(1 − p₁)))² / δ² ⌉.
 *
 * This is what an agreement threshold needs when it stands alone, without a baseline run
 * of the same traces to pair with: every trace's own variance counts, not only the flips.
 * @example oneSampleTracesNeeded({ rate: 0.9, drop: 0.05 }) // 253
 */
export function oneSampleTracesNeeded({ rate, drop, alpha = 0.05, power = 0.8 }: OneSampleDesign): number | null {
  checkDesign(drop, alpha, power);
  const after = rate - drop;
  if (after < 0) return null;
  const n = (normalQuantile(1 - alpha) * Math.sqrt(rate * (1 - rate)) + normalQuantile(power) * Math.sqrt(after * (1 - after))) ** 2 / (drop * drop);
  return Math.max(1, Math.ceil(n));
}

function checkDesign(drop: number, alpha: number, power: number): void {
  if (!(drop > 0 && drop <= 1)) throw new InternalError(`power: drop must lie in (0, 1], got ${drop}`);
  if (!(alpha > 0 && alpha < 1)) throw new InternalError(`power: alpha must lie in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new InternalError(`power: power must lie in (0, 1), got ${power}`);
}
