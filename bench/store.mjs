#!/usr/bin/env node
// Store write throughput: N results appended in groups (500 a transaction, as a run commits
// them) to the SQLite store and to a PostgreSQL store, each N in a fresh database, and rows/s.
//
//   npm run bench:store                               # 10,000 and 100,000 results
//   npm run bench:store -- 10000                      # one size
//   SHADOWGATE_BENCH_PG_URL=postgres://user@127.0.0.1:5432/db npm run bench:store
//
// PostgreSQL is the server SHADOWGATE_BENCH_PG_URL names (each size in a schema of its own,
// dropped afterwards); without it, a throwaway local cluster started from Debian's
// `postgresql` server binaries (scripts/throwaway-postgres.mjs, as the tests do) and stopped
// afterwards. With neither, the bench says why and measures SQLite alone. The
// result written is a bundled-size one (a refund-triage trace's result with its steps, about
// 2.9 KB of JSON), under a new key each time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { startThrowawayPostgres } from '../scripts/throwaway-postgres.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = resolve(process.env.SHADOWGATE_BENCH_DIST ?? join(ROOT, 'dist'));
const { createSqliteStore, createMemoryStore, loadSuite, runSuite } = await import(pathToFileURL(join(DIST, 'index.js')).href);
const { createPostgresStore } = await import(pathToFileURL(join(DIST, 'store/postgres.js')).href);

const sizes = process.argv[2] && /^\d+$/.test(process.argv[2]) ? [Number(process.argv[2])] : [10_000, 100_000];
const cluster = process.env.SHADOWGATE_BENCH_PG_URL ? null : await startThrowawayPostgres();
const pgUrl = process.env.SHADOWGATE_BENCH_PG_URL ?? cluster?.url;
if (cluster?.stop) process.on('exit', cluster.stop);
const GROUP = 500;

// One real result of the bundled suite, to write again and again under new keys.
const sample = await oneResult();
console.log(`node ${process.version}; a result of ${JSON.stringify(sample).length.toLocaleString('en')} bytes of JSON; groups of ${GROUP}`);
if (!pgUrl) console.log(`PostgreSQL is not measured: ${cluster?.missing}; or set SHADOWGATE_BENCH_PG_URL`);
else if (cluster) console.log('PostgreSQL: a throwaway local cluster (SHADOWGATE_BENCH_PG_URL names another server)');
console.log('store          N   seconds     rows/s');
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-store-'));
  try {
    report('sqlite', n, write(createSqliteStore(join(dir, 'bench.db')), n));
    if (pgUrl) {
      const schema = `sg_bench_${process.pid}_${n}`;
      const store = createPostgresStore(pgUrl, { schema });
      try {
        report('postgres', n, write(store, n, false));
      } finally {
        store.close();
        await dropSchema(schema);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function write(store, n, close = true) {
  const runId = `bench-${n}`;
  store.createRun({ runId, suite: 'bench', suiteFile: 'bench.yaml', suiteHash: 'h', candidateHash: 'c', candidate: 'bench', model: null, promptVersion: null, phase: 'shadow', reference: 'human', gitCommit: null, gitRef: null, startedAt: new Date().toISOString(), candidateSource: null, replica: 0 });
  const started = performance.now();
  for (let i = 0; i < n; i += GROUP) {
    const entries = [];
    for (let j = i; j < Math.min(n, i + GROUP); j++) entries.push({ key: `t${j}#0`, result: { ...sample, traceId: `t${j}`, caseId: `t${j}`, trial: 0 } });
    const outcomes = store.appendResults(runId, entries);
    if (outcomes.some((o) => o !== null)) throw new Error(`a result was refused: ${outcomes.find((o) => o !== null)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  if (store.countResults(runId) !== n) throw new Error(`expected ${n} results stored`);
  if (close) store.close();
  return seconds;
}

function report(name, n, seconds) {
  console.log(`${name.padEnd(9)} ${String(n).padStart(7)}   ${seconds.toFixed(2).padStart(7)}   ${Math.round(n / seconds).toLocaleString('en').padStart(8)}`);
}

async function dropSchema(schema) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

async function oneResult() {
  const suite = await loadSuite(join(ROOT, 'suites/refund-triage.yaml'));
  const store = createMemoryStore();
  const outcome = await runSuite(suite, { store, cwd: ROOT, filter: (t) => t.id === 'rt-00001' });
  const [result] = store.results(outcome.meta.runId);
  if (!result) throw new Error('the bundled suite gave no result for rt-00001');
  return result;
}
