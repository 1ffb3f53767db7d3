import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, one step at a time, in ascending version order. Append new
 * steps; never edit a released one, since existing databases have applied it.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs-and-results',
    sql: `
      CREATE TABLE runs (
        run_id         TEXT PRIMARY KEY,
        suite          TEXT NOT NULL,
        suite_file     TEXT NOT NULL,
        suite_hash     TEXT NOT NULL,
        candidate_hash TEXT NOT NULL,
        candidate      TEXT NOT NULL,
        model          TEXT,
        prompt_version TEXT,
        phase          TEXT NOT NULL,
        reference      TEXT NOT NULL,
        git_commit     TEXT,
        git_ref        TEXT,
        started_at     TEXT NOT NULL,
        finished_at    TEXT,
        summary_json   TEXT
      );
      CREATE INDEX runs_by_suite ON runs (suite, started_at);

      CREATE TABLE results (
        run_id      TEXT NOT NULL REFERENCES runs (run_id),
        key         TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        trace_id    TEXT NOT NULL,
        case_id     TEXT NOT NULL,
        trial       INTEGER NOT NULL,
        status      TEXT NOT NULL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      -- Serves results() in append order and the next seq for appendResult.
      CREATE UNIQUE INDEX results_by_seq ON results (run_id, seq);
    `,
  },
  {
    version: 2,
    name: 'model-response-cache',
    sql: `
      -- Keyed by a hash of the canonical request (method, URL, body, trial); headers are never stored.
      CREATE TABLE model_cache (
        key           TEXT PRIMARY KEY,
        request_json  TEXT NOT NULL,
        status        INTEGER NOT NULL,
        response_body TEXT NOT NULL,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
    `,
  },
  {
    version: 3,
    name: 'model-cache-latency',
    sql: `ALTER TABLE model_cache ADD COLUMN latency_ms REAL;`,
  },
  {
    version: 4,
    name: 'run-candidate-source',
    sql: `ALTER TABLE runs ADD COLUMN candidate_json TEXT;`,
  },
  {
    version: 5,
    name: 'review-queue',
    sql: `
      CREATE TABLE review_items (
        id              INTEGER PRIMARY KEY,
        run_id          TEXT NOT NULL REFERENCES runs (run_id),
        trace_id        TEXT NOT NULL,
        trial           INTEGER NOT NULL,
        workflow        TEXT NOT NULL,
        phase           TEXT NOT NULL,
        input_json      TEXT NOT NULL,
        steps_json      TEXT NOT NULL,
        suggestion_json TEXT NOT NULL,
        reference_json  TEXT NOT NULL,
        enqueued_at     TEXT NOT NULL,
        UNIQUE (run_id, trace_id, trial)
      );
      -- Append-only: a verdict is never updated; the latest one counts.
      CREATE TABLE review_verdicts (
        id         INTEGER PRIMARY KEY,
        item_id    INTEGER NOT NULL REFERENCES review_items (id),
        verdict    TEXT NOT NULL CHECK (verdict IN ('accepted', 'edited', 'rejected')),
        final_json TEXT,
        reason     TEXT,
        reviewer   TEXT NOT NULL,
        at         TEXT NOT NULL
      );
      CREATE INDEX review_verdicts_by_item ON review_verdicts (item_id, id);
    `,
  },
  {
    version: 6,
    name: 'run-replica',
    // Runs stored before this step were told apart only by the label their noise floor gave them.
    sql: `
      ALTER TABLE runs ADD COLUMN replica INTEGER NOT NULL DEFAULT 0;
      UPDATE runs SET replica = CASE WHEN candidate LIKE '% (A/A 2)' THEN 2 ELSE 1 END
        WHERE candidate LIKE '% (A/A)' OR candidate LIKE '% (A/A 1)' OR candidate LIKE '% (A/A 2)';
    `,
  },
  {
    version: 7,
    name: 'run-lease',
    // One live writer per run: who holds it, and when it last said it was alive (NULL: no one).
    sql: `
      ALTER TABLE runs ADD COLUMN lease_token TEXT;
      ALTER TABLE runs ADD COLUMN lease_pid INTEGER;
      ALTER TABLE runs ADD COLUMN lease_host TEXT;
      ALTER TABLE runs ADD COLUMN lease_heartbeat_at TEXT;
    `,
  },
  {
    version: 8,
    name: 'run-shards',
    // The shards of a run that several processes write into (run --run-id --shard i/n): each with
    // its own lease, so that shards of one run write at once and one shard has one live writer.
    sql: `
      CREATE TABLE run_shards (
        run_id             TEXT NOT NULL REFERENCES runs (run_id),
        shard_index        INTEGER NOT NULL,
        shard_count        INTEGER NOT NULL,
        started_at         TEXT NOT NULL,
        finished_at        TEXT,
        summary_json       TEXT,
        lease_token        TEXT,
        lease_pid          INTEGER,
        lease_host         TEXT,
        lease_heartbeat_at TEXT,
        PRIMARY KEY (run_id, shard_index)
      );
    `,
  },
  {
    version: 9,
    name: 'review-claims',
    // Who is working on a pending item, so that two reviewers of one queue are never handed the same one.
    sql: `
      CREATE TABLE review_claims (
        item_id    INTEGER PRIMARY KEY REFERENCES review_items (id),
        reviewer   TEXT NOT NULL,
        claimed_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'review-claim-sessions',
    // A claim belongs to one review session (a random token made when \`review\` starts), not to a
    // reviewer's name: two terminals reviewing under one name are two sessions. A claim made before
    // this step has no session, so no one takes it back; it holds until it goes stale.
    sql: `ALTER TABLE review_claims ADD COLUMN session TEXT;`,
  },
  {
    version: 11,
    name: 'run-shard',
    // The share of the traces a run runs (\`1/1\`, or \`2/3\` for a shard run on its own), so that
    // \`--resume\` runs that share and no other. A run stored before this step has none (NULL).
    sql: `ALTER TABLE runs ADD COLUMN shard TEXT;`,
  },
  {
    version: 12,
    name: 'run-traces-hash',
    // The digest of the trace files a run read (RunSettings.tracesHash), so that \`--resume\` and the
    // shards of a shared run run on the same trace contents. A run stored before this step has none (NULL).
    sql: `ALTER TABLE runs ADD COLUMN traces_hash TEXT;`,
  },
];

/**
 * Brings the database up to the latest schema. Pending steps run in one
 * IMMEDIATE transaction, so two processes opening a fresh file cannot both
 * apply them, and a failing step leaves the database as it was.
 */
export function migrate(db: Database, file: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const latest = migrations.reduce((max, step) => Math.max(max, step.version), 0);
  const current = db.prepare('SELECT MAX(version) FROM schema_migrations').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');

  db.transaction(() => {
    const version = (current.get() as number | null) ?? 0;
    if (version > latest) {
      throw new StoreError(`${file} has schema version ${version}, but this shadowgate knows only up to ${latest}`, {
        hint: 'upgrade shadowgate, or pass --db to use another database',
      });
    }
    for (const step of migrations) {
      if (step.version <= version) continue;
      db.exec(step.sql);
      record.run(step.version, step.name, new Date().toISOString());
    }
  }).immediate();
}
