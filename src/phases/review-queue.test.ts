import { describe, expect, it } from 'vitest';
import { createMetricsAccumulator, type SuggestSettings } from '../metrics/summary.js';
import { rateMetric } from '../metrics/rate.js';
import { resultKey, type TraceResult } from '../replay/types.js';
import { createMemoryStore } from '../store/memory.js';
import { aResult } from '../testing/builders.js';
import { latestVerdicts, suggestWithQueue } from './review-queue.js';
import type { ReviewVerdict } from './suggest.js';

// Made-up results of a suggest run, one of each way the run's own figures count a result.
const settings: SuggestSettings = { decision: { fields: ['action', 'amount'], numericTolerance: 0.01 }, review: { sampleRate: 0.1, seed: 0, editThreshold: 0.5 } };
const refund = { action: 'refund', amount: 20 };
const deny = { action: 'deny', amount: 20 };
const suggestion = (traceId: string, decision: unknown, reference: TraceResult['reference'], extra: Partial<TraceResult> = {}) =>
  aResult(traceId, { decision, agree: reference.decision === null ? null : JSON.stringify(decision) === JSON.stringify(reference.decision), reference, ...extra });
const results: TraceResult[] = [
  // A recorded verdict that judged what the candidate suggests: it stands (accepted).
  suggestion('recorded', refund, { decision: refund, tools: [], review: { verdict: 'accepted', reviewed: refund } }),
  // A recorded rejection of another decision than the candidate's: simulated instead (the decisions agree: accepted).
  suggestion('judged-another', refund, { decision: refund, tools: [], review: { verdict: 'rejected', reviewed: deny } }),
  // No review recorded: simulated; one field of two differs (edited), both differ (rejected).
  suggestion('edited', { action: 'refund', amount: 5 }, { decision: refund, tools: [] }),
  suggestion('rejected', { action: 'escalate', amount: 0 }, { decision: refund, tools: [] }),
  suggestion('simulated-accepted', deny, { decision: deny, tools: [] }),
  // Neither a verdict nor a human decision: not reviewed.
  suggestion('unreviewed', refund, { decision: null, tools: [] }),
  // Left out of the review figures: no outcome, and a later trial of a case.
  suggestion('errored', null, { decision: refund, tools: [] }, { status: 'error', agree: false }),
  suggestion('recorded', deny, { decision: refund, tools: [] }, { trial: 1 }),
];

/** The run's own suggest figures, as `run` computes and stores them. */
function runFigures() {
  const acc = createMetricsAccumulator({ phase: 'suggest', ...settings });
  for (const r of results) acc.add(r);
  const phase = acc.finish().phase;
  if (!phase || !('suggest' in phase)) throw new Error('no suggest figures');
  return phase.suggest;
}

const queue = (entries: Record<string, ReviewVerdict | { verdict: ReviewVerdict; final: unknown }>) =>
  new Map(Object.entries(entries).map(([traceId, v]) => [resultKey(traceId, 0), typeof v === 'string' ? { verdict: v } : v]));

describe('suggestWithQueue', () => {
  it('without a queue verdict: the run\'s own figures exactly, none from the queue', () => {
    const own = runFigures();
    expect(own.reviewed).toBeGreaterThan(0);
    expect(own.simulated).toBeGreaterThan(0);
    expect(suggestWithQueue(results, settings, new Map())).toEqual({ ...own, fromQueue: 0 });
  });

  it('a queue verdict takes the place of the run\'s own for its result; the others keep theirs', () => {
    const own = runFigures();
    // The recorded acceptance is rejected in the queue, and the simulated rejection confirmed.
    const counted = suggestWithQueue(results, settings, queue({ recorded: 'rejected', rejected: 'rejected' }));
    expect(counted).toMatchObject({ reviewed: own.reviewed, accepted: own.accepted - 1, edited: own.edited, rejected: own.rejected + 1, fromQueue: 2 });
    expect(counted.overrideRate).toEqual(rateMetric(own.edited + own.rejected + 1, own.reviewed));
    // The simulated rejection accepted in the queue: one overridden less.
    expect(suggestWithQueue(results, settings, queue({ rejected: 'accepted' })).overrideRate).toEqual(rateMetric(own.edited + own.rejected - 1, own.reviewed));
    // Edited in the queue: one accepted less, one edited more; the override rate over as many reviewed, one more overridden.
    const edited = suggestWithQueue(results, settings, queue({ recorded: { verdict: 'edited', final: { action: 'refund', amount: 15 } } }));
    expect(edited).toMatchObject({ reviewed: own.reviewed, accepted: own.accepted - 1, edited: own.edited + 1, rejected: own.rejected, fromQueue: 1 });
    expect(edited.overrideRate).toEqual(rateMetric(own.edited + own.rejected + 1, own.reviewed));
    // A queue verdict is a person's, never simulated: the simulated count falls by the simulated verdicts it replaced.
    expect(suggestWithQueue(results, settings, queue({ edited: 'accepted' })).simulated).toBe(own.simulated - 1);
  });

  it('a queue verdict on a result nobody reviewed adds to the reviewed; one on a result the figures leave out counts for nothing', () => {
    const own = runFigures();
    const added = suggestWithQueue(results, settings, queue({ unreviewed: 'rejected' }));
    expect(added).toMatchObject({ reviewed: own.reviewed + 1, rejected: own.rejected + 1, fromQueue: 1 });
    expect(added.overrideRate).toEqual(rateMetric(own.edited + own.rejected + 1, own.reviewed + 1));
    const outside = new Map([[resultKey('errored', 0), { verdict: 'rejected' as const }], [resultKey('recorded', 1), { verdict: 'rejected' as const }]]);
    expect(suggestWithQueue(results, settings, outside)).toEqual({ ...own, fromQueue: 0 });
  });
});

