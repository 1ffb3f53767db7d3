import { describe, expect, it } from 'vitest';
import type { Violation } from '../replay/guard.js';
import { aResult } from '../testing/builders.js';
import { createMetricsAccumulator } from './summary.js';

const breach = (rule: string, step = 0): Violation => ({ kind: 'policy_violation', rule, step, tool: 'issue_refund', message: `broke ${rule}` });
const blocked: Violation = { kind: 'blocked_request', step: 0, request: { method: 'GET', url: 'http://127.0.0.1:9/x' }, message: 'blocked' };
const schema: Violation = { kind: 'schema_violation', step: 0, tool: 'get_order', message: '/order_id must be string' };

describe('policy violations in the run metrics', () => {
  it('counts breaches per rule, every rule listed, and the results with one', () => {
    const acc = createMetricsAccumulator({ policyRules: ['tools-only', 'big-refund', 'no-huge-refund'] });
    acc.add(aResult('t1', { violations: [breach('big-refund'), breach('no-huge-refund')] }));
    acc.add(aResult('t2', { violations: [breach('big-refund', 3)] }));
    acc.add(aResult('t3', { violations: [schema] }));
    acc.add(aResult('t4'));
    acc.add(aResult('t5', { violations: [blocked, blocked] }));
    const m = acc.finish();
    expect(m.policyViolations).toEqual({ total: 3, traces: 2, byRule: { 'tools-only': 0, 'big-refund': 2, 'no-huge-refund': 1 } });
    // Breaches of the suite's rules are not the harness's safety checks: those count apart.
    expect(m.safetyViolations).toEqual({ schemaViolations: 1, duplicateEffects: 0, blockedRequests: 2, deniedCapabilities: 0, strayRequests: 0, traces: 2 });
  });

  it('is absent without a policy, rather than a made-up zero', () => {
    const acc = createMetricsAccumulator();
    acc.add(aResult('t1', { violations: [breach('big-refund')] }));
    const m = acc.finish();
    expect(m.policyViolations).toBeUndefined();
    expect(m.safetyViolations).toEqual({ schemaViolations: 0, duplicateEffects: 0, blockedRequests: 0, deniedCapabilities: 0, strayRequests: 0, traces: 0 });
  });
});
