/** z for a two-sided 95% normal interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of a proportion.
 * When to use: any rate over n independent yes/no outcomes (agreement, error rate),
 * especially small n or rates near 0 or 1, where the normal interval breaks down.
 * When not to use: paired comparisons of two runs (use McNemar on the flips).
 * Returns null for n = 0: no evidence is not an interval.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At p = 0 or 1 the bound is exactly 0 or 1; floating point would give 0.9999999999999999.
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}

/** Normalises counts over the union of keys of both distributions. */
function probabilities(a: Record<string, number>, b: Record<string, number>) {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const total = (c: Record<string, number>) => Object.values(c).reduce((s, v) => s + v, 0);
  const ta = total(a);
  const tb = total(b);
  return { keys, ta, tb, p: keys.map((k) => (a[k] ?? 0) / ta), q: keys.map((k) => (b[k] ?? 0) / tb) };
}

/**
 * Jensen–Shannon divergence (base 2, so in [0, 1]) between two count distributions.
 * When to use: how far the mix of tool calls moved, symmetric and finite even when
 * a tool appears on one side only. When not to use: to decide significance (it has
 * no sample-size notion); pair it with a test.
 * Returns null when either side has no counts.
 */
export function jensenShannon(a: Record<string, number>, b: Record<string, number>): number | null {
  const { ta, tb, p, q } = probabilities(a, b);
  if (ta === 0 || tb === 0) return null;
  let js = 0;
  p.forEach((pi, i) => {
    const qi = q[i]!;
    const m = (pi + qi) / 2;
    if (pi > 0) js += 0.5 * pi * Math.log2(pi / m);
    if (qi > 0) js += 0.5 * qi * Math.log2(qi / m);
  });
  return Math.min(1, Math.max(0, js));
}

/**
 * Population stability index of `actual` against `expected` (natural log). Empty
 * categories are floored at `epsilon` so that a new or vanished tool gives a large,
 * finite value. Usual reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major.
 */
export function populationStabilityIndex(
  expected: Record<string, number>,
  actual: Record<string, number>,
  epsilon = 1e-4,
): number | null {
  const { ta, tb, p, q } = probabilities(expected, actual);
  if (ta === 0 || tb === 0) return null;
  let psi = 0;
  p.forEach((e, i) => {
    const ei = Math.max(e, epsilon);
    const ai = Math.max(q[i]!, epsilon);
    psi += (ai - ei) * Math.log(ai / ei);
  });
  return psi;
}

/** Levenshtein edit distance between two sequences (insert, delete, substitute cost 1). */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * 1 − Levenshtein distance / length of the longer sequence: 1 for identical
 * sequences (two empty ones included), 0 for nothing in common.
 */
export function sequenceSimilarity<T>(a: readonly T[], b: readonly T[]): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - levenshtein(a, b) / longest;
}

/** The q-quantile (0..1) by linear interpolation between closest ranks; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
