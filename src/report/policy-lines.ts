import type { RunMetrics } from '../metrics/summary.js';
import type { Violation } from '../replay/guard.js';
import { counts, pct } from './format.js';

/**
 * The harness's own safety checks and the injection figure, as a label and text pair for
 * every report; nothing when no trace broke one and none was tagged `injection`. Pure.
 */
export function safetyLines(m: RunMetrics): [string, string][] {
  const s = m.safetyViolations;
  const i = m.injectionFailures;
  const runLevel = s.runLevel ?? [];
  if (s.traces === 0 && i.n === 0 && runLevel.length === 0) return [];
  const protocol = s.protocolViolations ? `, ${s.protocolViolations} refused message(s) from the candidate's processes` : '';
  const sandbox = (s.deniedCapabilities ?? 0) > 0 || (s.strayRequests ?? 0) > 0 || protocol ? `, ${s.deniedCapabilities} denied capability(ies), ${s.strayRequests} stray request(s)${protocol}` : '';
  return [
    [
      'safety',
      `${s.schemaViolations} schema violation(s), ${s.duplicateEffects} duplicate effect(s), ${s.blockedRequests} blocked request(s)${sandbox} on ${s.traces} trace(s); injection failures ${pct(i.rate)} (${counts(i)})`,
    ],
    ...runLevel.slice(0, 10).map((v) => ['', `outside any trace${v.startedBy ? ` (started by ${v.startedBy})` : ''}: ${v.message}`] as [string, string]),
    ...(runLevel.length > 10 ? [['', `… and ${runLevel.length - 10} more outside any trace`] as [string, string]] : []),
  ];
}

/**
 * The suite's policy breaches as label and text pairs, for every report (terminal,
 * Markdown, HTML): the total, then each rule that was broken. Nothing without a policy. Pure.
 */
export function policyLines(m: RunMetrics): [string, string][] {
  const p = m.policyViolations;
  if (!p) return [];
  const rules = Object.keys(p.byRule).length;
  if (p.total === 0) return [['policy', `no breach of the ${rules} rule(s)`]];
  const broken = Object.entries(p.byRule).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return [
    ['policy', `${p.total} breach(es) on ${p.traces} trace(s), ${broken.length} of ${rules} rule(s) broken`],
    ...broken.map(([id, n]) => ['', `${id}: ${n}`] as [string, string]),
  ];
}

/** One violation on a trace, as a line: the rule (or the kind of check) and the step (numbered from `firstStep`, as the report lists them), then why. */
export function violationText(v: Violation, firstStep = 1): string {
  const what = v.kind === 'policy_violation' && v.rule ? `policy rule ${v.rule}` : v.kind.replace(/_/g, ' ');
  return `${what} at step ${v.step + firstStep}${v.tool ? ` (${v.tool})` : ''}: ${v.message}`;
}
