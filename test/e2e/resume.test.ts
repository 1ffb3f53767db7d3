import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, writeEvenOddTraces } from './helpers.js';

// Kills a real `shadowgate run` process mid-run, then resumes the run: no finished result
// is lost, and the resumed process runs only the traces that were missing.
const N = 60;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-resume-'));
  writeEvenOddTraces(dir, N);
  // A slow candidate that logs each trace it starts to the file named by SG_CALL_LOG.
  writeFileSync(
    join(dir, 'slow.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function run(input, ctx) {
  appendFileSync(process.env.SG_CALL_LOG, ctx.trace.id + '\\n');
  const r = await ctx.tools.lookup({ id: input.id });
  await new Promise((done) => setTimeout(done, 40));
  return { decision: r.even ? 'even' : 'odd' };
}
`,
  );
  // The candidate runs sandboxed: the log's folder and variable are opened to it explicitly.
  mkdirSync(join(dir, 'logs'));
  writeFileSync(
    join(dir, 'suite.yaml'),
    'name: slow\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: slow.mjs }\nsandbox: { env: [SG_CALL_LOG], allow: [{ fs-write: logs }] }\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bin = join(ROOT, 'bin/shadowgate.js');
const env = (log: string) => ({ ...process.env, CI: 'true', SG_CALL_LOG: join(dir, 'logs', log) });
const lines = (file: string) => (existsSync(join(dir, 'logs', file)) ? readFileSync(join(dir, 'logs', file), 'utf8').trim().split('\n') : []);

it('loses no finished result when killed, and --resume runs only what is missing', async () => {
  const child = spawn(process.execPath, [bin, 'run', 'suite.yaml', '--db', 'run.db', '--concurrency', '1'], {
    cwd: dir,
    env: env('first.log'),
    stdio: 'ignore',
  });
  const exited = new Promise((done) => child.once('exit', done));

  // Wait until some results are stored, then kill the process without warning.
  let stored = 0;
  for (let i = 0; i < 400 && stored < 10; i++) {
    await new Promise((done) => setTimeout(done, 25));
    if (!existsSync(join(dir, 'run.db'))) continue;
    const db = new Database(join(dir, 'run.db'), { readonly: true, fileMustExist: true });
    try {
      stored = (db.prepare('select count(*) n from results').get() as { n: number }).n;
    } catch {
      stored = 0; // tables not created yet
    }
    db.close();
  }
  child.kill('SIGKILL');
  await exited;

  const db = new Database(join(dir, 'run.db'), { readonly: true });
  const run = db.prepare('select run_id, finished_at from runs').get() as { run_id: string; finished_at: string | null };
  const kept = (db.prepare('select count(*) n from results').get() as { n: number }).n;
  db.close();
  expect(run.finished_at).toBeNull();
  expect(kept).toBeGreaterThanOrEqual(10);
  expect(kept).toBeLessThan(N);
  // Every result that was stored had been started by the killed process.
  expect(lines('first.log').length).toBeGreaterThanOrEqual(kept);

  const resumed = spawnSync(process.execPath, [bin, 'run', 'suite.yaml', '--db', 'run.db', '--resume', run.run_id, '--json', 'out.json'], {
    cwd: dir,
    env: env('second.log'),
    encoding: 'utf8',
  });
  expect(resumed.status).toBe(0);
  expect(resumed.stdout).toContain(`${N} (${kept} resumed)`);
  // Only the missing traces ran again.
  expect(lines('second.log')).toHaveLength(N - kept);
  const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  expect(out.runId).toBe(run.run_id);
  expect(out.counts.total).toBe(N);
  expect(new Set(out.results.map((r: { traceId: string }) => r.traceId)).size).toBe(N);
  expect(out.metrics.agreement).toMatchObject({ rate: 1, n: N, successes: N });
});

it('commits results in whole groups: a killed run keeps every committed group and no part of the next, and --resume runs exactly the rest', async () => {
  const GROUP = 7;
  // Groups of 7, and no commit by time: what the killed process kept is whole groups.
  const child = spawn(process.execPath, [bin, 'run', 'suite.yaml', '--db', 'groups.db', '--concurrency', '4', '--commit-every', String(GROUP), '--commit-ms', '600000'], {
    cwd: dir,
    env: env('groups-first.log'),
    stdio: 'ignore',
  });
  const exited = new Promise((done) => child.once('exit', done));
  const count = () => {
    if (!existsSync(join(dir, 'groups.db'))) return 0;
    const db = new Database(join(dir, 'groups.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('select count(*) n from results').get() as { n: number }).n;
    } catch {
      return 0; // tables not created yet
    } finally {
      db.close();
    }
  };
  for (let i = 0; i < 400 && count() < 2 * GROUP; i++) await new Promise((done) => setTimeout(done, 25));
  child.kill('SIGKILL');
  await exited;

  const db = new Database(join(dir, 'groups.db'), { readonly: true });
  const run = db.prepare('select run_id from runs').get() as { run_id: string };
  const kept = db.prepare('select trace_id from results order by seq').pluck().all() as string[];
  db.close();
  expect(kept.length).toBeGreaterThanOrEqual(2 * GROUP);
  expect(kept.length).toBeLessThan(N);
  expect(kept.length % GROUP).toBe(0);
  // The killed process had started more than it committed: those are lost, and run again.
  expect(lines('groups-first.log').length).toBeGreaterThan(kept.length);

  const resumed = spawnSync(process.execPath, [bin, 'run', 'suite.yaml', '--db', 'groups.db', '--resume', run.run_id, '--commit-every', String(GROUP), '--json', 'groups.json'], {
    cwd: dir,
    env: env('groups-second.log'),
    encoding: 'utf8',
  });
  expect(resumed.status).toBe(0);
  expect(resumed.stdout).toContain(`${N} (${kept.length} resumed)`);
  const again = lines('groups-second.log');
  expect(again).toHaveLength(N - kept.length);
  expect(new Set([...kept, ...again]).size).toBe(N);
  const out = JSON.parse(readFileSync(join(dir, 'groups.json'), 'utf8'));
  expect(out.results.map((r: { traceId: string }) => r.traceId).sort()).toEqual(Array.from({ length: N }, (_, i) => `t${i}`).sort());
  expect(out.metrics.agreement).toMatchObject({ rate: 1, n: N, successes: N });
});
