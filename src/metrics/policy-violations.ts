import type { Violation } from '../replay/guard.js';

/** Breaches of a suite's policy rules over a run. */
export interface PolicyViolationCounts {
  /** Breaches of any rule, over every trace and trial (one call can break several rules). */
  total: number;
  /** Results (traces × trials) with at least one breach. */
  traces: number;
  /** Breaches per rule id; every rule of the policy is listed, with 0 when it was not broken. */
  byRule: Record<string, number>;
}

/**
 * Counts policy violations result by result. A breach is counted, not a rate: a policy
 * rule states what must never happen, so one breach in a thousand traces is one too many
 * (gate on it with `policyViolations: { max: 0 }`). Pure.
 */
export function createPolicyCounter(ruleIds: readonly string[]) {
  const byRule: Record<string, number> = Object.fromEntries(ruleIds.map((id) => [id, 0]));
  let total = 0;
  let traces = 0;
  return {
    add(violations: readonly Violation[]): void {
      let any = false;
      for (const v of violations) {
        if (v.kind !== 'policy_violation' || v.rule === undefined) continue;
        any = true;
        total++;
        // A rule stored with an older run may have left the policy since: it is still counted.
        byRule[v.rule] = (byRule[v.rule] ?? 0) + 1;
      }
      if (any) traces++;
    },
    finish: (): PolicyViolationCounts => ({ total, traces, byRule: { ...byRule } }),
  };
}
