import type { Counts, NoOutcomeTally } from '../metrics/summary.js';

/**
 * How many traces a run replayed, said the same way in every output: `480 traces`, or with
 * trials `480 traces × 3 trials` (never the 1,440 runs as if they were traces). Falls back to
 * the runs when they do not divide evenly (a run whose trials are not all in). Pure.
 */
export function tracesRun(total: number, trials: number): string {
  if (trials <= 1) return `${total} traces`;
  return total % trials === 0 ? `${total / trials} traces × ${trials} trials` : `${total} runs of ${trials} trials per trace`;
}

export { counts, interval, ms, num, pct, pp, pValue, usd } from '../format.js';

/**
 * The traces counted apart from the completed ones, as the run summaries word them
 * (`3 escalated`, `200 no reference decision`): a trace whose reference has no decision is
 * still compared by its effects where the reference has actions. Pure.
 */
export function countsApart(c: Omit<Counts, 'noOutcome'>): string[] {
  const rows: [string, number][] = [
    ['escalated', c.escalated], ['failed', c.failed], ['aborted', c.aborted], ['diverged', c.diverged], ['budget stopped', c.budgetExceeded],
    ['loop stopped', c.loopDetected], ['invalid output', c.invalidOutput], ['errored', c.errored], ['unpaired', c.unpaired], ['no reference decision', c.noReference],
  ];
  return rows.filter(([, n]) => n !== 0).map(([k, n]) => `${n} ${k}`);
}

/**
 * The traces without an outcome and why, one phrase per cause: "317 by the candidate
 * (300 diverged, 17 errored: CANDIDATE_THREW 17)", "3 by the infrastructure, not counted
 * (3 errored: PROVIDER_HTTP_503 3)". Empty when every trace reached an outcome (or the
 * counts come from a run too old to say). Pure.
 */
export function noOutcomeApart(c: Pick<Counts, 'noOutcome'> | Partial<Pick<Counts, 'noOutcome'>>): string[] {
  if (!c.noOutcome) return [];
  const why = (t: NoOutcomeTally) => {
    const codes = Object.entries(t.codes).sort(([, a], [, b]) => b - a).map(([code, n]) => `${code} ${n}`).join(', ');
    const rows: [string, number][] = [['diverged', t.diverged], ['budget stopped', t.budgetExceeded], ['loop stopped', t.loopDetected], ['invalid output', t.invalidOutput], ['errored', t.errored]];
    return rows.filter(([, n]) => n > 0).map(([k, n]) => (k === 'errored' && codes ? `${n} ${k}: ${codes}` : `${n} ${k}`)).join(', ');
  };
  const { candidate, infrastructure } = c.noOutcome;
  return [
    candidate.traces ? `${candidate.traces} by the candidate, counted as not agreeing (${why(candidate)})` : '',
    infrastructure.traces ? `${infrastructure.traces} by the infrastructure, missing evidence (${why(infrastructure)})` : '',
  ].filter(Boolean);
}
