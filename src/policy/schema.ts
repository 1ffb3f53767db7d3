import { z } from 'zod';

/** Rule ids: letters, digits, `_`, `-` and `:` (no dots, so that a gate's `rules.<id>` is one key). */
const RuleId = z.string().regex(/^[A-Za-z0-9_:-]+$/, 'rule ids are letters, digits, _ - :');
const Names = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export { namesOf } from './names.js';

const OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'in', 'notIn'] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * A test of one argument of a call: every operator given must hold. An argument the
 * call does not have fails every test (`ne` and `notIn` included).
 * @example { arg: amount, gt: 500 }
 * @example { arg: refund.currency, in: [EUR, GBP] }
 */
export const ConditionSchema = z
  .strictObject({
    arg: z.string().min(1).describe("Dotted path into the call's arguments (`amount`, `address.country`, `items.0.sku`)."),
    gt: z.number().optional().describe('Greater than (numbers only: a value that is not a number fails).'),
    gte: z.number().optional().describe('Greater than or equal (numbers only).'),
    lt: z.number().optional().describe('Less than (numbers only).'),
    lte: z.number().optional().describe('Less than or equal (numbers only).'),
    eq: z.unknown().optional().describe('Equal as canonical JSON (so `5` equals `5.0`, and key order does not count).'),
    ne: z.unknown().optional().describe('Not equal as canonical JSON; an argument the call does not have fails it too.'),
    in: z.array(z.unknown()).min(1).optional().describe('Equal to one of these.'),
    notIn: z.array(z.unknown()).min(1).optional().describe('Equal to none of these; an argument the call does not have fails it too.'),
  })
  .refine((c) => OPERATORS.some((op) => Object.hasOwn(c, op)), { message: `give at least one of ${OPERATORS.join(', ')}` });
export type Condition = z.output<typeof ConditionSchema>;

/** What a call-rule asks of the trace it occurs in; every key given must hold. */
export const RequirementSchema = z
  .strictObject({
    calledBefore: Names.optional().describe('An earlier call of this tool (one of these tools) in the trace, that was answered (not refused, not failed).'),
    status: Names.optional().describe('The trace ends with this status (one of these), e.g. `escalated`.'),
  })
  .refine((r) => r.calledBefore !== undefined || r.status !== undefined, { message: 'give calledBefore, status or both' });

/**
 * One policy rule. Two kinds:
 * - an allowlist: `allowTools` — a call of any other tool is refused (checked at call time);
 * - a call rule: `tool` (+ optional `when`) and either `action: deny` — such a call is
 *   refused (checked at call time) — or `requires` — such a call is let through, and the
 *   requirement is checked on the whole trace once it ends.
 * Either kind may be limited to traces of some workflows (`workflow`).
 */
export const PolicyRuleSchema = z
  .strictObject({
    id: RuleId.describe('The rule\'s id (letters, digits, `_ - :`), named in breaches and in `gate.policyViolations.rules`.'),
    description: z.string().optional().describe('Free text.'),
    workflow: Names.optional().describe('Only traces of this workflow (these workflows). Default: every workflow.'),
    allowTools: z.array(z.string().min(1)).min(1).optional().describe('An allowlist: a call of any other tool is refused when it is made.'),
    tool: Names.optional().describe('The tool (tools) a call rule applies to.'),
    when: z
      .union([ConditionSchema, z.array(ConditionSchema).min(1)])
      .optional()
      .describe("Conditions on the call's arguments; a list means all of them. Default: every call of the tool."),
    action: z.literal('deny').optional().describe('Refuse such a call when it is made (`POLICY_DENIED`).'),
    requires: RequirementSchema.optional().describe('Let such a call through and check the trace once it ends.'),
  })
  .superRefine((rule, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (rule.allowTools !== undefined) {
      for (const key of ['tool', 'when', 'action', 'requires'] as const) {
        if (rule[key] !== undefined) fail(key, 'an allowTools rule takes no tool, when, action or requires');
      }
    } else if (rule.tool === undefined) {
      fail('tool', 'give allowTools (an allowlist) or tool (a rule on calls of that tool)');
    } else if ((rule.action === undefined) === (rule.requires === undefined)) {
      fail(rule.action === undefined ? 'requires' : 'action', 'a tool rule needs one of action: deny (refuse the call) or requires (check the trace)');
    }
  });
export type PolicyRule = z.output<typeof PolicyRuleSchema>;

/** The suite's `policy:` section. */
export const PolicySchema = z.strictObject({
  rules: z
    .array(PolicyRuleSchema)
    .min(1)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((rule, i) => {
        if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id ${rule.id}` });
        seen.add(rule.id);
      });
    })
    .describe('The rules, each with an id: allowlists (`allowTools`) and call rules (`tool`, `when`, and `action: deny` or `requires`).'),
});
export type Policy = z.output<typeof PolicySchema>;

/** The gate on policy breaches: in all, and per rule. */
export const PolicyGateSchema = z
  .strictObject({
    max: z.number().int().nonnegative().optional().describe('Breaches of any rule, over all traces and trials.'),
    rules: z
      .record(z.string(), z.strictObject({ max: z.number().int().nonnegative().describe('The most breaches of this rule that pass.') }))
      .optional()
      .describe('Breaches of one rule, by its id (a check named `policy:<id>`).'),
    dryRun: z.boolean().optional().describe('Measured and shown, but the verdict does not depend on it.'),
  })
  // `rules: {}` counts nothing: with no `max` beside it the check would pass on any run.
  .refine((g) => g.max !== undefined || Object.keys(g.rules ?? {}).length > 0, { message: 'give max, or rules naming at least one rule id, or both' });
