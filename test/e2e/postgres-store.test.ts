import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
// @ts-expect-error a plain ESM script shared with the fixture's README instructions
import { digest } from '../fixtures/pool/digest.mjs';
import { cli, cliWithEnv, copyExample, ROOT } from './helpers.js';

/** The CLI as a process of its own (a shard on a machine of its own). */
function spawnCli(cwd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/shadowgate.js'), ...args], { cwd, env: { ...process.env, CI: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

/** The tests' PostgreSQL server (test/postgres-setup.ts); none is a failure that says what to install. */
function serverUrl(): URL {
  const url = inject('pgUrl');
  if (!url) throw new Error(inject('pgMissing'));
  return new URL(url);
}

// Made up for this test: the throwaway server trusts local connections, so any password gets in, and none may leak.
const PASSWORD = 'pg-pass-7e1c0ffee9';
const database = `sg_e2e_${process.pid}_${Date.now().toString(36)}`;

async function admin<T>(body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl().toString() });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** The URL of this file's own database, with a password in it. */
function dbUrl(): string {
  const url = serverUrl();
  url.password = PASSWORD;
  url.pathname = `/${database}`;
  return url.toString();
}

let dir: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
});
afterAll(async () => {
  cleanup();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
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
      [1, 2, 3].map((i) => spawnCli(dir, ['run', 'suites/refund-triage.yaml', '--db', dbUrl(), '--run-id', 'pg-shards', '--shard', `${i}/3`])),
    );
    for (const shard of shards) {
      expect(shard.stderr).not.toMatch(/error|hint:/);
      expect([0, 1]).toContain(shard.status);
    }
    const finalized = await cli(dir, 'finalize', 'pg-shards', '--db', dbUrl(), '--json', 'out/pg-finalized.json');
    const whole = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/whole.db', '--json', 'out/whole.json');
    expect(finalized.code, finalized.stderr).toBe(whole.code);
    const [all, unsharded] = ['out/pg-finalized.json', 'out/whole.json'].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    expect(all.runId).toBe('pg-shards');
    expect(all.results).toHaveLength(480);
    expect({ ...all.metrics, latency: undefined }).toEqual({ ...unsharded.metrics, latency: undefined });
    expect(all.counts).toEqual(unsharded.counts);
    expect(all.gate.verdict).toBe(unsharded.gate.verdict);
    expect(digest(all)).toEqual(digest(unsharded));
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
});
