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
 * arguments a `when` names that the tool's schema does not declare (the same: a rule that
 * never applies), and gate entries on rules the policy does not have. `tools` maps each
 * catalog tool to its declared argument names (null where its schema declares none); it is
 * null when the catalog could not be loaded (its own problem is reported instead).
 */
export function policyProblems(
  policy: Policy | undefined,
  gate: { policyViolations?: { rules?: Record<string, unknown> } },
  tools: ReadonlyMap<string, ReadonlySet<string> | null> | null,
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const rules = policy?.rules ?? [];
  if (tools) {
    rules.forEach((rule, i) => {
      for (const [key, names] of namedTools(rule)) {
        const unknown = names.filter((n) => !tools.has(n));
        if (unknown.length > 0) problems.push({ path: `policy.rules.${i}.${key}`, message: `not in the tool catalog: ${unknown.join(', ')}` });
      }
      const conditions = rule.when === undefined ? [] : Array.isArray(rule.when) ? rule.when : [rule.when];
      conditions.forEach((condition, j) => {
        const arg = condition.arg.split('.')[0]!;
        const lacking = list(rule.tool).filter((t) => {
          const declared = tools.get(t);
          return declared != null && !declared.has(arg);
        });
        if (lacking.length > 0) {
          const at = Array.isArray(rule.when) ? `policy.rules.${i}.when.${j}.arg` : `policy.rules.${i}.when.arg`;
          problems.push({ path: at, message: `${lacking.join(', ')} declares no argument ${arg} (arguments: ${[...tools.get(lacking[0]!)!].join(', ')})` });
        }
      });
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
