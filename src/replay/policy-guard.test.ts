import { describe, expect, it } from 'vitest';
import { ToolCallError } from '../errors.js';
import { createPolicy } from '../policy/evaluate.js';
import { PolicySchema } from '../policy/schema.js';
import { aCatalog, aTrace } from '../testing/builders.js';
import { createToolGuard } from './guard.js';
import { createMockToolbox } from './mock-tools.js';
import { moduleRunner, type ModuleCandidate } from './module-candidate.js';
import { inProcess } from '../testing/in-process-candidate.js';
import { buildResult, recordedOutcome, type CompareOptions } from './replay-trace.js';
import { ReplaySession } from './session.js';

const catalog = aCatalog({
  get_order: 'read',
  issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } },
  escalate: { effect: 'write-reversible', ack: { status: 'ok' } },
});
const policy = PolicySchema.parse({
  rules: [
    { id: 'no-refund-over-2000', tool: 'issue_refund', when: { arg: 'amount', gt: 2000 }, action: 'deny' },
    { id: 'big-refund-needs-escalation', tool: 'issue_refund', when: { arg: 'amount', gt: 500 }, requires: { calledBefore: 'escalate' } },
  ],
});
// The recording has the large refund, so a mock would answer it: only the policy stands in the way.
const trace = aTrace('t1')
  .withToolCall('get_order', { order_id: 'A1' }, { total: 2500 })
  .withToolCall('issue_refund', { order_id: 'A1', amount: 2500 }, { refund_id: 'R1' })
  .withOutcome('completed', { action: 'refund', amount: 2500 })
  .build();
const compare: CompareOptions = {
  catalog, reference: 'recorded', decision: { numericTolerance: 0 }, effectsIgnoreArgs: [], pathIgnoreArgs: [], pricing: {}, policy: createPolicy(policy),
};

const play = (candidate: ModuleCandidate, withPolicy = true) => {
  const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), {}, undefined, createToolGuard(catalog, withPolicy ? compare.policy : undefined));
  return moduleRunner(inProcess(candidate), catalog)(session, 0);
};

describe('policy rules in a replay', () => {
  it('refuses a denied call: the candidate gets an error, not the recorded answer, and no effect is made', async () => {
    let answer: unknown;
    const outcome = await play(async (_input, ctx) => {
      await ctx.tools.get_order!({ order_id: 'A1' });
      answer = await ctx.tools.issue_refund!({ order_id: 'A1', amount: 2500 }).catch((error: unknown) => error);
      await ctx.tools.escalate!({ reason: 'refund refused' });
      return { decision: { action: 'escalate' }, status: 'escalated' };
    });
    expect(answer).toBeInstanceOf(ToolCallError);
    expect((answer as ToolCallError).recordedError).toEqual({ code: 'POLICY_DENIED', message: 'policy rule no-refund-over-2000: issue_refund with amount > 2000 is denied' });
    expect(outcome.status).toBe('escalated');
    expect(outcome.steps[1]).toEqual({ type: 'tool', name: 'issue_refund', args: { order_id: 'A1', amount: 2500 }, error: { code: 'POLICY_DENIED', message: 'policy rule no-refund-over-2000: issue_refund with amount > 2000 is denied' } });

    const result = buildResult(trace, 0, outcome, { file: 't.jsonl', line: 1 }, compare);
    expect(result.effects).toEqual([{ name: 'escalate', args: { reason: 'refund refused' } }]);
    // The refused call breaks both rules that speak of it; the escalation came after it.
    expect(result.violations).toEqual([
      { kind: 'policy_violation', rule: 'no-refund-over-2000', step: 1, tool: 'issue_refund', message: 'issue_refund with amount > 2000 is denied' },
      { kind: 'policy_violation', rule: 'big-refund-needs-escalation', step: 1, tool: 'issue_refund', message: 'issue_refund with amount > 500 requires an earlier call of escalate' },
    ]);
  });

  it('answers the same call when the suite has no policy', async () => {
    const outcome = await play(async (_input, ctx) => {
      const refund = await ctx.tools.issue_refund!({ order_id: 'A1', amount: 2500 });
      return { decision: refund };
    }, false);
    expect(outcome.decision).toEqual({ refund_id: 'R1' });
    expect(outcome.violations).toBeUndefined();
  });

  it('finds the breaches of a recorded candidate, whose calls were never refused', () => {
    const result = buildResult(trace, 0, recordedOutcome(trace), { file: 't.jsonl', line: 1 }, compare);
    expect(result.violations?.map((v) => [v.rule, v.step])).toEqual([['no-refund-over-2000', 1], ['big-refund-needs-escalation', 1]]);
    expect(buildResult(trace, 0, recordedOutcome(trace), { file: 't.jsonl', line: 1 }, { ...compare, policy: undefined }).violations).toBeUndefined();
  });
});
