import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // The refund-triage suite with the regression's candidate and a gate on paired regressions
  // against the baseline: a baseline is a run of the same suite (another suite's is refused).
  const suite = readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'suites/regression-paired.yaml'),
    suite.replace('name: refund-triage-regression', 'name: refund-triage').replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  regressions: { max: 0 }'),
  );
});
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
type Row = { traceId: string; agree: boolean | null };

it('pairs a run with a baseline results file: the flips, McNemar, and a failing regressions check', async () => {
  expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/base.json', '--db', 'db/a.db')).code).toBe(0);
  const run = await cli(dir, 'run', 'suites/regression-paired.yaml', '--baseline', 'out/base.json', '--json', 'out/cand.json', '--db', 'db/a.db');
  expect(run.code).toBe(1);
  const base = readJson('out/base.json');
  const cand = readJson('out/cand.json');
  // The flips, computed here from the two results files.
  const before = new Map<string, boolean | null>(base.results.map((r: Row) => [r.traceId, r.agree]));
  const regressions = cand.results.filter((r: Row) => before.get(r.traceId) === true && r.agree === false).map((r: Row) => r.traceId);
  const fixes = cand.results.filter((r: Row) => before.get(r.traceId) === false && r.agree === true).map((r: Row) => r.traceId);
  expect(cand.metrics.paired).toMatchObject({ baselineRunId: base.runId, regressions, fixes, pairs: 480 });
  expect(regressions.length).toBeGreaterThan(5);
  expect(cand.metrics.paired.mcnemarMidP).toBeLessThan(0.001);
  const check = cand.gate.checks.find((c: { name: string }) => c.name === 'regressions');
  expect(check).toMatchObject({ status: 'fail', value: regressions.length, threshold: 0 });
  expect(run.stdout).toContain(`${regressions.length} regression(s) (${regressions.slice(0, 5).join(', ')}`);
});

it('takes a stored run id as the baseline; a candidate against itself has no flips', async () => {
  const base = readJson('out/base.json');
  const again = await cli(dir, 'run', 'suites/refund-triage.yaml', '--baseline', base.runId, '--json', 'out/same.json', '--db', 'db/a.db');
  expect(again.code).toBe(0);
  expect(readJson('out/same.json').metrics.paired).toMatchObject({ regressions: [], fixes: [], mcnemarMidP: null, pairs: 480 });
});

it('is inconclusive without a baseline, and says how to give one', async () => {
  const run = await cli(dir, 'run', 'suites/regression-paired.yaml', '--json', 'out/nobase.json', '--db', 'db/a.db');
  expect(run.code).toBe(1);
  expect(readJson('out/nobase.json').gate.checks.find((c: { name: string }) => c.name === 'regressions')).toMatchObject({
    status: 'inconclusive',
    reason: 'no baseline: pass --baseline <runId | results.json> to count regressions',
  });
});

it('exits 2 for a stored run that did not finish: the traces it did not get to are no baseline', async () => {
  const base = readJson('out/base.json');
  // The finished run, as a killed one leaves it: no finish time (made here, in a copy of the store).
  copyFileSync(join(dir, 'db/a.db'), join(dir, 'db/unfinished.db'));
  const db = new Database(join(dir, 'db/unfinished.db'));
  db.prepare('UPDATE runs SET finished_at = NULL, summary_json = NULL WHERE run_id = ?').run(base.runId);
  db.close();
  const run = await cli(dir, 'run', 'suites/refund-triage.yaml', '--baseline', base.runId, '--db', 'db/unfinished.db');
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`--baseline ${base.runId} is a run that did not finish (480 results stored): it is no baseline`);
});

it('exits 2 for a baseline that is neither a file nor a stored run', async () => {
  const run = await cli(dir, 'run', 'suites/refund-triage.yaml', '--baseline', 'nope', '--db', 'db/a.db');
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--baseline nope is neither a results file nor a run in the store');
});

it('exits 2, naming the rows, for a baseline file whose results are not results', async () => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'out/bad-base.json'), JSON.stringify({ schema: 'shadowgate.run/v1', runId: 'x', results: [null, { traceId: 't', agree: 'yes' }] }));
  const run = await cli(dir, 'run', 'suites/refund-triage.yaml', '--baseline', 'out/bad-base.json', '--db', 'db/a.db');
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('out/bad-base.json: results.0:');
  expect(run.stderr).toContain('out/bad-base.json: results.1.agree:');
  writeFileSync(join(dir, 'out/null.json'), 'null');
  expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--baseline', 'out/null.json', '--db', 'db/a.db')).code).toBe(2);
});
