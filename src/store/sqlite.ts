import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DuplicateResultError, LeaseLostError, StoreError } from '../errors.js';
import type { TraceResult } from '../replay/types.js';
import { migrate } from './migrations.js';
import { cursorGuard } from './memory.js';
import { parseStoredResult } from './stored-result.js';
import { backgroundWriter, type BackgroundWriter } from './sqlite-writer.js';
import { describeLease, type AppendOutcome, type ReviewItem, type ReviewVerdictRecord, type RunLease, type RunRecord, type ShardRecord, type Store } from './types.js';

const RUN_COLUMNS = `run_id AS runId, suite, suite_file AS suiteFile, suite_hash AS suiteHash,
  candidate_hash AS candidateHash, candidate, model, prompt_version AS promptVersion, phase, reference,
  git_commit AS gitCommit, git_ref AS gitRef, started_at AS startedAt, finished_at AS finishedAt,
  summary_json AS summaryJson, candidate_json AS candidateJson, replica, shard, traces_hash AS tracesHash`;

type RunRow = Omit<RunRecord, 'summary' | 'candidateSource'> & { summaryJson: string | null; candidateJson: string | null };

function toRecord({ summaryJson, candidateJson, ...row }: RunRow): RunRecord {
  return {
    ...row,
    candidateSource: candidateJson === null ? null : JSON.parse(candidateJson),
    summary: summaryJson === null ? null : JSON.parse(summaryJson),
  };
}

export interface SqliteStoreOptions {
  /**
   * How long a write waits for another connection's lock before failing.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/**
 * A Store in one SQLite file (or `:memory:`). Each write is its own autocommit
 * statement, and WAL with synchronous=NORMAL makes it durable against the
 * process being killed (not against power loss) without an fsync per result.
 */
export function createSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  return openSqlite(file, options).store;
}

/**
 * The rows side of a SQLite store, for the background writer's thread: appends rows already
 * written as JSON, under the same lease check and in the same transaction as appendResults.
 */
export function sqliteRowAppender(file: string, options: SqliteStoreOptions = {}): { append: (runId: string, rows: readonly ResultRow[], lease: string | undefined) => AppendOutcome[]; close: () => void } {
  const { appendRows, store } = openSqlite(file, options);
  return { append: appendRows, close: () => store.close() };
}

/** A result as the row it is stored in, its JSON written once; or why it cannot be stored (it is not JSON). */
export interface ResultRow {
  key: string;
  traceId: string;
  caseId: string;
  trial: number;
  status: string;
  json: string;
}

function resultRow({ key, result }: { key: string; result: TraceResult }): ResultRow | Error {
  try {
    return { key, traceId: result.traceId, caseId: result.caseId, trial: result.trial, status: result.status, json: JSON.stringify(result) };
  } catch (error) {
    return error as Error;
  }
}

/** '' is SQLite's private temporary database: like ':memory:', no other connection can open it. */
const inMemory = (file: string) => file === ':memory:' || file === '';

