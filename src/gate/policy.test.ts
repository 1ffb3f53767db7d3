import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator, rateMetric } from '../metrics/summary.js';
import { aResult } from '../testing/builders.js';
import { evaluateGate } from './gate.js';
import { policyChecks } from './policy.js';

const counts = { total: 3, traces: 2, byRule: { 'tools-only': 0, 'big-refund': 2, 'no-huge-refund': 1 } };

describe('policyChecks', () => {
  it('checks the total, naming the rules broken, and each rule given its own maximum', () => {
    expect(policyChecks({ max: 0, rules: { 'big-refund': { max: 2 }, 'no-huge-refund': { max: 0 }, 'tools-only': { max: 0 } } }, counts)).toEqual([
      { name: 'policyViolations', value: 3, threshold: 0, status: 'fail', reason: 'policy violations (big-refund 2, no-huge-refund 1) 3 > 0' },
      { name: 'policy:big-refund', value: 2, threshold: 2, status: 'pass', reason: 'breaches of policy rule big-refund 2 ≤ 2' },
      { name: 'policy:no-huge-refund', value: 1, threshold: 0, status: 'fail', reason: 'breaches of policy rule no-huge-refund 1 > 0' },
      { name: 'policy:tools-only', value: 0, threshold: 0, status: 'pass', reason: 'breaches of policy rule tools-only 0 ≤ 0' },
    ]);
  });

  it('is inconclusive when the run counted no breaches (run without the policy)', () => {
    expect(policyChecks({ max: 0, rules: { a: { max: 0 } } }, undefined).map((c) => [c.name, c.value, c.status])).toEqual([
      ['policyViolations', null, 'inconclusive'],
      ['policy:a', null, 'inconclusive'],
    ]);
  });

  it('fails the gate on a breach however good the rest is', () => {
    const acc = createMetricsAccumulator({ policyRules: ['big-refund'] });
    acc.add(aResult('t1', { violations: [{ kind: 'policy_violation', rule: 'big-refund', step: 2, tool: 'issue_refund', message: 'm' }] }));
    acc.add(aResult('t2'));
    const metrics = { ...acc.finish(), agreement: rateMetric(10, 10) };
    const gate = evaluateGate({ agreement: { min: 0.5, bound: 'point' }, policyViolations: { max: 0 } }, metrics);
    expect(gate.verdict).toBe('fail');
    expect(gate.checks.map((c) => [c.name, c.status])).toEqual([['agreement', 'pass'], ['policyViolations', 'fail']]);
  });
});
