import type { Redactor } from '../secrets.js';
import type { Store } from './types.js';

/**
 * The store with the run's secrets redacted from everything written to it: runs, results,
 * summaries, review items and verdicts, and the response cache (a provider may echo a key in
 * an answer, which would otherwise be cached verbatim). Reads pass through. The cache key is
 * a hash of the request, so a redacted entry is still found; a cached answer then carries
 * `[redacted:NAME]` where the key was.
 */
export function redactingStore(store: Store, redactor: Redactor): Store {
  if (redactor.names.length === 0) return store;
  const r = redactor;
  const redacted = (entries: Parameters<Store['appendResults']>[1]) => entries.map(({ key, result }) => ({ key, result: r.value(result) }));
  return {
    ...store,
    createRun: (meta) => store.createRun(r.value(meta)),
    appendResult: (runId, key, result) => store.appendResult(runId, key, r.value(result)),
    // The lease token (last argument) passes through: it fences the writes, and is no secret.
    appendResults: (runId, entries, lease) => store.appendResults(runId, redacted(entries), lease),
    ...(store.appendResultsLater ? { appendResultsLater: (runId, entries, lease) => store.appendResultsLater!(runId, redacted(entries), lease) } : {}),
    finishRun: (runId, finishedAt, summary, lease) => store.finishRun(runId, finishedAt, r.value(summary), lease),
    finishShard: (runId, index, finishedAt, summary, lease) => store.finishShard(runId, index, finishedAt, r.value(summary), lease),
    putExchange: (exchange) => store.putExchange(r.value(exchange)),
    enqueueReview: (item) => store.enqueueReview(r.value(item)),
    addVerdict: (verdict) => store.addVerdict(r.value(verdict)),
  };
}
