/*
 * Number formatting shared by the reports and by the pure modules that word their reasons
 * (promotion rungs, drift checks, matcher messages): a leaf module with no imports.
 */

/** How figures read in every report: absent data is "n/a", never a made-up zero. Pure. */
export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
/** A difference of two rates, in percentage points. */
export const pp = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)} pp`);
export const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));
export const usd = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'n/a' : `$${x < 0.01 ? x.toFixed(5) : x.toFixed(4)}`;
export const ms = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'n/a' : x < 10 ? `${x.toFixed(2)} ms` : `${Math.round(x)} ms`;
/** A p-value to two significant digits; below 0.0001 more digits mean nothing to a reader. */
export const pValue = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : x < 1e-4 ? '< 0.0001' : String(Number(x.toPrecision(2))));
export const interval = (ci: [number, number] | null | undefined, f: (x: number) => string): string => (ci ? `[${f(ci[0])}, ${f(ci[1])}]` : 'n/a');

/**
 * The counts behind a rate, always whole numbers: `391/480`; with trials, whose shares sum to
 * a fraction of a case, the trials behind them (`8/15 trials over 5 cases`); a weighted
 * estimate with no whole count behind it, rounded and said to be (`≈12/40 weighted`). Pure.
 */
export const counts = (m: { successes: number; n: number; trials?: { successes: number; n: number } }): string => {
  if (Number.isInteger(m.successes)) return `${m.successes}/${m.n}`;
  if (m.trials) return `${m.trials.successes}/${m.trials.n} trials over ${m.n} cases`;
  return `≈${Math.round(m.successes)}/${m.n} weighted`;
};
