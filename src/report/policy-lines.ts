import type { RunMetrics } from '../metrics/summary.js';
import type { Violation } from '../replay/guard.js';

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
