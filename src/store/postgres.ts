import { createRequire } from 'node:module';
import { DuplicateResultError, LeaseLostError, StoreError } from '../errors.js';
import type { TraceResult } from '../replay/types.js';
import { withoutCredentials } from '../secrets.js';
import { cursorGuard } from './memory.js';
import { pgMigrations } from './pg-migrations.js';
import { createSyncWorker, SyncWorkerError } from './sync-worker.js';
import { parseStoredResult } from './stored-result.js';
import { describeLease, type AppendOutcome, type ReviewItem, type ReviewVerdictRecord, type RunLease, type RunRecord, type ShardRecord, type Store } from './types.js';

export interface PostgresStoreOptions {
  /** A schema to keep the tables in (created when missing), instead of the connection's default (`public`). */
  schema?: string;
}

/**
 * The worker's handler: one node-postgres client (one connection, so that BEGIN … COMMIT sent
 * as separate calls are one transaction), answering `connect`, `query` and `end`. Rows come back
 * as plain objects; a lost connection fails every later query with its error.
 */
const HANDLER = `
  const state = globalThis.__sg ?? (globalThis.__sg = { client: null, lost: null });
  if (request.op === 'connect') {
    const { Client } = require(workerData.pgPath);
    state.client = new Client({ connectionString: workerData.url, connectionTimeoutMillis: 30000 });
    state.client.on('error', (error) => { state.lost = error; });
    await state.client.connect();
    if (workerData.schema) {
      await state.client.query('CREATE SCHEMA IF NOT EXISTS ' + workerData.schema);
      await state.client.query('SET search_path TO ' + workerData.schema);
    }
    return null;
  }
  if (state.lost) throw state.lost;
  if (request.op === 'query') {
    const result = await state.client.query(request.sql, request.params);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  }
  if (request.op === 'end') {
    await state.client.end();
    return null;
  }
  throw new Error('unknown request ' + request.op);
`;

/** The key of the advisory lock that serializes migrations between processes opening the same database. */
const MIGRATION_LOCK = 1_701_736_245;

/** Results one INSERT takes at most (6 parameters each, under PostgreSQL's 65,535). */
const INSERT_ROWS = 5000;

/** Rows a results() page reads at a time. */
const PAGE = 1000;

type Row = Record<string, unknown>;

const RUN_COLUMNS = `run_id AS "runId", suite, suite_file AS "suiteFile", suite_hash AS "suiteHash",
  candidate_hash AS "candidateHash", candidate, model, prompt_version AS "promptVersion", phase, reference,
  git_commit AS "gitCommit", git_ref AS "gitRef", started_at AS "startedAt", finished_at AS "finishedAt",
  summary_json AS "summaryJson", candidate_json AS "candidateJson", replica, shard, traces_hash AS "tracesHash"`;

function toRecord({ summaryJson, candidateJson, ...row }: Row): RunRecord {
  return {
    ...(row as Omit<RunRecord, 'summary' | 'candidateSource'>),
    candidateSource: candidateJson === null ? null : JSON.parse(candidateJson as string),
    summary: summaryJson === null ? null : JSON.parse(summaryJson as string),
  };
}

/**
 * A Store in a PostgreSQL database (node-postgres), behind the same synchronous port as
 * SQLite: `pg` runs in a worker thread and each call blocks until it answers (sync-worker.ts).
 * Every write is committed when the call returns. The URL's credentials appear in no message:
 * errors name the database by `withoutCredentials(url)`.
 *
 * A new method of the Store port is one more entry of the object returned below, written with
 * `query` (one statement) or `transaction` (several, one commit).
 */
