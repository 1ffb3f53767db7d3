import { PHASES } from '../phases/reversibility.js';
import type { SuitePhaseReport } from '../run/phase.js';
import { forTerminal } from './escape.js';
import { pct } from './format.js';
import { reversibilityTable, workflowCapText } from './reversibility-lines.js';

const MARK = { met: '✓', 'not-met': '✗', 'no-evidence': '–' } as const;

/** What `shadowgate phase` prints for one suite: the matrix, the evidence per rung, the phase allowed. Pure. */
export function renderPhaseReport(r: SuitePhaseReport): string {
  const t = r.thresholds;
  const lines = [
    `${r.suite} · candidate ${r.candidate} (${r.candidateHash.slice(0, 10)}) · ${r.runs} run(s) of it in the store${r.setAside.length ? ` that are evidence, ${r.setAside.length} that are not (${r.setAside.slice(0, 3).join(', ')}${r.setAside.length > 3 ? ', …' : ''}: their input not all read or judged, nothing compared, or judged under other rules)` : ''}${r.otherRuns ? `, ${r.otherRuns} of other candidates left aside` : ''}`,
    '',
    `  reversibility: workflow cap ${workflowCapText(r.matrix)}${r.usageRunId ? ` in run ${r.usageRunId}` : ''}`,
    ...reversibilityTable(r.matrix),
    '',
    `  evidence (the latest run of each phase; 95% Wilson bounds, at least ${t.minTraces} traces):`,
    ...r.steps.map((s) => `    ${MARK[s.status]} ${s.reason}`),
  ];
  if (r.shadowPeriod) {
    const p = r.shadowPeriod;
    lines.push(
      `    ${p.met ? MARK.met : MARK['not-met']} shadow period: ${p.runs} shadow run(s) over ${p.days === null ? 'no' : p.days.toFixed(1)} day(s); ${p.required.runs} run(s) over ${p.required.days} day(s) needed`,
    );
  }
  lines.push('', `  highest phase allowed: ${r.allowed}`, `    ${r.reason}`);
  if (PHASES.indexOf(r.suitePhase) > PHASES.indexOf(r.allowed)) {
    lines.push(`  warning: ${r.file} runs in ${r.suitePhase}, above what the evidence and the matrix allow`);
  }
  lines.push(`  thresholds: agreement lower bound ≥ ${pct(t.agreementMin)}, override rate upper bound ≤ ${pct(t.overrideRateMax)}, review sample error rate upper bound ≤ ${pct(t.sampleErrorRateMax)}`);
  // Every line one line: reasons and the workflow cap name tools and runs, which come from traces.
  return `${lines.map(forTerminal).join('\n')}\n`;
}
