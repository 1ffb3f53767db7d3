import { namesOf, type Policy, type PolicyRule } from './schema.js';

/** A problem in a suite's policy or policy gate, at a dotted key path of the suite file. */
export interface PolicyProblem {
  path: string;
  message: string;
}

const list = (names: string | string[] | undefined): string[] => namesOf(names) ?? [];

/**
 * What the schema alone cannot see: tools the rules name that the catalog lacks (a typo
 * would make a rule that never applies, or an allowlist that refuses a tool for nothing),
 * and gate entries on rules the policy does not have. `tools` is null when the catalog
 * could not be loaded (its own problem is reported instead).
 */
export function policyProblems(
  policy: Policy | undefined,
  gate: { policyViolations?: { rules?: Record<string, unknown> } },
  tools: ReadonlySet<string> | null,
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const rules = policy?.rules ?? [];
  if (tools) {
    rules.forEach((rule, i) => {
      for (const [key, names] of namedTools(rule)) {
        const unknown = names.filter((n) => !tools.has(n));
        if (unknown.length > 0) problems.push({ path: `policy.rules.${i}.${key}`, message: `not in the tool catalog: ${unknown.join(', ')}` });
      }
    });
  }
  const gated = gate.policyViolations;
  if (gated && rules.length === 0) {
    problems.push({ path: 'gate.policyViolations', message: 'the suite has no policy rules to count breaches of (add policy.rules)' });
  } else if (gated?.rules) {
    const ids = new Set(rules.map((r) => r.id));
    for (const id of Object.keys(gated.rules)) {
      if (!ids.has(id)) problems.push({ path: `gate.policyViolations.rules.${id}`, message: `no policy rule has the id ${id} (rules: ${[...ids].join(', ')})` });
    }
  }
  return problems;
}

function namedTools(rule: PolicyRule): [string, string[]][] {
  return [
    ['allowTools', rule.allowTools ?? []],
    ['tool', list(rule.tool)],
    ['requires.calledBefore', list(rule.requires?.calledBefore)],
  ];
}