export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Store {
  const where = withoutCredentials(url);
  const password = passwordOf(url);
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new StoreError(`invalid schema name ${JSON.stringify(options.schema)}`);
  const worker = createSyncWorker(HANDLER, { url, schema: options.schema ?? null, pgPath: createRequire(import.meta.url).resolve('pg') });
  /** The database's message, never the password (a driver may quote the connection string). */
  const storeError = (error: unknown, hint?: string): StoreError => {
    const message = error instanceof Error ? error.message : String(error);
    const safe = password ? message.split(password).join('***') : message;
    return new StoreError(`${where}: ${safe}`, { ...(hint ? { hint } : {}), cause: error instanceof SyncWorkerError ? undefined : error });
  };
  const codeOf = (error: unknown): string | undefined => (error instanceof SyncWorkerError ? error.code : undefined);

  const query = (sql: string, params: unknown[] = []): { rows: Row[]; rowCount: number } => {
    try {
      return worker.call({ op: 'query', sql, params });
    } catch (error) {
      throw error instanceof SyncWorkerError ? Object.assign(storeError(error), { pgCode: error.code }) : error;
    }
  };
  /** Runs `body` between BEGIN and COMMIT; anything it throws rolls the whole of it back. */
  const transaction = <T>(body: () => T): T => {
    query('BEGIN');
    try {
      const value = body();
      query('COMMIT');
      return value;
    } catch (error) {
      try {
        query('ROLLBACK');
      } catch {
        // the connection is gone: the server rolls back on its own
      }
      throw error;
    }
  };
  const pgCode = (error: unknown): string | undefined => (error as { pgCode?: string }).pgCode;

  try {
    worker.call({ op: 'connect' });
    migrate(query, transaction, where);
  } catch (error) {
    worker.close();
    if (error instanceof StoreError) throw error;
    throw storeError(error, codeOf(error) === undefined ? undefined : 'check the URL given to --db or SHADOWGATE_DB, and that the server is up');
  }

  /** The run's lease, read under a row lock held to the end of the transaction; undefined for an unknown run. */
  const lockRun = (runId: string): RunLease | null | undefined => {
    const row = query(`SELECT lease_token AS token, lease_pid AS pid, lease_host AS host, lease_heartbeat_at AS "heartbeatAt" FROM runs WHERE run_id = $1 FOR UPDATE`, [runId]).rows[0];
    return row === undefined ? undefined : row.token === null ? null : (row as unknown as RunLease);
  };
  // A run's lease is in its row of runs; a shard's in its row of run_shards: the same columns and statements on each.
  const leaseRow = (shard: number | undefined) =>
    shard === undefined ? { table: 'runs', where: 'run_id = $1', params: (runId: string) => [runId] } : { table: 'run_shards', where: 'run_id = $1 AND shard_index = $2', params: (runId: string) => [runId, shard] };
  const leaseOf = (runId: string, shard?: number): RunLease | null | undefined => {
    const { table, where, params } = leaseRow(shard);
    const row = query(`SELECT lease_token AS token, lease_pid AS pid, lease_host AS host, lease_heartbeat_at AS "heartbeatAt" FROM ${table} WHERE ${where}`, params(runId)).rows[0];
    return row === undefined ? undefined : row.token === null ? null : (row as unknown as RunLease);
  };
  /**
   * Throws a LeaseLostError unless `token` holds the run's lease or one of its shards' (a token is
   * issued for one lease); inside the write's transaction, the run's row locked, the shard's row locked here.
   */
  const assertLeased = (runId: string, held: RunLease | null | undefined, token: string | undefined): void => {
    if (token === undefined || held?.token === token) return;
    if (query('SELECT 1 FROM run_shards WHERE run_id = $1 AND lease_token = $2 FOR UPDATE', [runId, token]).rows.length > 0) return;
    throw new LeaseLostError(runId, held ? describeLease(held) : 'no one');
  };
  /**
   * A group of results in one statement (the round trip to the server, and through the worker, is
   * what a write costs): numbered after the run's last, in order; a key already stored, or twice in
   * the group, is not inserted, and is that entry's DuplicateResultError. The run's row is locked,
   * so appends to one run are serialized.
   */
  const appendGroup = (runId: string, entries: readonly { key: string; result: TraceResult }[], lease: string | undefined): AppendOutcome[] =>
    transaction(() => {
      const held = lockRun(runId);
      if (held === undefined) throw new StoreError(`cannot append to unknown run ${runId}`);
      assertLeased(runId, held, lease);
      const outcomes: AppendOutcome[] = entries.map(() => null);
      const rows: { at: number; key: string; result: TraceResult; json: string }[] = [];
      entries.forEach(({ key, result }, at) => {
        try {
          rows.push({ at, key, result, json: JSON.stringify(result) });
        } catch (error) {
          outcomes[at] = error as Error;
        }
      });
      if (rows.length === 0) return outcomes;
      // One VALUES row of parameters per result (text parameters go as they are; arrays of text would be escaped element by element).
      const inserted = new Set<string>();
      for (let from = 0; from < rows.length; from += INSERT_ROWS) {
        const chunk = rows.slice(from, from + INSERT_ROWS);
        const values = chunk.map((_, i) => `($${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}::int, $${i * 6 + 6}, $${i * 6 + 7}, ${from + i + 1})`).join(', ');
        const params = [runId, ...chunk.flatMap((r) => [r.key, r.result.traceId, r.result.caseId, r.result.trial, r.result.status, r.json])];
        for (const row of query(
          `WITH last AS (SELECT COALESCE(MAX(seq), 0) AS seq FROM results WHERE run_id = $1)
           INSERT INTO results (run_id, key, seq, trace_id, case_id, trial, status, result_json)
           SELECT $1, v.key, last.seq + v.ord, v.trace_id, v.case_id, v.trial, v.status, v.result_json
           FROM (VALUES ${values}) AS v(key, trace_id, case_id, trial, status, result_json, ord), last ORDER BY v.ord
           ON CONFLICT (run_id, key) DO NOTHING
           RETURNING key`,
          params,
        ).rows) inserted.add(row.key as string);
      }
      // The first entry of an inserted key is the one stored; any other entry of a key is a duplicate.
      const stored = new Set<string>();
      for (const { at, key } of rows) {
        if (inserted.has(key) && !stored.has(key)) stored.add(key);
        else outcomes[at] = new DuplicateResultError(runId, key);
      }
      return outcomes;
    });

  // As with SQLite, a write while results() is being read is refused, so that both behave alike.
  const cursors = cursorGuard();
  /** Rows as [trace id, JSON]: the trace id names a result that cannot be parsed. */
  function* pagedRows(runId: string): IterableIterator<[traceId: string, json: string]> {
    let after = 0;
    for (;;) {
      const rows = query('SELECT seq, trace_id, result_json FROM results WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [runId, after, PAGE]).rows;
      for (const row of rows) yield [row.trace_id as string, row.result_json as string];
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.seq as number;
    }
  }
  const resultRows = (runId: string): IterableIterator<[traceId: string, json: string]> => cursors.track(pagedRows(runId));
  function* resultsJson(runId: string): IterableIterator<string> {
    for (const [, json] of resultRows(runId)) yield json;
  }
  const assertWritable = cursors.assertWritable;

  return {
    createRun(meta) {
      assertWritable();
      try {
        query(
          `INSERT INTO runs (run_id, suite, suite_file, suite_hash, candidate_hash, candidate, model, prompt_version, phase, reference,
            git_commit, git_ref, started_at, candidate_json, replica, shard, traces_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
          [meta.runId, meta.suite, meta.suiteFile, meta.suiteHash, meta.candidateHash, meta.candidate, meta.model, meta.promptVersion, meta.phase, meta.reference,
            meta.gitCommit, meta.gitRef, meta.startedAt, meta.candidateSource === null ? null : JSON.stringify(meta.candidateSource), meta.replica, meta.shard ?? null, meta.tracesHash ?? null],
        );
      } catch (error) {
        if (pgCode(error) === '23505') throw new StoreError(`run ${meta.runId} already exists in ${where}`, { cause: error });
        throw error;
      }
    },

    getRun(runId) {
      const row = query(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [runId]).rows[0];
      return row && toRecord(row);
    },

    listRuns({ suite, limit } = {}) {
      return query(`SELECT ${RUN_COLUMNS} FROM runs WHERE ($1::text IS NULL OR suite = $1) ORDER BY started_at DESC, created_seq DESC LIMIT $2`, [suite ?? null, limit ?? null]).rows.map(toRecord);
    },

    appendResult(runId, key, result) {
      assertWritable();
      const [outcome] = appendGroup(runId, [{ key, result }], undefined);
      if (outcome) throw outcome;
    },

    appendResults(runId, entries, lease) {
      assertWritable();
      return appendGroup(runId, entries, lease);
    },

    hasResult(runId, key) {
      return query('SELECT 1 FROM results WHERE run_id = $1 AND key = $2', [runId, key]).rows.length > 0;
    },

    resultKeys(runId) {
      return new Set(query('SELECT key FROM results WHERE run_id = $1', [runId]).rows.map((r) => r.key as string));
    },

    countResults(runId) {
      return query('SELECT COUNT(*)::int AS n FROM results WHERE run_id = $1', [runId]).rows[0]!.n as number;
    },

    resultsOfTrace(runId, traceId) {
      // Keys are `<traceId>#<trial>` (bytewise collation): a range on the primary key finds a trace's trials without a scan.
      return query(`SELECT result_json FROM results WHERE run_id = $1 AND key >= $2 || '#' AND key < $2 || '$' ORDER BY seq`, [runId, traceId]).rows.map(
        (r) => parseStoredResult(r.result_json as string, { store: where, runId, traceId }),
      );
    },

    *results(runId) {
      for (const [traceId, json] of resultRows(runId)) yield parseStoredResult(json, { store: where, runId, traceId });
    },

    resultsJson,

    finishRun(runId, finishedAt, summary, lease) {
      assertWritable();
      transaction(() => {
        const held = lockRun(runId);
        if (held === undefined) throw new StoreError(`cannot finish unknown run ${runId}`);
        assertLeased(runId, held, lease);
        query('UPDATE runs SET finished_at = $1, summary_json = $2 WHERE run_id = $3', [finishedAt, JSON.stringify(summary ?? null), runId]);
      });
    },

    startShard({ runId, index, count, startedAt }) {
      assertWritable();
      try {
        query('INSERT INTO run_shards (run_id, shard_index, shard_count, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, shard_index) DO NOTHING', [runId, index, count, startedAt]);
      } catch (error) {
        if (pgCode(error) === '23503') throw new StoreError(`cannot start a shard of unknown run ${runId}`, { cause: error });
        throw error;
      }
    },

    listShards(runId) {
      return query(
        `SELECT run_id AS "runId", shard_index AS "index", shard_count AS count, started_at AS "startedAt", finished_at AS "finishedAt", summary_json AS "summaryJson"
         FROM run_shards WHERE run_id = $1 ORDER BY shard_index`,
        [runId],
      ).rows.map(({ summaryJson, ...row }) => ({ ...row, summary: summaryJson === null ? null : JSON.parse(summaryJson as string) }) as ShardRecord);
    },

    finishShard(runId, index, finishedAt, summary, lease) {
      assertWritable();
      const changes = transaction(() => {
        const shardLease = query(`SELECT lease_token AS token, lease_pid AS pid, lease_host AS host, lease_heartbeat_at AS "heartbeatAt" FROM run_shards WHERE run_id = $1 AND shard_index = $2 FOR UPDATE`, [runId, index]).rows[0];
        if (shardLease === undefined) return 0;
        if (lease !== undefined && shardLease.token !== lease) throw new LeaseLostError(runId, shardLease.token === null ? 'no one' : describeLease(shardLease as unknown as RunLease));
        return query('UPDATE run_shards SET finished_at = $1, summary_json = $2 WHERE run_id = $3 AND shard_index = $4', [finishedAt, JSON.stringify(summary ?? null), runId, index]).rowCount;
      });
      if (changes === 0) throw new StoreError(`cannot finish shard ${index} of run ${runId}: it has not started`);
    },

    acquireLease(runId, lease, { staleBefore, replacing }, shard) {
      assertWritable();
      const { table, where, params } = leaseRow(shard);
      const n = params(runId).length;
      return transaction(() => {
        // The one statement that takes a lease: the row lock makes a second taker wait, then re-check and match nothing.
        const taken = query(
          `UPDATE ${table} SET lease_token = $${n + 1}, lease_pid = $${n + 2}, lease_host = $${n + 3}, lease_heartbeat_at = $${n + 4}
           WHERE ${where} AND (lease_token IS NULL OR lease_heartbeat_at < $${n + 5} OR lease_token = $${n + 6})`,
          [...params(runId), lease.token, lease.pid, lease.host, lease.heartbeatAt, staleBefore, replacing ?? null],
        ).rowCount === 1;
        const held = leaseOf(runId, shard);
        if (held === undefined) throw new StoreError(shard === undefined ? `cannot lease unknown run ${runId}` : `cannot lease shard ${shard} of run ${runId}: it has not started`);
        return taken ? lease : held!;
      });
    },

    getLease(runId, shard) {
      return leaseOf(runId, shard) ?? null;
    },

    renewLease(runId, token, heartbeatAt, shard) {
      assertWritable();
      const { table, where, params } = leaseRow(shard);
      const n = params(runId).length;
      return query(`UPDATE ${table} SET lease_heartbeat_at = $${n + 1} WHERE ${where} AND lease_token = $${n + 2}`, [...params(runId), heartbeatAt, token]).rowCount === 1;
    },

    releaseLease(runId, token, shard) {
      assertWritable();
      const { table, where, params } = leaseRow(shard);
      const n = params(runId).length;
      query(`UPDATE ${table} SET lease_token = NULL, lease_pid = NULL, lease_host = NULL, lease_heartbeat_at = NULL WHERE ${where} AND lease_token = $${n + 1}`, [...params(runId), token]);
    },

    getExchange(key) {
      const row = query('SELECT request_json, status, response_body, latency_ms FROM model_cache WHERE key = $1', [key]).rows[0];
      return (
        row && {
          key,
          request: JSON.parse(row.request_json as string),
          response: { status: row.status as number, body: row.response_body as string },
          ...(row.latency_ms !== null ? { latencyMs: row.latency_ms as number } : {}),
        }
      );
    },

    putExchange({ key, request, response, latencyMs }) {
      assertWritable();
      query(
        `INSERT INTO model_cache (key, request_json, status, response_body, latency_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET request_json = EXCLUDED.request_json, status = EXCLUDED.status,
           response_body = EXCLUDED.response_body, latency_ms = EXCLUDED.latency_ms, created_at = DEFAULT`,
        [key, JSON.stringify(request), response.status, response.body, latencyMs ?? null],
      );
    },

    enqueueReview(item) {
      assertWritable();
      const json = (v: unknown) => JSON.stringify(v ?? null);
      query(
        `INSERT INTO review_items (run_id, trace_id, trial, workflow, phase, input_json, steps_json, suggestion_json, reference_json, enqueued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (run_id, trace_id, trial) DO NOTHING`,
        [item.runId, item.traceId, item.trial, item.workflow, item.phase, json(item.input), JSON.stringify(item.steps), json(item.suggestion), json(item.reference), item.enqueuedAt],
      );
      return query('SELECT id FROM review_items WHERE run_id = $1 AND trace_id = $2 AND trial = $3', [item.runId, item.traceId, item.trial]).rows[0]!.id as number;
    },

    reviewItems({ pending = false, runId } = {}) {
      const items = query(
        `SELECT i.id, i.run_id AS "runId", i.trace_id AS "traceId", i.trial, i.workflow, i.phase, i.input_json, i.steps_json,
           i.suggestion_json, i.reference_json, i.enqueued_at AS "enqueuedAt" FROM review_items i
         WHERE ($1::text IS NULL OR i.run_id = $1)
           AND (NOT $2::boolean OR NOT EXISTS (SELECT 1 FROM review_verdicts v WHERE v.item_id = i.id)) ORDER BY i.id`,
        [runId ?? null, pending],
      ).rows;
      const verdicts = new Map<number, ReviewVerdictRecord[]>();
      if (items.length > 0) {
        const rows = query(
          `SELECT item_id AS "itemId", verdict, final_json, reason, reviewer, at FROM review_verdicts WHERE item_id = ANY($1::int[]) ORDER BY id`,
          [items.map((i) => i.id)],
        ).rows;
        for (const { final_json, reason, ...v } of rows) {
          const record = { ...v, ...(final_json !== null ? { final: JSON.parse(final_json as string) } : {}), ...(reason !== null ? { reason } : {}) } as ReviewVerdictRecord;
          verdicts.set(record.itemId, [...(verdicts.get(record.itemId) ?? []), record]);
        }
      }
      return items.map(({ input_json, steps_json, suggestion_json, reference_json, ...row }) => ({
        ...(row as Omit<ReviewItem, 'input' | 'steps' | 'suggestion' | 'reference'>),
        input: JSON.parse(input_json as string),
        steps: JSON.parse(steps_json as string),
        suggestion: JSON.parse(suggestion_json as string),
        reference: JSON.parse(reference_json as string),
        verdicts: verdicts.get(row.id as number) ?? [],
      }));
    },

    addVerdict(v) {
      assertWritable();
      try {
        query('INSERT INTO review_verdicts (item_id, verdict, final_json, reason, reviewer, at) VALUES ($1, $2, $3, $4, $5, $6)', [
          v.itemId, v.verdict, v.final === undefined ? null : JSON.stringify(v.final), v.reason ?? null, v.reviewer, v.at,
        ]);
      } catch (error) {
        if (pgCode(error) === '23503') throw new StoreError(`no review item ${v.itemId}`, { cause: error });
        throw error;
      }
    },

    claimReview({ session, reviewer, at, staleBefore, runId, after = 0 }) {
      assertWritable();
      // Lock the next free item, skipping any another reviewer's transaction holds (SKIP LOCKED), then claim it; the
      // claim's upsert reads the latest committed claim, so one that a reviewer committed meanwhile is never taken over.
      for (;;) {
        const claimed = transaction((): number | null | undefined => {
          const next = query(
            `SELECT i.id FROM review_items i LEFT JOIN review_claims c ON c.item_id = i.id
             WHERE i.id > $1 AND ($2::text IS NULL OR i.run_id = $2)
               AND NOT EXISTS (SELECT 1 FROM review_verdicts v WHERE v.item_id = i.id)
               AND (c.item_id IS NULL OR c.claimed_at < $3 OR c.session = $4)
             ORDER BY i.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED`,
            [after, runId ?? null, staleBefore, session],
          ).rows[0];
          if (next === undefined) return undefined;
          const taken = query(
            `INSERT INTO review_claims (item_id, session, reviewer, claimed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (item_id) DO UPDATE SET session = EXCLUDED.session, reviewer = EXCLUDED.reviewer, claimed_at = EXCLUDED.claimed_at
             WHERE review_claims.claimed_at < $5 OR review_claims.session = $2`,
            [next.id, session, reviewer, at, staleBefore],
          ).rowCount === 1;
          return taken ? (next.id as number) : null;
        });
        if (claimed === undefined) return undefined;
        // null: another reviewer claimed it between this one's snapshot and its lock; look again.
        if (claimed !== null) return this.reviewItems({ runId }).find((i) => i.id === claimed);
      }
    },

    releaseReview(itemId, session) {
      assertWritable();
      query('DELETE FROM review_claims WHERE item_id = $1 AND session = $2', [itemId, session]);
    },

    close() {
      try {
        worker.close({ op: 'end' });
      } catch {
        // closing a connection that is already gone
      }
    },
  };
}

/**
 * Brings the database up to the latest schema, in one transaction holding an advisory lock,
 * so that two processes opening a fresh database cannot both apply a step.
 */
function migrate(query: (sql: string, params?: unknown[]) => { rows: Row[] }, transaction: <T>(body: () => T) => T, where: string): void {
  const latest = pgMigrations.reduce((max, step) => Math.max(max, step.version), 0);
  transaction(() => {
    query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const version = (query('SELECT MAX(version) AS v FROM schema_migrations').rows[0]!.v as number | null) ?? 0;
    if (version > latest) {
      throw new StoreError(`${where} has schema version ${version}, but this shadowgate knows only up to ${latest}`, {
        hint: 'upgrade shadowgate, or pass --db to use another database',
      });
    }
    for (const step of pgMigrations) {
      if (step.version <= version) continue;
      query(step.sql);
      query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [step.version, step.name, new Date().toISOString()]);
    }
  });
}

function passwordOf(url: string): string {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : '';
  } catch {
    return '';
  }
}
