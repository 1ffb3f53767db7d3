import type { Counts } from '../metrics/summary.js';

export { interval, ms, num, pct, pp, pValue, usd } from '../format.js';

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
