import { describe, expect, it } from 'vitest';
import { aResult } from '../testing/builders.js';
import type { TraceResult } from '../replay/types.js';
import { createMetricsAccumulator } from './summary.js';
import { mcnemarMidP } from './paired.js';
import { diffBehaviour } from './version-diff.js';
import { WHOLE_DECISION } from './compare.js';

const tool = (name: string, args: Record<string, unknown> = {}) => ({ type: 'tool' as const, name, args });
const call = ({ name, args }: { name: string; args: Record<string, unknown> }) => ({ name, args });
const metricsOf = (results: TraceResult[]) => {
  const acc = createMetricsAccumulator();
  for (const r of results) acc.add(r);
  return acc.finish();
};

// Version a refunds every ticket; b escalates t3 and t4 (the reference says escalate for t3 and t5).
const read = tool('get_order', { id: 1 });
const refund = tool('issue_refund', { amount: 10 });
const escalate = tool('escalate_to_human', { reason: 'x' });
const a = ['t1', 't2', 't3', 't4', 't5'].map((id, i) =>
  aResult(id, { agree: id !== 't3' && id !== 't5', decision: 'refund', reference: { decision: id === 't3' || id === 't5' ? 'escalate' : 'refund', tools: [] }, steps: [read, refund], costUsd: 0.01 * (i + 1), latencyMs: 100 }),
);
const b = a.map((r) =>
  r.traceId === 't3' || r.traceId === 't4'
    ? { ...r, agree: r.traceId === 't3', decision: 'escalate', steps: [read, escalate], costUsd: r.costUsd! + 0.002, latencyMs: 120 }
    : { ...r, costUsd: r.costUsd! + 0.002 },
);

describe('diffBehaviour', () => {
  const diff = diffBehaviour(a, b, { a: metricsOf(a), b: metricsOf(b) }, { decision: WHOLE_DECISION });

  it('lists the flips with where b first leaves a\'s tool calls', () => {
    expect(diff.flips).toEqual([
      { traceId: 't4', kind: 'regression', decisionA: 'refund', decisionB: 'escalate', reference: 'refund', divergence: { stepIndex: 1, recordedStepIndex: 1, candidate: call(escalate), recorded: call(refund) } },
      { traceId: 't3', kind: 'fix', decisionA: 'refund', decisionB: 'escalate', reference: 'escalate', divergence: { stepIndex: 1, recordedStepIndex: 1, candidate: call(escalate), recorded: call(refund) } },
    ]);
    expect(diff).toMatchObject({ pairs: 5, fixes: 1, regressions: 1, decisionChanges: 2, undecided: 0 });
  });

  it('gives the agreement change on paired traces with the two-sided McNemar mid-p', () => {
    const agreement = diff.deltas.find((d) => d.name === 'agreement')!;
    expect(agreement).toMatchObject({ a: 0.6, b: 0.6, delta: 0, pairs: 5, p: Math.min(1, 2 * mcnemarMidP(1, 1)!), significant: false });
    expect(agreement.deltaCi95![0]).toBeLessThan(0);
    expect(agreement.deltaCi95![1]).toBeGreaterThan(0);
  });

  it('gives a cost change that every trace shares as significant, with its interval', () => {
    const cost = diff.deltas.find((d) => d.name === 'costPerRunUsd')!;
    expect(cost.delta).toBeCloseTo(0.002, 10);
    expect(cost.deltaCi95![0]).toBeCloseTo(0.002, 10);
    expect(cost.significant).toBe(true);
    const latency = diff.deltas.find((d) => d.name === 'meanLatencyMs')!;
    expect(latency).toMatchObject({ a: 100, delta: 8, pairs: 5 });
  });

  it('measures the drift of b\'s tool calls from a\'s', () => {
    expect(diff.toolCallDrift.perTool).toEqual({
      escalate_to_human: { reference: 0, candidate: 2, ratio: null },
      get_order: { reference: 5, candidate: 5, ratio: 1 },
      issue_refund: { reference: 5, candidate: 3, ratio: 0.6 },
    });
    expect(diff.toolCallDrift.newTools).toEqual(['escalate_to_human']);
    expect(diff.toolCallDrift.meanSequenceSimilarity).toBeCloseTo((3 * 1 + 2 * 0.5) / 5, 10);
  });

  it('has no evidence, not "no change", when nothing pairs; an undecided side is counted apart', () => {
    const none = diffBehaviour(a, [], { a: metricsOf(a), b: metricsOf([]) }, { decision: WHOLE_DECISION });
    expect(none.deltas.find((d) => d.name === 'agreement')).toMatchObject({ delta: null, deltaCi95: null, pairs: 0, p: null, significant: null });
    const errored = b.map((r) => (r.traceId === 't1' ? { ...r, status: 'error' as const, agree: null } : r));
    expect(diffBehaviour(a, errored, { a: metricsOf(a), b: metricsOf(errored) }, { decision: WHOLE_DECISION })).toMatchObject({ pairs: 4, undecided: 1 });
  });

  it('counts a changed decision with the suite\'s comparator: 10.004 vs 10 within 0.01 is no change', () => {
    const amounts = (rs: typeof a, amount: number) => rs.map((r) => ({ ...r, decision: { action: 'refund', amount } }));
    const [xa, xb] = [amounts(a, 10), amounts(a, 10.004)];
    const figures = { a: metricsOf(xa), b: metricsOf(xb) };
    expect(diffBehaviour(xa, xb, figures, { decision: { fields: ['action', 'amount'], numericTolerance: 0.01 } }).decisionChanges).toBe(0);
    expect(diffBehaviour(xa, xb, figures, { decision: WHOLE_DECISION }).decisionChanges).toBe(xa.length);
  });
});
