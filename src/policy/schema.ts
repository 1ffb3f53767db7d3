import { z } from 'zod';

/** Rule ids: letters, digits, `_`, `-` and `:` (no dots, so that a gate's `rules.<id>` is one key). */
const RuleId = z.string().regex(/^[A-Za-z0-9_:-]+$/, 'rule ids are letters, digits, _ - :');
const Names = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A name-or-list field (`tool`, `workflow`, `calledBefore`, `status`) as a list; undefined when not given. */
export const namesOf = (names: string | string[] | undefined): string[] | undefined =>
  names === undefined ? undefined : Array.isArray(names) ? names : [names];

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
    /** Dotted path into the call's arguments (`amount`, `address.country`, `items.0.sku`). */
    arg: z.string().min(1),
    /** Numbers only: a value that is not a number fails. */
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    /** Equal as canonical JSON (so `5` equals `5.0`, and key order does not count). */
    eq: z.unknown().optional(),
    ne: z.unknown().optional(),
    in: z.array(z.unknown()).min(1).optional(),
    notIn: z.array(z.unknown()).min(1).optional(),
  })
  .refine((c) => OPERATORS.some((op) => Object.hasOwn(c, op)), { message: `give at least one of ${OPERATORS.join(', ')}` });
export type Condition = z.output<typeof ConditionSchema>;

/** What a call-rule asks of the trace it occurs in; every key given must hold. */
export const RequirementSchema = z
  .strictObject({
    /** An earlier call of this tool (one of these tools) in the trace, that was answered (not refused, not failed). */
    calledBefore: Names.optional(),
    /** The trace ends with this status (one of these), e.g. `escalated`. */
    status: Names.optional(),
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
    id: RuleId,
    description: z.string().optional(),
    /** Only traces of this workflow (these workflows). @default every workflow */
    workflow: Names.optional(),
    allowTools: z.array(z.string().min(1)).min(1).optional(),
    tool: Names.optional(),
    /** Conditions on the call's arguments; a list means all of them. @default every call of the tool */
    when: z.union([ConditionSchema, z.array(ConditionSchema).min(1)]).optional(),
    action: z.literal('deny').optional(),
    requires: RequirementSchema.optional(),
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
    }),
});
export type Policy = z.output<typeof PolicySchema>;

/** The gate on policy breaches: in all, and per rule. */
export const PolicyGateSchema = z
  .strictObject({
    /** Breaches of any rule, over all traces and trials. */
    max: z.number().int().nonnegative().optional(),
    /** Breaches of one rule, by its id. */
    rules: z.record(z.string(), z.strictObject({ max: z.number().int().nonnegative() })).optional(),
    /** Measured and shown, but the verdict does not depend on it. */
    dryRun: z.boolean().optional(),
  })
  .refine((g) => g.max !== undefined || g.rules !== undefined, { message: 'give max, rules or both' });
