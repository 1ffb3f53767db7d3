import { DuplicateResultError, LeaseLostError, StoreError } from '../errors.js';
import type { Exchange } from '../providers/transport.js';
import { parseStoredResult } from './stored-result.js';
import { describeLease, type ReviewItem, type ReviewVerdictRecord, type RunLease, type RunMeta, type RunRecord, type ShardRecord, type Store } from './types.js';

/**
 * A Store in process memory, for tests and dry runs. It behaves as the SQLite
 * store does: values go through JSON on the way in and out (so callers cannot
 * mutate stored data, and what survives is exactly what SQLite would keep), and
 * writes are refused while a results() iteration is open.
 */
/** How messages name the memory store. */
const STORE = 'the memory store';

export function createMemoryStore(): Store {
  // Map order is insertion order, which stands in for SQLite's rowid.
  const runs = new Map<string, RunRecord>();
  const results = new Map<string, Map<string, string>>();
  const exchanges = new Map<string, string>();
  const items: ReviewItem[] = [];
  const verdicts: ReviewVerdictRecord[] = [];
  // Keyed by run id, or `<runId>#<shard>` for a shard's lease.
  const leases = new Map<string, RunLease>();
  const leaseKey = (runId: string, shard?: number) => (shard === undefined ? runId : `${runId}#${shard}`);
  const shards = new Map<string, ShardRecord[]>();
  const claims = new Map<number, { session: string; reviewer: string; at: string }>();
  const cursors = cursorGuard();
  /** Entries as [key, JSON]; keys are `<traceId>#<trial>`. */
  const resultEntries = (runId: string): IterableIterator<[key: string, json: string]> => cursors.track(results.get(runId)?.entries() ?? []);
  function* resultsJson(runId: string): IterableIterator<string> {
    for (const [, json] of resultEntries(runId)) yield json;
  }

  // A token is issued for one lease: holding the run's or one of its shards' is holding the one it was issued for.
  const assertLeased = (runId: string, token: string | undefined, shard?: number): void => {
    if (token === undefined) return;
    const holds = [...leases].some(([key, l]) => l.token === token && (key === runId || key.startsWith(`${runId}#`)));
    const held = leases.get(leaseKey(runId, shard));
    if (!holds) throw new LeaseLostError(runId, held ? describeLease(held) : 'no one');
  };
  const shardOf = (runId: string, index: number) => shards.get(runId)?.find((s) => s.index === index);
  const assertWritable = cursors.assertWritable;

  return {
    createRun(meta) {
      assertWritable();
      if (runs.has(meta.runId)) throw new StoreError(`run ${meta.runId} already exists in memory`);
      runs.set(meta.runId, { ...pickMeta(copy(meta)), shard: meta.shard ?? null, tracesHash: meta.tracesHash ?? null, finishedAt: null, summary: null });
      results.set(meta.runId, new Map());
    },

    getRun(runId) {
      const run = runs.get(runId);
      return run && copy(run);
    },

    listRuns({ suite, limit } = {}) {
      const newestFirst = [...runs.values()]
        .reverse()
        .filter((run) => suite === undefined || run.suite === suite)
        // Stable sort, so runs started at the same time stay newest-inserted first.
        .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
      return copy(limit === undefined || limit < 0 ? newestFirst : newestFirst.slice(0, limit));
    },

    appendResult(runId, key, result) {
      assertWritable();
      const stored = results.get(runId);
      if (!stored) throw new StoreError(`cannot append to unknown run ${runId}`);
      if (stored.has(key)) throw new DuplicateResultError(runId, key);
      stored.set(key, JSON.stringify(result));
    },

    appendResults(runId, entries, lease) {
      assertWritable();
      const stored = results.get(runId);
      if (!stored) throw new StoreError(`cannot append to unknown run ${runId}`);
      assertLeased(runId, lease);
      return entries.map(({ key, result }) => {
        if (stored.has(key)) return new DuplicateResultError(runId, key);
        try {
          stored.set(key, JSON.stringify(result));
          return null;
        } catch (error) {
          return error as Error;
        }
      });
    },

    resultKeys(runId) {
      return new Set(results.get(runId)?.keys());
    },

    resultsOfTrace(runId, traceId) {
      return [...(results.get(runId)?.entries() ?? [])].filter(([key]) => key.startsWith(`${traceId}#`)).map(([, json]) => parseStoredResult(json, { store: STORE, runId, traceId }));
    },

    hasResult(runId, key) {
      return results.get(runId)?.has(key) ?? false;
    },

    countResults(runId) {
      return results.get(runId)?.size ?? 0;
    },

    *results(runId) {
      for (const [key, json] of resultEntries(runId)) yield parseStoredResult(json, { store: STORE, runId, traceId: key.slice(0, key.lastIndexOf('#')) });
    },

    resultsJson,

    finishRun(runId, finishedAt, summary, lease) {
      assertWritable();
      const run = runs.get(runId);
      if (!run) throw new StoreError(`cannot finish unknown run ${runId}`);
      assertLeased(runId, lease);
      runs.set(runId, { ...run, finishedAt, summary: copy(summary ?? null) });
    },

    startShard({ runId, index, count, startedAt }) {
      assertWritable();
      if (!runs.has(runId)) throw new StoreError(`cannot start a shard of unknown run ${runId}`);
      if (shardOf(runId, index)) return;
      const list = [...(shards.get(runId) ?? []), { runId, index, count, startedAt, finishedAt: null, summary: null }];
      shards.set(runId, list.sort((a, b) => a.index - b.index));
    },

    listShards(runId) {
      return copy(shards.get(runId) ?? []);
    },

    finishShard(runId, index, finishedAt, summary, lease) {
      assertWritable();
      const shard = shardOf(runId, index);
      if (!shard) throw new StoreError(`cannot finish shard ${index} of run ${runId}: it has not started`);
      assertLeased(runId, lease, index);
      Object.assign(shard, { finishedAt, summary: copy(summary ?? null) });
    },

    acquireLease(runId, lease, { staleBefore, replacing }, shard) {
      assertWritable();
      if (!runs.has(runId)) throw new StoreError(`cannot lease unknown run ${runId}`);
      if (shard !== undefined && !shardOf(runId, shard)) throw new StoreError(`cannot lease shard ${shard} of run ${runId}: it has not started`);
      const key = leaseKey(runId, shard);
      const held = leases.get(key);
      if (held === undefined || held.heartbeatAt < staleBefore || held.token === replacing) leases.set(key, copy(lease));
      return copy(leases.get(key)!);
    },

    getLease(runId, shard) {
      const held = leases.get(leaseKey(runId, shard));
      return held ? copy(held) : null;
    },

    renewLease(runId, token, heartbeatAt, shard) {
      assertWritable();
      const key = leaseKey(runId, shard);
      const held = leases.get(key);
      if (held?.token !== token) return false;
      leases.set(key, { ...held, heartbeatAt });
      return true;
    },

    releaseLease(runId, token, shard) {
      assertWritable();
      const key = leaseKey(runId, shard);
      if (leases.get(key)?.token === token) leases.delete(key);
    },

    enqueueReview(item) {
      assertWritable();
      const found = items.find((i) => i.runId === item.runId && i.traceId === item.traceId && i.trial === item.trial);
      if (found) return found.id;
      const id = items.length + 1;
      items.push(copy({ ...item, id }));
      return id;
    },

    reviewItems({ pending = false, runId } = {}) {
      return copy(
        items
          .filter((i) => runId === undefined || i.runId === runId)
          .map((i) => ({ ...i, verdicts: verdicts.filter((v) => v.itemId === i.id) }))
          .filter((i) => !pending || i.verdicts.length === 0),
      );
    },

    addVerdict(v) {
      assertWritable();
      if (!items.some((i) => i.id === v.itemId)) throw new StoreError(`no review item ${v.itemId}`);
      verdicts.push(copy(v));
    },

    claimReview({ session, reviewer, at, staleBefore, runId, after = 0 }) {
      assertWritable();
      const free = (id: number) => {
        const claim = claims.get(id);
        return claim === undefined || claim.at < staleBefore || claim.session === session;
      };
      const item = items.find((i) => i.id > after && (runId === undefined || i.runId === runId) && !verdicts.some((v) => v.itemId === i.id) && free(i.id));
      if (!item) return undefined;
      claims.set(item.id, { session, reviewer, at });
      return copy({ ...item, verdicts: [] });
    },

    releaseReview(itemId, session) {
      assertWritable();
      if (claims.get(itemId)?.session === session) claims.delete(itemId);
    },

    getExchange(key) {
      const json = exchanges.get(key);
      return json === undefined ? undefined : (JSON.parse(json) as Exchange);
    },

    putExchange(exchange) {
      assertWritable();
      exchanges.set(exchange.key, JSON.stringify(exchange));
    },

    close() {},
  };
}

