import type { RunMetrics } from '../metrics/summary.js';
import { interval, num, pct } from './format.js';

/**
 * The headline figures of the run's phase, as label and text pairs, for every report
 * (terminal, Markdown, HTML). A simulated review says so. Pure.
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
      ['auto', `within the SLA ${pct(a.slaAdherence.rate)}${a.slaAdherence.n ? ` ${interval(a.slaAdherence.ci95, pct)}` : ' (no sla.latencyMs set)'} · completion ${pct(a.completionRate.rate)}${a.costTrend?.ratio != null ? ` · cost per run ${a.costTrend.ratio.toFixed(2)}× the baseline's` : ''}`],
    ];
  }
  const r = p.autoWithReview;
  return [
    ['review sample', `${r.sampled} sampled: error rate ${pct(r.sampleErrorRate.rate)} ${interval(r.sampleErrorRate.ci95, pct)}${r.stratified ? ` weighted by decision class (the raw sample's ${pct(r.stratified.unweighted.rate)})` : ''}; population estimate ${interval(r.populationErrorEstimate.ci95, pct)}`],
    ['rollback', `${pct(r.rollbackFrequency.rate)} of traces made effects someone would have to compensate (${r.rollbackFrequency.successes}/${r.rollbackFrequency.n})`],
  ];
}

