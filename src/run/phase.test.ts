import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator, type SuggestSettings } from '../metrics/summary.js';
import { rateMetric } from '../metrics/rate.js';
import type { TraceResult } from '../replay/types.js';
import { createMemoryStore } from '../store/memory.js';
import type { RunMeta, Store } from '../store/types.js';
import type { ResolvedSuite } from '../suite/load.js';
import { aCatalog, aResult } from '../testing/builders.js';
import { assessSuitePhase } from './phase.js';

// Made-up suggest runs in a memory store: 40 suggestions, the first 30 the same as the human decision.
const settings: SuggestSettings = { decision: { numericTolerance: 0 } };
const results: TraceResult[] = Array.from({ length: 40 }, (_, i) => {
  const same = i < 30;
  return aResult(`t-${i}`, { decision: same ? 'refund' : 'deny', agree: same, reference: { decision: 'refund', tools: [] } });
});
/** The run's own overridden: simulated, the suggestions that are not the human decision. */
const overridden = results.filter((r) => !r.agree).length;
const suite = {
  name: 'refunds', file: 'suites/refunds.yaml', phase: 'suggest', candidateHash: 'h1', candidateLabel: 'module:v1.mjs',
  catalog: aCatalog({ get_order: 'read' }), gate: {},
} as unknown as ResolvedSuite;

/** Stores a finished suggest run of `results` with the figures `run` computes; `kept`: whether its summary keeps its settings, as runs now do. */
function storeRun(store: Store, runId: string, startedAt: string, kept = true, lostToInfrastructure = 0): void {
  const meta: RunMeta = {
    runId, suite: suite.name, suiteFile: suite.file, suiteHash: 's', candidateHash: 'h1', candidate: 'module:v1.mjs', model: null, promptVersion: null,
    phase: 'suggest', reference: 'human', gitCommit: null, gitRef: null, startedAt, candidateSource: null, replica: 0,
  };
  store.createRun(meta);
  const acc = createMetricsAccumulator({ phase: 'suggest', ...settings });
  results.forEach((r, i) => {
    store.appendResult(runId, String(i), r);
    acc.add(r);
  });
  const counts = { noOutcome: { infrastructure: { traces: lostToInfrastructure } } };
  store.finishRun(runId, startedAt, { metrics: acc.finish(), counts, issues: 0, shard: null, ...(kept ? { settings } : {}) });
}

function verdict(store: Store, runId: string, traceId: string, v: 'accepted' | 'edited' | 'rejected'): void {
  const itemId = store.enqueueReview({ runId, traceId, trial: 0, workflow: 'w', phase: 'suggest', input: null, steps: [], suggestion: null, reference: null, enqueuedAt: '2026-01-01T00:00:00.000Z' });
  store.addVerdict({ itemId, verdict: v, reviewer: 'ana', at: '2026-01-02T00:00:00.000Z' });
}

/** The figures of a rate as a step's evidence gives them. */
const figures = (successes: number, n: number) => {
  const { rate, ci95 } = rateMetric(successes, n);
  return { rate, n, ci95 };
};

const overrideStep = (store: Store) => assessSuitePhase(suite, store).steps.find((s) => s.from === 'suggest')!;

describe('assessSuitePhase: the review queue in the suggest evidence', () => {
  it("without queue verdicts, the run's stored figures; with them, each in place of the run's own, on the latest suggest run", () => {
    const store = createMemoryStore();
    storeRun(store, 'old', '2026-01-01T00:00:00.000Z');
    storeRun(store, 'new', '2026-01-02T00:00:00.000Z');
    expect(overrideStep(store).evidence).toEqual({ runId: 'new', startedAt: '2026-01-02T00:00:00.000Z', ...figures(overridden, results.length), fromQueue: 0 });
    // Two accepted suggestions rejected, one overridden accepted: one more overridden of as many.
    verdict(store, 'new', 't-0', 'rejected');
    verdict(store, 'new', 't-1', 'edited');
    verdict(store, 'new', 't-39', 'accepted');
    // A verdict on an older run is not the evidence's.
    verdict(store, 'old', 't-2', 'rejected');
    expect(overrideStep(store).evidence).toMatchObject({ runId: 'new', ...figures(overridden + 1, results.length), fromQueue: 3 });
  });

  it('a run that kept no settings: its stored figures while the queue is empty, no evidence once it holds a verdict', () => {
    const store = createMemoryStore();
    storeRun(store, 'legacy', '2026-01-01T00:00:00.000Z', false);
    expect(overrideStep(store)).toMatchObject({ evidence: { runId: 'legacy', ...figures(overridden, results.length), fromQueue: 0 } });
    verdict(store, 'legacy', 't-0', 'rejected');
    const step = overrideStep(store);
    expect(step).toMatchObject({ status: 'no-evidence', evidence: { runId: 'legacy', fromQueue: null } });
    expect(step.reason).toMatch(/^suggest → auto-with-review: run legacy: 1 verdict\(s\) in the review queue cannot be counted in its override rate: the run was stored before/);
  });

  it('a run that lost traces to the infrastructure (no coverage check to say how many it may) is no evidence', () => {
    const store = createMemoryStore();
    storeRun(store, 'lossy', '2026-01-02T00:00:00.000Z', true, 12);
    expect(overrideStep(store)).toMatchObject({ status: 'no-evidence', evidence: null });
    storeRun(store, 'whole', '2026-01-01T00:00:00.000Z', true, 0);
    expect(overrideStep(store).evidence).toMatchObject({ runId: 'whole' });
  });
});