/**
 * better-sqlite3 cannot write while a cursor is open on its connection; both
 * stores refuse with this same error so that tests on memory catch the misuse.
 */
export function writeWhileReadingError(): StoreError {
  return new StoreError('cannot write to the store while a results() iteration is still open', {
    hint: 'finish or break out of the loop over results() first, or collect them with Array.from',
  });
}

/**
 * The one mechanism every store uses to refuse a write while results() is being read:
 * `track` counts an iteration as open from its first row until it ends or is left.
 */
export function cursorGuard(): { track<T>(rows: Iterable<T>): IterableIterator<T>; assertWritable(): void } {
  let open = 0;
  return {
    *track<T>(rows: Iterable<T>): IterableIterator<T> {
      open++;
      try {
        yield* rows;
      } finally {
        open--;
      }
    },
    assertWritable(): void {
      if (open > 0) throw writeWhileReadingError();
    },
  };
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Only the RunMeta fields, as SQLite keeps only its columns. */
function pickMeta(meta: RunMeta): RunMeta {
  const { runId, suite, suiteFile, suiteHash, candidateHash, candidate, model, promptVersion } = meta;
  const { phase, reference, gitCommit, gitRef, startedAt, candidateSource, replica } = meta;
  return {
    candidateSource: candidateSource ?? null,
    replica: replica ?? 0,
    runId,
    suite,
    suiteFile,
    suiteHash,
    candidateHash,
    candidate,
    model,
    promptVersion,
    phase,
    reference,
    gitCommit,
    gitRef,
    startedAt,
  };
}
