import { canonicalJson } from '../trace/canonical.js';
import { namesOf as list } from './names.js';
import type { Condition, Policy, PolicyRule } from './schema.js';

/** A rule broken by one call of a trace. */
export interface PolicyBreach {
  rule: string;
  /** Index of the call among the candidate's steps. */
  step: number;
  tool: string;
  message: string;
}

/** The part of a step a rule looks at. */
export interface PolicyStep {
  type: string;
  name?: string;
  args?: Record<string, unknown>;
  error?: unknown;
}

/** Whether the rule applies to traces of this workflow. */
function inScope(rule: PolicyRule, workflow: string): boolean {
  const workflows = list(rule.workflow);
  return workflows === undefined || workflows.includes(workflow);
}

/** The value at a dotted path of the arguments; undefined when any part is missing. */
function argAt(args: Record<string, unknown>, path: string): unknown {
  let value: unknown = args;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Whether every operator of the condition holds for the call's arguments. An absent argument holds none. */
export function conditionHolds(condition: Condition, args: Record<string, unknown>): boolean {
  const value = argAt(args, condition.arg);
  if (value === undefined) return false;
  const num = typeof value === 'number' ? value : undefined;
  const has = (op: keyof Condition) => Object.hasOwn(condition, op);
  if (has('gt') && !(num !== undefined && num > condition.gt!)) return false;
  if (has('gte') && !(num !== undefined && num >= condition.gte!)) return false;
  if (has('lt') && !(num !== undefined && num < condition.lt!)) return false;
  if (has('lte') && !(num !== undefined && num <= condition.lte!)) return false;
  if (has('eq') && !same(value, condition.eq)) return false;
  if (has('ne') && same(value, condition.ne)) return false;
  if (has('in') && !condition.in!.some((v) => same(value, v))) return false;
  if (has('notIn') && condition.notIn!.some((v) => same(value, v))) return false;
  return true;
}

/** `amount > 500`, `template in ["a","b"]`: the condition as a user would say it. */
function describeCondition(c: Condition): string {
  const symbols: Record<string, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', ne: '≠', in: 'in', notIn: 'not in' };
  return Object.entries(symbols)
    .filter(([op]) => Object.hasOwn(c, op))
    .map(([op, symbol]) => `${c.arg} ${symbol} ${JSON.stringify((c as Record<string, unknown>)[op])}`)
    .join(' and ');
}

/** Whether a call rule is about this call: its tool, and every `when` condition. */
function callMatches(rule: PolicyRule, name: string, args: Record<string, unknown>): boolean {
  return Boolean(list(rule.tool)?.includes(name)) && conditionsOf(rule).every((c) => conditionHolds(c, args));
}

const conditionsOf = (rule: PolicyRule): Condition[] => (rule.when === undefined ? [] : Array.isArray(rule.when) ? rule.when : [rule.when]);

function whenText(rule: PolicyRule): string {
  const when = conditionsOf(rule);
  return when.length === 0 ? '' : ` with ${when.map(describeCondition).join(' and ')}`;
}

/** An answered call: not refused by the harness, not failed. */
const answered = (s: PolicyStep) => s.type === 'tool' && s.error === undefined;

/**
 * The rules of a suite's policy, compiled once per run. Pure: the same calls give the
 * same breaches whether they are checked as the candidate makes them or afterwards.
 */
export function createPolicy(policy: Policy | undefined) {
  const rules = policy?.rules ?? [];
  const refusing = rules.filter((r) => r.allowTools !== undefined || r.action === 'deny');
  const requiring = rules.filter((r) => r.requires !== undefined);
  /**
   * The refusing rules (allowlists, `action: deny`) this call breaks, with why: checked
   * when the call is made, so that the harness refuses it (fail closed).
   */
  const refusals = (workflow: string, name: string, args: Record<string, unknown>): { rule: string; message: string }[] => {
    const out: { rule: string; message: string }[] = [];
    for (const rule of refusing) {
      if (!inScope(rule, workflow)) continue;
      if (rule.allowTools !== undefined) {
        if (!rule.allowTools.includes(name)) out.push({ rule: rule.id, message: `${name} is not among the tools ${workflow} may call (${rule.allowTools.join(', ')})` });
      } else if (callMatches(rule, name, args)) {
        out.push({ rule: rule.id, message: `${name}${whenText(rule)} is denied` });
      }
    }
    return out;
  };
  return {
    ids: rules.map((r) => r.id),
    refusals,

    /**
     * Every rule the trace's tool calls break: the refusing rules on each call the candidate
     * made (refused or not: a recorded candidate's calls were never refused), and the
     * `requires` rules, checked on the whole trace and the status it ended with.
     */
    breaches(workflow: string, steps: readonly PolicyStep[], status: string): PolicyBreach[] {
      const out: PolicyBreach[] = [];
      steps.forEach((step, i) => {
        if (step.type !== 'tool' || step.name === undefined) return;
        const args = step.args ?? {};
        for (const r of refusals(workflow, step.name, args)) out.push({ ...r, step: i, tool: step.name });
        for (const rule of requiring) {
          if (!inScope(rule, workflow) || !callMatches(rule, step.name, args)) continue;
          const missing = unmet(rule.requires!, steps.slice(0, i), status);
          if (missing) out.push({ rule: rule.id, step: i, tool: step.name, message: `${step.name}${whenText(rule)} requires ${missing}` });
        }
      });
      return out;
    },
  };
}

export type CompiledPolicy = ReturnType<typeof createPolicy>;

/** What a requirement lacks, in words, or null when it is met. */
function unmet(requires: NonNullable<PolicyRule['requires']>, before: readonly PolicyStep[], status: string): string | null {
  const missing: string[] = [];
  const tools = list(requires.calledBefore);
  if (tools && !before.some((s) => answered(s) && tools.includes(s.name!))) missing.push(`an earlier call of ${tools.join(' or ')}`);
  const statuses = list(requires.status);
  if (statuses && !statuses.includes(status)) missing.push(`the trace to end ${statuses.join(' or ')} (it ended ${status})`);
  return missing.length === 0 ? null : missing.join(' and ');
}
