import type { RunMetrics } from '../metrics/summary.js';
import { counts, interval, num, pct } from './format.js';

/**
 * The headline figures of the run's phase, as label and text pairs, for every report
 * (terminal, Markdown, HTML), which lead with them before the shadow figures (agreement,
 * drift): in a suggest, auto-with-review or auto run they are what the phase is judged on.
 * A simulated review says so. Nothing for a shadow run. Pure.
 */
export function phaseLines(m: RunMetrics): [string, string][] {
  const p = m.phase;
  if (!p) return [];
  if ('suggest' in p) {
    const s = p.suggest;
    return [
      ['suggest', `${s.reviewed} reviewed${s.simulated ? ` (${s.simulated} simulated against the human decision)` : ''}: acceptance ${pct(s.acceptanceRate.rate)}, override rate ${pct(s.overrideRate.rate)} ${interval(s.overrideRate.ci95, pct)} (${s.edited} edited, ${s.rejected} rejected)`],
      ['', `mean edit distance ${num(s.meanEditDistance)} · reviewer time saved ${s.reviewerTimeSavedMs === null ? 'n/a' : `${(s.reviewerTimeSavedMs / 60_000).toFixed(1)} min`}`],
    ];
  }
  if ('auto' in p) {
    const a = p.auto;
    return [
      ['auto', `within the SLA ${pct(a.slaAdherence.rate)}${a.slaAdherence.n ? ` ${interval(a.slaAdherence.ci95, pct)}` : ' (no sla.latencyMs set)'} · cost trend ${costTrendText(a.costTrend)} · completion ${pct(a.completionRate.rate)}`],
    ];
  }
  const r = p.autoWithReview;
  return [
    ['review sample', `${r.sampled} sampled: error rate ${pct(r.sampleErrorRate.rate)} ${interval(r.sampleErrorRate.ci95, pct)}${r.stratified ? ` weighted by decision class (the raw sample's ${pct(r.stratified.unweighted.rate)})` : ''}; population estimate ${interval(r.populationErrorEstimate.ci95, pct)}`],
    ['rollback', `${pct(r.rollbackFrequency.rate)} of traces made effects someone would have to compensate (${counts(r.rollbackFrequency)})`],
  ];
}

/**
 * The phase's headline figures in one short phrase, for a report's first line
 * ("acceptance 92.0% · override rate 8.0%"); null for a shadow run. Pure.
 */
export function phaseHeadline(m: RunMetrics): string | null {
  const p = m.phase;
  if (!p) return null;
  if ('suggest' in p) return `acceptance ${pct(p.suggest.acceptanceRate.rate)} · override rate ${pct(p.suggest.overrideRate.rate)}`;
  if ('auto' in p) return `SLA adherence ${pct(p.auto.slaAdherence.rate)} · cost trend ${costTrendText(p.auto.costTrend)}`;
  return `sample error rate ${pct(p.autoWithReview.sampleErrorRate.rate)} · rollback frequency ${pct(p.autoWithReview.rollbackFrequency.rate)}`;
}

/** Cost per run against the baseline's, or why there is no trend to show. */
function costTrendText(t: { ratio: number | null } | null): string {
  if (t === null) return 'n/a (needs --baseline)';
  return t.ratio === null ? 'n/a (no priced cost on both sides)' : `${t.ratio.toFixed(2)}× the baseline's cost per run`;
}
