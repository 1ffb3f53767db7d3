import { NotFoundError, UsageError } from '../errors.js';
import type { TraceResult } from '../replay/types.js';
import type { Store } from '../store/types.js';
import { acquireRunLease, type LeaseOptions } from './lease.js';
import { mergeShards, type RunDocument } from './merge.js';
import { keptSettings, shardOf, type RunOutcome, type ShardSummary } from './run-suite.js';

/** The shards of a run that have not finished, as `2/3 (running)` or `3/3 (not started)`; empty once all have. */
export function unfinishedShards(store: Store, runId: string): string[] {
  const shards = store.listShards(runId);
  const count = shards[0]?.count ?? 0;
  return Array.from({ length: count }, (_, i) => i + 1).flatMap((index) => {
    const shard = shards.find((s) => s.index === index);
    return shard?.finishedAt ? [] : [`${index}/${count} (${shard ? 'not finished' : 'not started'})`];
  });
}

/**
 * Finalizes a run its shards wrote into (`run --run-id <id> --shard i/n`): once every shard has
 * finished, its metrics, checks and verdict are computed from the stored results and each
 * shard's settings, by the code `merge` uses on results files (mergeShards, which is `run`'s
 * accumulator and completeRun), and the run is marked finished with its summary. Finalizing a
 * finalized run computes the same figures again. Before every shard has finished: a UsageError naming the missing ones.
 */
export function finalizeRun(store: Store, runId: string, now: Date, lease: Pick<LeaseOptions, 'timeoutMs'> = {}): { outcome: RunOutcome; results: TraceResult[]; shards: number } {
  const run = store.getRun(runId);
  if (!run) throw new NotFoundError(`no run ${runId} in the store`, 'list runs with `shadowgate runs`, or check --db');
  const shards = store.listShards(runId);
  if (shards.length === 0) throw new UsageError(`run ${runId} was not written by shards (run --run-id ${runId} --shard i/n): there is nothing to finalize`, 'a run of its own is finished by `run`; results files of shards are combined by `merge`');
  const missing = unfinishedShards(store, runId);
  if (missing.length > 0) {
    throw new UsageError(`run ${runId} cannot be finalized: shard(s) ${missing.join(', ')}`, `run the missing shards with --run-id ${runId} --shard i/${shards[0]!.count} (a shard that stopped resumes where it stopped), then finalize`);
  }
  // One finalizer at a time: the run's own lease, beside its shards'.
  const held = acquireRunLease(store, runId, lease);
  try {
    const count = shards[0]!.count;
    const buckets: TraceResult[][] = shards.map(() => []);
    for (const r of store.results(runId)) buckets[shardOf(r.caseId, count)]!.push(r);
    const docs = shards.map((shard, i): RunDocument => {
      const summary = shard.summary as ShardSummary;
      return {
        schema: 'shadowgate.run/v1',
        runId,
        suite: { name: run.suite, file: run.suiteFile, hash: run.suiteHash },
        phase: run.phase,
        candidate: { label: run.candidate, hash: run.candidateHash, model: run.model, promptVersion: run.promptVersion, source: run.candidateSource },
        reference: run.reference,
        startedAt: shard.startedAt,
        finishedAt: shard.finishedAt!,
        git: { commit: run.gitCommit, ref: run.gitRef },
        shard: { index: shard.index, count: shard.count },
        settings: summary.settings,
        metrics: { safetyViolations: { runLevel: summary.runLevel } },
        issues: summary.issues,
        coverage: summary.coverage,
        warnings: summary.warnings,
        modelCalls: summary.modelCalls,
        results: buckets[i]!,
      };
    });
    const merged = mergeShards(docs, shards.map((s) => `shard ${s.index}/${count} of run ${runId}`), now, runId);
    const { outcome } = merged;
    outcome.meta = { ...outcome.meta, startedAt: run.startedAt, replica: run.replica };
    const { counts, metrics, gate, coverage, issues, warnings, modelCalls, settings } = outcome;
    store.finishRun(runId, outcome.finishedAt, { counts, metrics, gate, coverage, issues: issues.length, warnings, modelCalls, shard: null, shards: count, settings: keptSettings(settings) }, held.token);
    return { ...merged, shards: count };
  } finally {
    held.release();
  }
}
