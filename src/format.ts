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