function openSqlite(file: string, options: SqliteStoreOptions): { store: Store; appendRows: (runId: string, rows: readonly (ResultRow | Error)[], lease: string | undefined) => AppendOutcome[] } {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = open(file, busyTimeoutMs);
  let background: BackgroundWriter | undefined;
  const fail = (error: unknown): never => {
    throw toStoreError(error, file) ?? error;
  };

  const insertRun = db.prepare(`INSERT INTO runs (run_id, suite, suite_file, suite_hash, candidate_hash,
    candidate, model, prompt_version, phase, reference, git_commit, git_ref, started_at, candidate_json, replica, shard, traces_hash)
    VALUES (@runId, @suite, @suiteFile, @suiteHash, @candidateHash, @candidate, @model, @promptVersion,
    @phase, @reference, @gitCommit, @gitRef, @startedAt, @candidateJson, @replica, @shard, @tracesHash)`);
  const selectRun = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`);
  // A negative LIMIT means no limit in SQLite.
  const selectRuns = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE (@suite IS NULL OR suite = @suite)
    ORDER BY started_at DESC, rowid DESC LIMIT @limit`);
  const updateRun = db.prepare('UPDATE runs SET finished_at = ?, summary_json = ? WHERE run_id = ?');
  // seq is computed in the INSERT itself so that appending stays one atomic statement.
  const insertResult = db.prepare(`INSERT INTO results (run_id, key, seq, trace_id, case_id, trial, status, result_json)
    VALUES (@runId, @key, (SELECT COALESCE(MAX(seq), 0) + 1 FROM results WHERE run_id = @runId),
    @traceId, @caseId, @trial, @status, @json)`);
  const selectKeys = db.prepare('SELECT key FROM results WHERE run_id = ?').pluck();
  const countRows = db.prepare('SELECT COUNT(*) FROM results WHERE run_id = ?').pluck();
  const selectHas = db.prepare('SELECT 1 FROM results WHERE run_id = ? AND key = ?').pluck();
  // Keys are `<traceId>#<trial>`: a range on the primary key finds a trace's trials without a scan.
  const selectTrace = db.prepare("SELECT result_json FROM results WHERE run_id = ? AND key >= ? || '#' AND key < ? || '$' ORDER BY seq").pluck();
  // Rows as [trace id, JSON]: the trace id names a result that cannot be parsed.
  const selectResults = db.prepare('SELECT trace_id, result_json FROM results WHERE run_id = ? ORDER BY seq').raw();
  const insertItem = db.prepare(`INSERT OR IGNORE INTO review_items (run_id, trace_id, trial, workflow, phase, input_json, steps_json, suggestion_json, reference_json, enqueued_at)
    VALUES (@runId, @traceId, @trial, @workflow, @phase, @input, @steps, @suggestion, @reference, @enqueuedAt)`);
  const selectItemId = db.prepare('SELECT id FROM review_items WHERE run_id = ? AND trace_id = ? AND trial = ?').pluck();
  const selectItems = db.prepare(`SELECT i.id, i.run_id AS runId, i.trace_id AS traceId, i.trial, i.workflow, i.phase, i.input_json AS input, i.steps_json AS steps,
    i.suggestion_json AS suggestion, i.reference_json AS reference, i.enqueued_at AS enqueuedAt FROM review_items i
    WHERE (@runId IS NULL OR i.run_id = @runId)
      AND (@pending = 0 OR NOT EXISTS (SELECT 1 FROM review_verdicts v WHERE v.item_id = i.id)) ORDER BY i.id`);
  const selectVerdicts = db.prepare('SELECT item_id AS itemId, verdict, final_json AS final, reason, reviewer, at FROM review_verdicts WHERE item_id = ? ORDER BY id');
  const insertVerdict = db.prepare('INSERT INTO review_verdicts (item_id, verdict, final_json, reason, reviewer, at) VALUES (?, ?, ?, ?, ?, ?)');
  // The next pending item after @after that is free for @session; the IMMEDIATE transaction around it serializes claimers.
  const selectClaimable = db.prepare(`SELECT i.id FROM review_items i LEFT JOIN review_claims c ON c.item_id = i.id
    WHERE i.id > @after AND (@runId IS NULL OR i.run_id = @runId)
      AND NOT EXISTS (SELECT 1 FROM review_verdicts v WHERE v.item_id = i.id)
      AND (c.item_id IS NULL OR c.claimed_at < @staleBefore OR c.session = @session)
    ORDER BY i.id LIMIT 1`).pluck();
  const upsertClaim = db.prepare('INSERT OR REPLACE INTO review_claims (item_id, session, reviewer, claimed_at) VALUES (?, ?, ?, ?)');
  const deleteClaim = db.prepare('DELETE FROM review_claims WHERE item_id = ? AND session = ?');
  const claim = db.transaction((options: { session: string; reviewer: string; at: string; staleBefore: string; runId: string | null; after: number }): number | undefined => {
    const id = selectClaimable.get(options) as number | undefined;
    if (id !== undefined) upsertClaim.run(id, options.session, options.reviewer, options.at);
    return id;
  });
  const selectExchange = db.prepare('SELECT request_json, status, response_body, latency_ms FROM model_cache WHERE key = ?');
  const upsertExchange = db.prepare(
    'INSERT OR REPLACE INTO model_cache (key, request_json, status, response_body, latency_ms) VALUES (?, ?, ?, ?, ?)',
  );

  const LEASE_COLUMNS = 'lease_token AS token, lease_pid AS pid, lease_host AS host, lease_heartbeat_at AS heartbeatAt';
  // A run's lease is in its row of runs; a shard's in its row of run_shards: the same columns and statements on each.
  const leaseStatements = (table: string, where: string) => ({
    select: db.prepare(`SELECT ${LEASE_COLUMNS} FROM ${table} WHERE ${where}`),
    // The one statement that takes a lease: whoever's UPDATE matches first wins, and the other's then matches nothing.
    take: db.prepare(`UPDATE ${table} SET lease_token = @token, lease_pid = @pid, lease_host = @host, lease_heartbeat_at = @heartbeatAt
      WHERE ${where} AND (lease_token IS NULL OR lease_heartbeat_at < @staleBefore OR lease_token = @replacing)`),
    touch: db.prepare(`UPDATE ${table} SET lease_heartbeat_at = @heartbeatAt WHERE ${where} AND lease_token = @token`),
    drop: db.prepare(`UPDATE ${table} SET lease_token = NULL, lease_pid = NULL, lease_host = NULL, lease_heartbeat_at = NULL WHERE ${where} AND lease_token = @token`),
  });
  const runLeases = leaseStatements('runs', 'run_id = @runId');
  const shardLeases = leaseStatements('run_shards', 'run_id = @runId AND shard_index = @shard');
  const leasesOf = (shard: number | undefined) => (shard === undefined ? runLeases : shardLeases);
  const leaseOf = (runId: string, shard?: number): RunLease | null | undefined => {
    const row = leasesOf(shard).select.get({ runId, shard: shard ?? null }) as { token: string | null; pid: number; host: string; heartbeatAt: string } | undefined;
    return row === undefined ? undefined : row.token === null ? null : (row as RunLease);
  };
  // A token is issued for one lease: holding the run's or one of its shards' is holding the one it was issued for.
  const selectHolds = db.prepare(`SELECT 1 FROM runs WHERE run_id = @runId AND lease_token = @token
    UNION ALL SELECT 1 FROM run_shards WHERE run_id = @runId AND lease_token = @token`).pluck();
  /** Throws a LeaseLostError unless `token` (when given) holds a lease of the run; inside a write transaction, so that nothing can take it between the check and the write. */
  const assertLeased = (runId: string, token: string | undefined, shard?: number): void => {
    if (token === undefined || selectHolds.get({ runId, token }) !== undefined) return;
    const held = leaseOf(runId, shard);
    throw new LeaseLostError(runId, held ? describeLease(held) : 'no one');
  };
  const acquire = db.transaction((runId: string, lease: RunLease, staleBefore: string, replacing: string | null, shard: number | undefined): RunLease => {
    const taken = leasesOf(shard).take.run({ ...lease, runId, shard: shard ?? null, staleBefore, replacing }).changes === 1;
    const held = leaseOf(runId, shard);
    if (held === undefined) throw new StoreError(shard === undefined ? `cannot lease unknown run ${runId}` : `cannot lease shard ${shard} of run ${runId}: it has not started`);
    return taken ? lease : held!;
  });
  const insertShard = db.prepare(`INSERT INTO run_shards (run_id, shard_index, shard_count, started_at) VALUES (@runId, @index, @count, @startedAt)
    ON CONFLICT (run_id, shard_index) DO NOTHING`);
  const selectShards = db.prepare(`SELECT run_id AS runId, shard_index AS "index", shard_count AS count, started_at AS startedAt,
    finished_at AS finishedAt, summary_json AS summaryJson FROM run_shards WHERE run_id = ? ORDER BY shard_index`);
  const updateShard = db.prepare('UPDATE run_shards SET finished_at = ?, summary_json = ? WHERE run_id = ? AND shard_index = ?');
  const finishShardLeased = db.transaction((runId: string, index: number, finishedAt: string, summaryJson: string, token: string | undefined): number => {
    assertLeased(runId, token, index);
    return updateShard.run(finishedAt, summaryJson, runId, index).changes;
  });
  const finishLeased = db.transaction((runId: string, finishedAt: string, summaryJson: string, token: string | undefined): number => {
    assertLeased(runId, token);
    return updateRun.run(finishedAt, summaryJson, runId).changes;
  });

  // One transaction for a group: a refused result (duplicate, not JSON) is that result's outcome, and
  // the statement's failure leaves the transaction going; anything else rolls the group back.
  const appendGroup = db.transaction((runId: string, rows: readonly (ResultRow | Error)[], lease: string | undefined): AppendOutcome[] => {
    assertLeased(runId, lease);
    return rows.map((row) => {
      if (row instanceof Error) return row;
      try {
        insertResult.run({ runId, ...row });
        return null;
      } catch (error) {
        const refused = appendError(error, runId, row.key);
        if (refused instanceof DuplicateResultError) return refused;
        throw refused;
      }
    });
  });
  /** Appends rows already written as JSON: the store's appendResults, and the background writer's (see sqlite-writer). */
  const appendRows = (runId: string, rows: readonly (ResultRow | Error)[], lease: string | undefined): AppendOutcome[] => {
    assertWritable();
    try {
      // IMMEDIATE: the write lock is taken before the lease is read, so no other writer comes between.
      return appendGroup.immediate(runId, rows, lease);
    } catch (error) {
      return fail(error);
    }
  };

  // better-sqlite3 refuses any write while an iterate() cursor is open on the
  // connection; say so plainly instead of its TypeError.
  const cursors = cursorGuard();
  function* resultRows(runId: string): IterableIterator<[traceId: string, json: string]> {
    try {
      yield* cursors.track(selectResults.iterate(runId) as IterableIterator<[string, string]>);
    } catch (error) {
      fail(error);
    }
  }
  function* resultsJson(runId: string): IterableIterator<string> {
    for (const [, json] of resultRows(runId)) yield json;
  }
  const assertWritable = cursors.assertWritable;

  const store: Store = {
    createRun(meta) {
      assertWritable();
      try {
        // extra properties on meta are ignored by named binding
        insertRun.run({ ...meta, shard: meta.shard ?? null, tracesHash: meta.tracesHash ?? null, candidateJson: meta.candidateSource === null ? null : JSON.stringify(meta.candidateSource) });
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new StoreError(`run ${meta.runId} already exists in ${file}`, { cause: error });
        }
        fail(error);
      }
    },

    getRun(runId) {
      try {
        const row = selectRun.get(runId) as RunRow | undefined;
        return row && toRecord(row);
      } catch (error) {
        return fail(error);
      }
    },

    listRuns({ suite, limit } = {}) {
      try {
        const rows = selectRuns.all({ suite: suite ?? null, limit: limit ?? -1 }) as RunRow[];
        return rows.map(toRecord);
      } catch (error) {
        return fail(error);
      }
    },

    appendResult(runId, key, result) {
      assertWritable();
      const { traceId, caseId, trial, status } = result;
      try {
        insertResult.run({ runId, key, traceId, caseId, trial, status, json: JSON.stringify(result) });
      } catch (error) {
        fail(appendError(error, runId, key));
      }
    },

    appendResults(runId, entries, lease) {
      return appendRows(runId, entries.map(resultRow), lease);
    },

    ...(inMemory(file)
      ? {}
      : {
          appendResultsLater(runId: string, entries: readonly { key: string; result: TraceResult }[], lease?: string) {
            // Written as JSON here, committed by a connection of its own on another thread.
            background ??= backgroundWriter(file, busyTimeoutMs);
            return background.append(runId, entries.map(resultRow), lease);
          },
        }),

    resultKeys(runId) {
      try {
        return new Set(selectKeys.all(runId) as string[]);
      } catch (error) {
        return fail(error);
      }
    },

    resultsOfTrace(runId, traceId) {
      try {
        return (selectTrace.all(runId, traceId, traceId) as string[]).map((json) => parseStoredResult(json, { store: file, runId, traceId }));
      } catch (error) {
        return fail(error);
      }
    },

    hasResult(runId, key) {
      try {
        return selectHas.get(runId, key) !== undefined;
      } catch (error) {
        return fail(error);
      }
    },

    countResults(runId) {
      try {
        return countRows.get(runId) as number;
      } catch (error) {
        return fail(error);
      }
    },

    *results(runId) {
      try {
        for (const [traceId, json] of resultRows(runId)) yield parseStoredResult(json, { store: file, runId, traceId });
      } catch (error) {
        fail(error);
      }
    },

    resultsJson,

    finishRun(runId, finishedAt, summary, lease) {
      assertWritable();
      let changes: number;
      try {
        changes = finishLeased.immediate(runId, finishedAt, JSON.stringify(summary ?? null), lease);
      } catch (error) {
        return fail(error);
      }
      if (changes === 0) throw new StoreError(`cannot finish unknown run ${runId}`);
    },

    startShard(shard) {
      assertWritable();
      try {
        insertShard.run(shard);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StoreError(`cannot start a shard of unknown run ${shard.runId}`, { cause: error });
        fail(error);
      }
    },

    listShards(runId) {
      try {
        type Row = Omit<ShardRecord, 'summary'> & { summaryJson: string | null };
        return (selectShards.all(runId) as Row[]).map(({ summaryJson, ...row }) => ({ ...row, summary: summaryJson === null ? null : JSON.parse(summaryJson) }));
      } catch (error) {
        return fail(error);
      }
    },

    finishShard(runId, index, finishedAt, summary, lease) {
      assertWritable();
      let changes: number;
      try {
        changes = finishShardLeased.immediate(runId, index, finishedAt, JSON.stringify(summary ?? null), lease);
      } catch (error) {
        return fail(error);
      }
      if (changes === 0) throw new StoreError(`cannot finish shard ${index} of run ${runId}: it has not started`);
    },

    acquireLease(runId, lease, { staleBefore, replacing }, shard) {
      assertWritable();
      try {
        return acquire.immediate(runId, lease, staleBefore, replacing ?? null, shard);
      } catch (error) {
        return fail(error);
      }
    },

    getLease(runId, shard) {
      try {
        return leaseOf(runId, shard) ?? null;
      } catch (error) {
        return fail(error);
      }
    },

    renewLease(runId, token, heartbeatAt, shard) {
      assertWritable();
      try {
        return leasesOf(shard).touch.run({ heartbeatAt, runId, token, shard: shard ?? null }).changes === 1;
      } catch (error) {
        return fail(error);
      }
    },

    releaseLease(runId, token, shard) {
      assertWritable();
      try {
        leasesOf(shard).drop.run({ runId, token, shard: shard ?? null });
      } catch (error) {
        fail(error);
      }
    },

    enqueueReview(item) {
      assertWritable();
      try {
        insertItem.run({ ...item, input: JSON.stringify(item.input ?? null), steps: JSON.stringify(item.steps), suggestion: JSON.stringify(item.suggestion ?? null), reference: JSON.stringify(item.reference ?? null) });
        return selectItemId.get(item.runId, item.traceId, item.trial) as number;
      } catch (error) {
        return fail(error);
      }
    },

    reviewItems({ pending = false, runId } = {}) {
      try {
        type Row = Omit<ReviewItem, 'input' | 'steps' | 'suggestion' | 'reference'> & { input: string; steps: string; suggestion: string; reference: string };
        return (selectItems.all({ pending: pending ? 1 : 0, runId: runId ?? null }) as Row[]).map((row) => ({
          ...row,
          input: JSON.parse(row.input),
          steps: JSON.parse(row.steps),
          suggestion: JSON.parse(row.suggestion),
          reference: JSON.parse(row.reference),
          verdicts: (selectVerdicts.all(row.id) as (Omit<ReviewVerdictRecord, 'final' | 'reason'> & { final: string | null; reason: string | null })[]).map(
            ({ final, reason, ...v }) => ({ ...v, ...(final !== null ? { final: JSON.parse(final) } : {}), ...(reason !== null ? { reason } : {}) }),
          ),
        }));
      } catch (error) {
        return fail(error);
      }
    },

    addVerdict(v) {
      assertWritable();
      try {
        insertVerdict.run(v.itemId, v.verdict, v.final === undefined ? null : JSON.stringify(v.final), v.reason ?? null, v.reviewer, v.at);
      } catch (error) {
        if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StoreError(`no review item ${v.itemId}`, { cause: error });
        fail(error);
      }
    },

    claimReview({ session, reviewer, at, staleBefore, runId, after = 0 }) {
      assertWritable();
      let id: number | undefined;
      try {
        id = claim.immediate({ session, reviewer, at, staleBefore, runId: runId ?? null, after });
      } catch (error) {
        return fail(error);
      }
      return id === undefined ? undefined : this.reviewItems({ runId }).find((i) => i.id === id);
    },

    releaseReview(itemId, session) {
      assertWritable();
      try {
        deleteClaim.run(itemId, session);
      } catch (error) {
        fail(error);
      }
    },

    getExchange(key) {
      try {
        const row = selectExchange.get(key) as { request_json: string; status: number; response_body: string; latency_ms: number | null } | undefined;
        return (
          row && {
            key,
            request: JSON.parse(row.request_json),
            response: { status: row.status, body: row.response_body },
            ...(row.latency_ms !== null ? { latencyMs: row.latency_ms } : {}),
          }
        );
      } catch (error) {
        return fail(error);
      }
    },

    putExchange({ key, request, response, latencyMs }) {
      assertWritable();
      try {
        upsertExchange.run(key, JSON.stringify(request), response.status, response.body, latencyMs ?? null);
      } catch (error) {
        fail(error);
      }
    },

    close() {
      background?.close();
      db.close();
    },
  };
  return { store, appendRows };
}

