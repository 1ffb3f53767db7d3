import type { PolicyViolationCounts } from '../metrics/policy-violations.js';
import type { GateConfig } from '../suite/schema.js';
import type { GateCheck } from './gate.js';

/**
 * The gate's checks on policy breaches: `policyViolations` on the total (its reason names
 * the rules broken), and `policy:<id>` for each rule given its own maximum. Without counts
 * (a run stored before the suite had a policy) each check is inconclusive.
 */
export function policyChecks(config: NonNullable<GateConfig['policyViolations']>, counts: PolicyViolationCounts | undefined): GateCheck[] {
  const checks: GateCheck[] = [];
  const missing = 'no policy breaches were counted in this run (it was run without the suite\'s policy)';
  const judge = (name: string, value: number | undefined, max: number, what: string): GateCheck =>
    value === undefined
      ? { name, value: null, threshold: max, status: 'inconclusive', reason: missing }
      : { name, value, threshold: max, status: value <= max ? 'pass' : 'fail', reason: `${what} ${value} ${value <= max ? '≤' : '>'} ${max}` };
  if (config.max !== undefined) {
    const broken = Object.entries(counts?.byRule ?? {}).filter(([, n]) => n > 0).map(([id, n]) => `${id} ${n}`);
    const what = `policy violations${broken.length > 0 ? ` (${broken.join(', ')})` : ''}`;
    checks.push(judge('policyViolations', counts?.total, config.max, what));
  }
  for (const [id, { max }] of Object.entries(config.rules ?? {})) {
    checks.push(judge(`policy:${id}`, counts ? (counts.byRule[id] ?? 0) : undefined, max, `breaches of policy rule ${id}`));
  }
  return checks;
}
