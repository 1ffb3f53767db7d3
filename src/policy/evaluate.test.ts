import { describe, expect, it } from 'vitest';
import { conditionHolds, createPolicy, type PolicyStep } from './evaluate.js';
import { PolicySchema, type Condition, type Policy } from './schema.js';

const policy = (rules: unknown[]): Policy => PolicySchema.parse({ rules });
const call = (name: string, args: Record<string, unknown> = {}, error?: unknown): PolicyStep => ({ type: 'tool', name, args, ...(error ? { error } : {}) });
const holds = (condition: Omit<Condition, 'arg'>, value: unknown) => conditionHolds({ arg: 'x', ...condition }, { x: value });

describe('conditionHolds', () => {
  it.each([
    ['gt', { gt: 500 }, 500.01, 500],
    ['gte', { gte: 500 }, 500, 499.99],
    ['lt', { lt: 10 }, 9, 10],
    ['lte', { lte: 10 }, 10, 10.5],
    ['eq (canonical JSON: key order and 5.0 do not count)', { eq: { a: 5, b: [1] } }, { b: [1], a: 5.0 }, { a: 5, b: [2] }],
    ['ne', { ne: 'refund_denied' }, 'refund_approved', 'refund_denied'],
    ['in', { in: ['EUR', 'GBP'] }, 'GBP', 'USD'],
    ['notIn', { notIn: ['EUR', 'GBP'] }, 'USD', 'EUR'],
  ] as [string, Omit<Condition, 'arg'>, unknown, unknown][])('%s', (_name, condition, yes, no) => {
    expect(holds(condition, yes)).toBe(true);
    expect(holds(condition, no)).toBe(false);
  });

  it('needs every operator of a condition to hold (a range)', () => {
    const range = { gt: 100, lte: 500 };
    expect([50, 100, 101, 500, 501].map((x) => holds(range, x))).toEqual([false, false, true, true, false]);
  });

  it('compares numbers only with gt/gte/lt/lte: a numeric string fails', () => {
    expect(holds({ gt: 5 }, '600')).toBe(false);
    expect(holds({ lt: 5 }, null)).toBe(false);
  });

  it('follows a dotted path into the arguments, array indices included', () => {
    const args = { refund: { lines: [{ amount: 700 }] } };
    expect(conditionHolds({ arg: 'refund.lines.0.amount', gt: 500 }, args)).toBe(true);
    expect(conditionHolds({ arg: 'refund.lines.1.amount', gt: 500 }, args)).toBe(false);
  });

  it('holds for no operator on an absent argument, ne and notIn included', () => {
    for (const op of [{ gt: 0 }, { ne: 'a' }, { notIn: ['a'] }, { eq: null }]) expect(conditionHolds({ arg: 'missing', ...op }, { other: 1 })).toBe(false);
    expect(conditionHolds({ arg: 'x', eq: null }, { x: null })).toBe(true);
  });
});