function open(file: string, busyTimeoutMs: number): Database.Database {
  let db: Database.Database | undefined;
  try {
    // '' is SQLite's private temporary database: like ':memory:', no directory to create.
    if (file !== ':memory:' && file !== '') mkdirSync(dirname(file), { recursive: true });
    // Sets busy_timeout, so a brief lock by another process waits instead of failing.
    db = new Database(file, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof StoreError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw toStoreError(error, file) ?? new StoreError(`cannot open ${file}: ${message}`, { cause: error });
  }
}

/** A failed insert of a result: a duplicate key, an unknown run, or the store's own failure as it was. */
function appendError(error: unknown, runId: string, key: string): unknown {
  const code = sqliteCode(error);
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return new DuplicateResultError(runId, key);
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new StoreError(`cannot append to unknown run ${runId}`, { cause: error });
  return error;
}

function sqliteCode(error: unknown): string | undefined {
  return error instanceof Database.SqliteError ? error.code : undefined;
}

/** SQLite's own failures become StoreErrors; anything else (a misuse, a bug) is left as it is. */
function toStoreError(error: unknown, file: string): StoreError | undefined {
  const code = sqliteCode(error);
  if (code === undefined) return undefined;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`${file} is locked (${code})`, {
      hint: `another shadowgate process holds ${file}; pass --db or retry`,
      cause: error,
    });
  }
  return new StoreError(`${file}: ${(error as Error).message} (${code})`, { cause: error });
}
