import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSuite } from '../../src/suite/load.js';
import { runSuite } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { evaluateGate } from '../../src/gate/gate.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { cli } from './helpers.js';

// A candidate that answers differently every second time it sees half of the traces:
// two runs of it one after the other must show exactly those flips. Each run has processes of
// its own, so it keeps count in a folder the suite lets it write to.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-noise-'));
  const traces = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({ schema: 'shadowgate.trace/v1', id: `t${i}`, workflow: 'w', input: { i }, steps: [], human: { decision: 'yes' } }),
  );
  writeFileSync(join(dir, 'traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
  writeFileSync(
    join(dir, 'flaky.mjs'),
    `import { appendFileSync, readFileSync } from 'node:fs';
const seen = new URL('./seen/', import.meta.url);
export async function run(input, ctx) {
  const file = new URL(ctx.trace.id, seen);
  appendFileSync(file, 'x');
  const n = readFileSync(file, 'utf8').length;
  return { decision: n % 2 === 0 && input.i % 2 === 0 ? 'no' : 'yes' };
}
`,
  );
  mkdirSync(join(dir, 'seen'));
  writeFileSync(join(dir, 'suite.yaml'), 'name: flaky\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: flaky.mjs }\nsandbox: { allow: [{ fs-write: seen }] }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the candidate twice and reports how much it disagrees with itself', async () => {
  const store = createMemoryStore();
  const outcome = await runSuite(await loadSuite(join(dir, 'suite.yaml')), { store, noiseFloor: true, cwd: dir });
  expect(outcome.metrics.agreement.rate).toBe(1);
  expect(outcome.metrics.noiseFloor).toMatchObject({ pairs: 10, flips: 5, selfDisagreement: 0.5, agreementDelta: 0.5 });
  expect(store.getRun(outcome.metrics.noiseFloor!.runId)!.finishedAt).not.toBeNull();

  // A gate that asks for regressions beyond the noise allows half of the A/A flips more.
  const paired = { baselineRunId: 'b', regressions: ['t1', 't2', 't3'], fixes: [], mcnemarMidP: 0.06, pairs: 10, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
  const gate = evaluateGate({ regressions: { max: 0, beyondNoise: true } }, { ...outcome.metrics, paired });
  expect(gate.checks[0]).toMatchObject({ name: 'regressions', threshold: 3, status: 'pass' });
  expect(gate.checks[0]!.reason).toContain('the maximum includes 3 for noise (5 flips in an A/A run)');
  expect(evaluateGate({ regressions: { max: 0, beyondNoise: true } }, { ...outcome.metrics, paired, noiseFloor: undefined }).checks[0]).toMatchObject({
    status: 'inconclusive',
    reason: 'beyondNoise needs the noise floor: pass --noise-floor',
  });
});

it("measures the noise of the baseline's candidate, run twice, where it can be run again", async () => {
  const store = createMemoryStore();
  const suite = await loadSuite(join(dir, 'suite.yaml'));
  const baselineRun = await runSuite(suite, { store, cwd: dir });
  writeFileSync(join(dir, 'steady.mjs'), 'export async function run() { return { decision: "yes" }; }\n');
  // The suite's sandbox applies to whichever candidate runs in it: the baseline's too.
  writeFileSync(join(dir, 'steady.yaml'), 'name: flaky\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: steady.mjs }\nsandbox: { allow: [{ fs-write: seen }] }\n');
  const { loadBaseline } = await import('../../src/run/baseline.js');
  const steady = await loadSuite(join(dir, 'steady.yaml'));
  const outcome = await runSuite(steady, { store, cwd: dir, baseline: loadBaseline(baselineRun.meta.runId, store, dir), noiseFloor: true });
  // The flaky baseline is run twice more: its answers on the even traces differ between the two runs.
  expect(outcome.metrics.noiseFloor).toMatchObject({ subject: 'baseline', pairs: 10, flips: 5 });
  expect(store.getRun(outcome.metrics.noiseFloor!.runId)!.candidate).toContain('(A/A 2)');
  expect(outcome.warnings).toEqual([`the suite's sandbox allows the candidate writes to ${join(dir, 'seen')}`]);

  // Once the baseline's module has changed on disk, it cannot be run as it was: this run's candidate is measured, with a warning.
  writeFileSync(join(dir, 'flaky.mjs'), 'export async function run() { return { decision: "yes" }; }\n// changed\n');
  const fallback = await runSuite(steady, { store, cwd: dir, baseline: loadBaseline(baselineRun.meta.runId, store, dir), noiseFloor: true });
  expect(fallback.metrics.noiseFloor).toMatchObject({ subject: 'candidate', flips: 0 });
  expect(fallback.warnings).toContainEqual(expect.stringContaining("the baseline's candidate cannot be run again (its files have changed since its run)"));
});

it('keeps the A/A replica out of the evidence: phase and drift see the one run', async () => {
  writeFileSync(join(dir, 'aa.mjs'), 'export async function run() { return { decision: "yes" }; }\n');
  writeFileSync(join(dir, 'aa.yaml'), 'name: aa\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: aa.mjs }\n');
  const run = await cli(dir, 'run', 'aa.yaml', '--db', 'aa.db', '--noise-floor', '--json', 'run.json');
  expect(run.code).toBe(0);
  const { runId, metrics } = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  const store = createSqliteStore(join(dir, 'aa.db'));
  // The replica shares the candidate's hash and is stored, finished, as a run of the suite; only the flag tells it apart.
  const replica = store.getRun(metrics.noiseFloor.runId)!;
  expect(replica).toMatchObject({ suite: 'aa', candidateHash: store.getRun(runId)!.candidateHash, replica: 1 });
  expect(replica.finishedAt).not.toBeNull();
  expect(store.listRuns({ suite: 'aa' }).map((r) => [r.runId, r.replica])).toEqual([[replica.runId, 1], [runId, 0]]);
  store.close();

  expect((await cli(dir, 'phase', 'aa.yaml', '--db', 'aa.db', '--json', 'phase.json')).code).toBe(0);
  const [phase] = JSON.parse(readFileSync(join(dir, 'phase.json'), 'utf8')).suites;
  expect(phase.runs).toBe(1);
  expect(phase.steps[0].evidence.runId).toBe(runId);

  expect((await cli(dir, 'drift', '--db', 'aa.db', '--workflow', 'aa', '--json', 'drift.json')).code).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, 'drift.json'), 'utf8')).source).toEqual({ kind: 'runs', db: 'aa.db', runs: 1 });
});
