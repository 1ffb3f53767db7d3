import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliWithEnv, copyExample, expectNoError, expectSameRun, pgSchema, spawnCli, type RunJson } from './helpers.js';

// Made up for this test: the password of the test's own role (pgSchema), which none of its output may hold.
const PASSWORD = 'pg-pass-7e1c0ffee9';

let dir: string;
let cleanup: () => void;
/** This file's own schema on the tests' server, its URL with a password in it. */
let pgDb: { url: string; drop: () => Promise<void> };
const dbUrl = () => pgDb.url;
beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  pgDb = await pgSchema(PASSWORD);
});
afterAll(async () => {
  cleanup();
  await pgDb?.drop();
});

/** Every file under `root`, as text. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('--db postgres://…', () => {
  it('runs a suite into PostgreSQL with the same figures as SQLite, and lists and shows it; the password is nowhere', async () => {
    const viaPg = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', dbUrl(), '--json', 'out/pg.json', '--report', 'reports/pg');
    expect(viaPg.code, viaPg.stderr).toBe(0);
    const viaSqlite = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/sqlite.db', '--json', 'out/sqlite.json');
    expect(viaSqlite.code).toBe(0);
    const [fromPg, fromSqlite] = ['out/pg.json', 'out/sqlite.json'].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    // The same figures (latency is measured anew each run, so it is left out).
    for (const metric of ['agreement', 'effectsAgreement', 'toolCallDrift', 'overrideRate', 'cost']) expect(fromPg.metrics[metric]).toEqual(fromSqlite.metrics[metric]);
    expect(fromPg.counts).toEqual(fromSqlite.counts);
    expect(fromPg.gate.verdict).toBe(fromSqlite.gate.verdict);

    const runs = await cli(dir, 'runs', '--db', dbUrl());
    expect(runs.code).toBe(0);
    expect(runs.stdout).toContain(fromPg.runId);
    const show = await cliWithEnv(dir, { SHADOWGATE_DB: dbUrl() }, 'show', fromPg.runId);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(fromPg.runId);

    // Not printed, not in any file written, not in the store (run metadata, settings, summaries, results).
    for (const text of [viaPg.stdout, viaPg.stderr, runs.stdout, show.stdout, ...filesUnder(join(dir, 'out')), ...filesUnder(join(dir, 'reports'))]) {
      expect(text).not.toContain(PASSWORD);
    }
    const own = new pg.Client({ connectionString: dbUrl() });
    await own.connect();
    const tables = ['runs', 'results', 'review_items', 'review_verdicts', 'model_cache', 'schema_migrations'];
    const stored: string[] = [];
    try {
      for (const t of tables) stored.push(JSON.stringify((await own.query(`SELECT * FROM ${t}`)).rows));
    } finally {
      await own.end();
    }
    expect(stored[0]).toContain(fromPg.runId);
    for (const text of stored) expect(text).not.toContain(PASSWORD);
  });

  it('takes shards from separate processes into one run (--run-id), finalized from the store with the unsharded run\'s figures and results', async () => {
    // As on n machines: each shard its own process, all writing into one stored run at once.
    const shards = await Promise.all(
      [1, 2, 3].map((i) => spawnCli(dir, ['run', 'suites/refund-triage.yaml', '--db', dbUrl(), '--run-id', 'pg-shards', '--shard', `${i}/3`]).done),
    );
    for (const shard of shards) {
      expectNoError(shard);
      expect([0, 1]).toContain(shard.status);
    }
    const finalized = await cli(dir, 'finalize', 'pg-shards', '--db', dbUrl(), '--json', 'out/pg-finalized.json');
    const whole = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/whole.db', '--json', 'out/whole.json');
    expect(finalized.code, finalized.stderr).toBe(whole.code);
    const [all, unsharded] = ['out/pg-finalized.json', 'out/whole.json'].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunJson) as [RunJson, RunJson];
    expect(all.runId).toBe('pg-shards');
    expect(all.results).toHaveLength(480);
    expectSameRun(all, unsharded);
    for (const text of [...shards.flatMap((r) => [r.stdout, r.stderr]), finalized.stdout, finalized.stderr]) expect(text).not.toContain(PASSWORD);
  }, 180_000);

  it('reports an unreachable server as a store error (exit 2) naming it without its credentials', async () => {
    const { code, stdout, stderr } = await cli(dir, 'runs', '--db', `postgres://someone:${PASSWORD}@127.0.0.1:1/nowhere`);
    expect(code).toBe(2);
    expect(stderr).toContain('postgres://***@127.0.0.1:1/nowhere');
    expect(stderr + stdout).not.toContain(PASSWORD);
  });
});

describe('--db with another URL scheme', () => {
  it('is a usage error naming the value without its credentials, and creates no file or folder', async () => {
    const { code, stdout, stderr } = await cli(dir, 'runs', '--db', `mysql://someone:${PASSWORD}@db.example/sg`);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--db mysql:\/\/\*\*\*@db\.example\/sg: unsupported URL scheme/);
    expect(stderr + stdout).not.toContain(PASSWORD);
    expect(existsSync(join(dir, 'mysql:'))).toBe(false);
    const fromEnv = await cliWithEnv(dir, { SHADOWGATE_DB: `redis://x:${PASSWORD}@cache:6379` }, 'runs');
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('redis://***@cache:6379');
    expect(fromEnv.stderr).not.toContain(PASSWORD);
  });

  it('postgres: with one slash is a malformed URL (exit 2), never a SQLite file of that name', async () => {
    const { code, stdout, stderr } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', `postgres:/sg:${PASSWORD}@127.0.0.1/sgdb`);
    expect(code).toBe(2);
    expect(stderr).toContain('--db postgres:/***@127.0.0.1/sgdb: malformed PostgreSQL URL');
    expect(stderr + stdout).not.toContain(PASSWORD);
    expect(existsSync(join(dir, 'postgres:'))).toBe(false);
  });
});

describe('a password holding a raw #, / or ? (which URL cannot read)', () => {
  // Made up: no server is asked (the URL does not parse, or names a closed port).
  const passwords = ['Secret#Passw0rd', 'Secret/Passw0rd', 'Secret?Passw0rd'];

  it('is printed nowhere: not by runs --db, not as the --help default from SHADOWGATE_DB, not in the unsupported-scheme error', async () => {
    for (const password of passwords) {
      const url = `postgres://sg:${password}@127.0.0.1:1/sgdb`;
      const runs = await cli(dir, 'runs', '--db', url);
      expect(runs.code).toBe(2);
      expect(runs.stderr).toContain('postgres://***@127.0.0.1:1/sgdb');
      const help = await cliWithEnv(dir, { SHADOWGATE_DB: url }, 'runs', '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('postgres://***@127.0.0.1:1/sgdb');
      const mysql = await cli(dir, 'runs', '--db', `mysql://root:${password}@db/x`);
      expect(mysql.code).toBe(2);
      expect(mysql.stderr).toContain('--db mysql://***@db/x: unsupported URL scheme');
      for (const text of [runs.stdout, runs.stderr, help.stdout, help.stderr, mysql.stdout, mysql.stderr]) expect(text).not.toContain(password);
    }
  });
});