describe('whose review the suggest figures count', () => {
  const figures = (rs: TraceResult[]) => {
    const acc = createMetricsAccumulator({ phase: 'suggest', ...settings });
    for (const r of rs) acc.add(r);
    const phase = acc.finish().phase;
    if (!phase || !('suggest' in phase)) throw new Error('no suggest figures');
    return phase.suggest;
  };

  it('a recorded verdict on a suggestion the trace does not record is not the candidate\'s: simulated against the human decision instead', () => {
    // The recorded agent's suggestion is unknown (no outcome decision): "accepted" may have judged anything.
    const r = suggestion('verdict-of-unknown', { action: 'escalate', amount: 0 }, { decision: refund, tools: [], review: { verdict: 'accepted' } });
    expect(figures([r])).toMatchObject({ reviewed: 1, accepted: 0, rejected: 1, simulated: 1 });
    expect(suggestWithQueue([r], settings, new Map())).toMatchObject({ reviewed: 1, accepted: 0, rejected: 1, simulated: 1 });
  });

  it('counts a case once, by its first result (lowest trial, then lowest trace id), whatever order the results arrive in', () => {
    // Three recorded traces of one case, replayed one by one: each result is trial 0 of the run.
    const ofCase = [
      suggestion('c-3', { action: 'escalate', amount: 0 }, { decision: refund, tools: [] }, { caseId: 'C' }),
      suggestion('c-1', refund, { decision: refund, tools: [] }, { caseId: 'C' }),
      suggestion('c-2', { action: 'escalate', amount: 0 }, { decision: refund, tools: [] }, { caseId: 'C' }),
    ];
    for (const order of [ofCase, [...ofCase].reverse()]) {
      expect(figures(order)).toMatchObject({ reviewed: 1, accepted: 1, rejected: 0 });
      expect(suggestWithQueue(order, settings, new Map())).toMatchObject({ reviewed: 1, accepted: 1, rejected: 0 });
    }
    // A queue verdict on a later result of the case counts for nothing; on its first, it counts.
    expect(suggestWithQueue(ofCase, settings, new Map([[resultKey('c-2', 0), { verdict: 'rejected' as const }]]))).toMatchObject({ reviewed: 1, accepted: 1, fromQueue: 0 });
    expect(suggestWithQueue(ofCase, settings, new Map([[resultKey('c-1', 0), { verdict: 'rejected' as const }]]))).toMatchObject({ reviewed: 1, rejected: 1, fromQueue: 1 });
  });

  it('counts the review sample of an auto-with-review run by case as well', () => {
    const rows = Array.from({ length: 10 }, (_, i) => aResult(`s-${i}`, { caseId: 'S', decision: refund, agree: i !== 0, reference: { decision: refund, tools: [] } }));
    const acc = createMetricsAccumulator({ phase: 'auto-with-review', decision: settings.decision, review: { sampleRate: 1, seed: 0 } });
    for (const r of [...rows].reverse()) acc.add(r);
    const phase = acc.finish().phase;
    if (!phase || !('autoWithReview' in phase)) throw new Error('no review figures');
    // One case, its first result (s-0) disagreeing: one sampled, one error.
    expect(phase.autoWithReview).toMatchObject({ sampled: 1, sampleErrorRate: { rate: 1, n: 1 } });
  });
});

describe('latestVerdicts', () => {
  it('the latest verdict on each result of the run, by trace and trial; items without a verdict, and other runs\' items, are not there', () => {
    const store = createMemoryStore();
    const enqueue = (runId: string, traceId: string, trial = 0) =>
      store.enqueueReview({ runId, traceId, trial, workflow: 'w', phase: 'suggest', input: null, steps: [], suggestion: null, reference: null, enqueuedAt: '2026-01-01T00:00:00.000Z' });
    const verdict = (itemId: number, v: ReviewVerdict, at: string) => store.addVerdict({ itemId, verdict: v, reviewer: 'ana', at });
    const twice = enqueue('run-1', 'recorded');
    verdict(twice, 'rejected', '2026-01-02T00:00:00.000Z');
    verdict(twice, 'accepted', '2026-01-03T00:00:00.000Z');
    verdict(enqueue('run-1', 'recorded', 1), 'edited', '2026-01-02T00:00:00.000Z');
    enqueue('run-1', 'rejected');
    verdict(enqueue('run-2', 'edited'), 'rejected', '2026-01-02T00:00:00.000Z');
    const latest = latestVerdicts(store, 'run-1');
    expect([...latest].map(([key, v]) => [key, v.verdict])).toEqual([
      [resultKey('recorded', 0), 'accepted'],
      [resultKey('recorded', 1), 'edited'],
    ]);
    // Counted: the later acceptance, where the run itself counted the recorded acceptance too.
    expect(suggestWithQueue(results, settings, latest)).toEqual({ ...runFigures(), fromQueue: 1 });
  });
});