describe('createPolicy', () => {
  const rules = createPolicy(
    policy([
      { id: 'triage-tools', workflow: 'refund-triage', allowTools: ['get_order', 'issue_refund', 'escalate'] },
      { id: 'no-huge-refund', tool: 'issue_refund', when: { arg: 'amount', gt: 2000 }, action: 'deny' },
      { id: 'big-needs-escalation', tool: 'issue_refund', when: [{ arg: 'amount', gt: 500 }, { arg: 'currency', eq: 'USD' }], requires: { calledBefore: 'escalate' } },
      { id: 'closing-escalated', tool: ['close_ticket'], requires: { status: ['escalated', 'aborted'] } },
    ]),
  );

  it('refuses a tool outside the allowlist only in the workflow the allowlist is for', () => {
    expect(rules.refusals('refund-triage', 'delete_account', {})).toEqual([
      { rule: 'triage-tools', message: 'delete_account is not among the tools refund-triage may call (get_order, issue_refund, escalate)' },
    ]);
    expect(rules.refusals('billing', 'delete_account', {})).toEqual([]);
    expect(rules.refusals('refund-triage', 'get_order', { order_id: 'A' })).toEqual([]);
  });

  it('refuses a call a deny rule matches, in every workflow when none is named', () => {
    expect(rules.refusals('billing', 'issue_refund', { amount: 2500 })).toEqual([{ rule: 'no-huge-refund', message: 'issue_refund with amount > 2000 is denied' }]);
    expect(rules.refusals('billing', 'issue_refund', { amount: 2000 })).toEqual([]);
  });

  it('never refuses for a requires rule', () => {
    expect(rules.refusals('refund-triage', 'issue_refund', { amount: 900, currency: 'USD' })).toEqual([]);
  });

  it('checks calledBefore on earlier answered calls only', () => {
    const refund = call('issue_refund', { amount: 900, currency: 'USD' });
    expect(rules.breaches('refund-triage', [call('get_order'), refund], 'completed')).toEqual([
      { rule: 'big-needs-escalation', step: 1, tool: 'issue_refund', message: 'issue_refund with amount > 500 and currency = "USD" requires an earlier call of escalate' },
    ]);
    expect(rules.breaches('refund-triage', [call('escalate'), refund], 'completed')).toEqual([]);
    // An escalation after the refund, or one that failed, does not count.
    expect(rules.breaches('refund-triage', [refund, call('escalate')], 'completed')).toHaveLength(1);
    expect(rules.breaches('refund-triage', [call('escalate', {}, { code: 'HTTP_500' }), refund], 'completed')).toHaveLength(1);
    // Every condition of `when` must hold for the rule to apply.
    expect(rules.breaches('refund-triage', [call('issue_refund', { amount: 900, currency: 'EUR' })], 'completed')).toEqual([]);
  });

  it('checks a required status against how the trace ended', () => {
    const steps = [call('close_ticket', { id: 'T1' })];
    expect(rules.breaches('support', steps, 'escalated')).toEqual([]);
    expect(rules.breaches('support', steps, 'completed')).toEqual([
      { rule: 'closing-escalated', step: 0, tool: 'close_ticket', message: 'close_ticket requires the trace to end escalated or aborted (it ended completed)' },
    ]);
  });

  it('finds refusing rules on every call made, refused or not, and lets one call break several rules', () => {
    const steps: PolicyStep[] = [{ type: 'llm' }, call('issue_refund', { amount: 3000, currency: 'USD' }, { code: 'POLICY_DENIED' }), call('wipe', {})];
    expect(rules.breaches('refund-triage', steps, 'completed').map((b) => [b.rule, b.step])).toEqual([
      ['no-huge-refund', 1],
      ['big-needs-escalation', 1],
      ['triage-tools', 2],
    ]);
  });

  it('has nothing to say without a policy', () => {
    const none = createPolicy(undefined);
    expect(none.ids).toEqual([]);
    expect(none.breaches('w', [call('anything', { amount: 1e9 })], 'completed')).toEqual([]);
  });
});

describe('PolicySchema', () => {
  const issues = (rules: unknown[]) => {
    const parsed = PolicySchema.safeParse({ rules });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('asks a tool rule for exactly one of action and requires', () => {
    expect(issues([{ id: 'r', tool: 'issue_refund' }])).toEqual(['rules.0.requires: a tool rule needs one of action: deny (refuse the call) or requires (check the trace)']);
    expect(issues([{ id: 'r', tool: 'issue_refund', action: 'deny', requires: { status: 'escalated' } }])).toEqual([
      'rules.0.action: a tool rule needs one of action: deny (refuse the call) or requires (check the trace)',
    ]);
  });

  it('keeps an allowlist apart from call rules, and wants one of the two', () => {
    expect(issues([{ id: 'r', allowTools: ['a'], action: 'deny' }])).toEqual(['rules.0.action: an allowTools rule takes no tool, when, action or requires']);
    expect(issues([{ id: 'r', workflow: 'w' }])).toEqual(['rules.0.tool: give allowTools (an allowlist) or tool (a rule on calls of that tool)']);
  });

  it('rejects duplicate ids, ids with dots, empty requirements and conditions without an operator', () => {
    expect(issues([{ id: 'a', allowTools: ['x'] }, { id: 'a', allowTools: ['y'] }])).toEqual(['rules.1.id: duplicate rule id a']);
    expect(issues([{ id: 'a.b', allowTools: ['x'] }])).toEqual(['rules.0.id: rule ids are letters, digits, _ - :']);
    expect(issues([{ id: 'a', tool: 't', requires: {} }])).toEqual(['rules.0.requires: give calledBefore, status or both']);
    expect(issues([{ id: 'a', tool: 't', when: { arg: 'amount' }, action: 'deny' }])).toEqual(['rules.0.when: give at least one of gt, gte, lt, lte, eq, ne, in, notIn']);
  });
});
