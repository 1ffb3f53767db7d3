import type { Counts } from '../metrics/summary.js';

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
 * The traces counted apart from the completed ones, as the run summaries word them
 * (`3 escalated`, `200 no reference decision`): a trace whose reference has no decision is
 * still compared by its effects where the reference has actions. Pure.
 */
export function countsApart(c: Counts): string[] {
  const rows: [string, number][] = [
    ['escalated', c.escalated], ['failed', c.failed], ['aborted', c.aborted], ['diverged', c.diverged], ['budget stopped', c.budgetExceeded],
    ['loop stopped', c.loopDetected], ['invalid output', c.invalidOutput], ['errored', c.errored], ['unpaired', c.unpaired], ['no reference decision', c.noReference],
  ];
  return rows.filter(([, n]) => n !== 0).map(([k, n]) => `${n} ${k}`);
}
