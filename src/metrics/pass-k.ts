import { InternalError } from '../errors.js';

/** One case run n times, c of which succeeded (agreed with the reference). */
export interface CaseTrials {
  n: number;
  c: number;
}

/**
 * pass^k (tau-bench): the chance that k trials of the same case, drawn without
 * replacement from its n, all succeed, averaged over cases: mean of C(c, k) / C(n, k).
 * pass^1 is the plain success rate; pass^k falls as k grows unless the candidate is
 * consistent, so it measures reliability where pass@k measures capability.
 *
 * When to use: a run with `trials: k` or more per case, to ask "would a user who runs
 * this k times be served every time?". When not to use: one trial per case (it is the
 * agreement rate); comparing values for different k (it falls with k by construction);
 * cases with fewer than k trials, which are left out rather than guessed.
 *
 * Returns null when no case has at least k trials.
 *
 * @example
 * passHatK([{ n: 4, c: 3 }], 2) // C(3,2)/C(4,2) = 3/6 = 0.5
 */
export function passHatK(perCase: readonly CaseTrials[], k: number): number | null {
  if (!Number.isInteger(k) || k < 1) throw new InternalError(`passHatK: k must be a positive integer, got ${k}`);
  let sum = 0;
  let cases = 0;
  for (const { n, c } of perCase) {
    if (!Number.isInteger(n) || !Number.isInteger(c) || c < 0 || c > n) {
      throw new InternalError(`passHatK: a case needs integers 0 ≤ c ≤ n, got c = ${c}, n = ${n}`);
    }
    if (n < k) continue;
    // C(c, k) / C(n, k) = Π_{i<k} (c − i) / (n − i): no large binomials, and 0 as soon as c < k.
    let ratio = 1;
    for (let i = 0; i < k && ratio > 0; i++) ratio *= (c - i) / (n - i);
    sum += ratio;
    cases++;
  }
  return cases === 0 ? null : sum / cases;
}

/**
 * Share of a case's n trials that agree with its majority outcome: max(c, n − c) / n,
 * from ½ (a coin flip) to 1 (always the same outcome).
 *
 * When to use: the noise floor of a nondeterministic candidate, per case, whether it
 * is consistently right or consistently wrong. When not to use: as a quality measure
 * (a candidate that always fails is perfectly consistent); use pass^k for that.
 *
 * Returns null for n = 0.
 *
 * @example
 * consistency(3, 4) // 0.75
 */
export function consistency(c: number, n: number): number | null {
  if (c < 0 || c > n) throw new InternalError(`consistency: needs 0 ≤ c ≤ n, got c = ${c}, n = ${n}`);
  return n === 0 ? null : Math.max(c, n - c) / n;
}
