import { caseFirsts, reviewOptions, suggestAccumulator, suggestItem, type QueuedVerdict, type SuggestSettings } from '../metrics/summary.js';
import { resultKey, type TraceResult } from '../replay/types.js';
import type { ReviewVerdictRecord, Store } from '../store/types.js';
import { reviewVerdictOf, type ReviewVerdict, type SuggestItem, type SuggestMetrics } from './suggest.js';

/**
 * The review queue's verdicts on a run's results: for each result (by `resultKey`, trace id and
 * trial) with a verdict, the latest one (verdicts are appended, never changed: the latest counts).
 * What `drift` over stored runs and `phase` both read of the queue.
 */
export function latestVerdicts(store: Pick<Store, 'reviewItems'>, runId: string): Map<string, ReviewVerdictRecord> {
  const latest = new Map<string, ReviewVerdictRecord>();
  for (const item of store.reviewItems({ runId })) {
    const last = item.verdicts.at(-1);
    if (last) latest.set(resultKey(item.traceId, item.trial), last);
  }
  return latest;
}

/**
 * A suggest run's review figures with the review queue counted: every result counts as the run
 * counted it (`suggestItem`: its recorded review, or one simulated against the human decision),
 * except that a person's verdict from the queue takes the place of the run's own where the queue
 * has one. The override rate is (edited + rejected) / reviewed as in the run's own figures, and
 * with no queue verdict the figures are the run's. `fromQueue`: how many of `reviewed` are queue
 * verdicts (a verdict on a result the figures leave out, not its case's first, counts for nothing). Pure.
 */
export function suggestWithQueue(
  results: Iterable<TraceResult>,
  settings: SuggestSettings,
  verdicts: ReadonlyMap<string, QueuedVerdict>,
): SuggestMetrics & { fromQueue: number } {
  const accumulator = suggestAccumulator(settings);
  // Each case counts once, by its first result (as the run counted it).
  const firsts = caseFirsts<{ item: SuggestItem | null; queued: boolean }>();
  for (const r of results) {
    firsts.offer(r, () => {
      const queued = verdicts.get(resultKey(r.traceId, r.trial));
      return { item: suggestItem(r, settings, queued), queued: queued !== undefined };
    });
  }
  let fromQueue = 0;
  for (const { item, queued } of firsts.values()) {
    if (!item) continue;
    accumulator.add(item);
    if (queued) fromQueue++;
  }
  return { ...accumulator.finish(), fromQueue };
}

/**
 * The verdict one result of a suggest run counts for in `suggestWithQueue`'s figures: the queue's
 * where there is one, else the run's own (recorded, or simulated with the run's settings); null for
 * a result without an outcome. `drift` over stored runs takes here the verdict of each case's first
 * result, so that its override rate of a run is `phase`'s. Pure.
 */
export function suggestVerdict(result: TraceResult, settings: SuggestSettings, queued: QueuedVerdict | undefined): ReviewVerdict | null {
  const item = suggestItem(result, settings, queued);
  return item ? (reviewVerdictOf(item, reviewOptions(settings))?.verdict ?? null) : null;
}
