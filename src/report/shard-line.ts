import type { RunOutcome } from '../run/run-suite.js';

/**
 * What a shard's output says first: that it is shard i of n, split by case id, and how many
 * traces it holds, so that its figures are not read as the whole suite's. Null for a whole run
 * (a merged run included). Pure.
 * @example shardLine(outcome) // "shard 2/3 (split by case id), holding 160 traces of the suite; shadowgate merge joins the shards into the whole run"
 */
export function shardLine(outcome: Pick<RunOutcome, 'shard' | 'coverage' | 'counts' | 'trials' | 'shared' | 'meta'>): string | null {
  const s = outcome.shard;
  if (!s) return null;
  // Every shard reads (and counts) the unreadable lines; the traces it holds are the readable ones in its share.
  const traces = outcome.coverage ? outcome.coverage.lines - outcome.coverage.unreadable : Math.round(outcome.counts.total / Math.max(1, outcome.trials));
  return `shard ${s.index}/${s.count} (split by case id), holding ${traces} traces of the suite; ${outcome.shared ? `shadowgate finalize ${outcome.meta.runId} computes the whole run once every shard has finished` : 'shadowgate merge joins the shards into the whole run'}`;
}
