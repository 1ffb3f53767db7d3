import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // A made-up candidate for these tests: an entry module whose rules live in a helper it imports.
  mkdirSync(join(dir, 'fixtures/refund-triage/agents/lib'), { recursive: true });
  writeFileSync(join(dir, 'fixtures/refund-triage/agents/with-helper.mjs'), "export { run } from './lib/rules.mjs';\n");
  writeFileSync(join(dir, 'fixtures/refund-triage/agents/lib/rules.mjs'), "export { run } from '../policy-v1.mjs';\n");
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
  writeFileSync(join(dir, 'suites/helper.yaml'), suite.replace('name: refund-triage', 'name: refund-helper').replace('agents/policy-v1.mjs', 'agents/with-helper.mjs'));
});
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const db = ['--db', 'db/id.db'];

it('a change in a file the module imports changes the candidate; --resume of the old candidate\'s run is refused (exit 2); phase credits only the new one', async () => {
  const first = await cli(dir, 'run', 'suites/helper.yaml', ...db, '--json', 'out/first.json');
  expect(first.code).toBe(0);
  const before = readJson('out/first.json');

  // The entry module is untouched; a helper two imports away changes.
  appendFileSync(join(dir, 'fixtures/refund-triage/agents/policy-v1.mjs'), '\n// a changed helper\n');
  const resumed = await cli(dir, 'run', 'suites/helper.yaml', ...db, '--resume', before.runId);
  expect(resumed.code).toBe(2);
  expect(resumed.stderr).toContain(`run ${before.runId} was made with a different suite or candidate`);

  const second = await cli(dir, 'run', 'suites/helper.yaml', ...db, '--json', 'out/second.json');
  expect(second.code).toBe(0);
  const after = readJson('out/second.json');
  expect(after.candidate.label).toBe(before.candidate.label);
  expect(after.candidate.hash).not.toBe(before.candidate.hash);

  const phase = await cli(dir, 'phase', 'suites/helper.yaml', ...db, '--json', 'out/phase.json');
  expect(phase.code).toBe(0);
  const [s] = readJson('out/phase.json').suites;
  expect(s).toMatchObject({ candidateHash: after.candidate.hash, runs: 1, otherRuns: 1 });
  expect(s.steps[0].evidence.runId).toBe(after.runId);
});

it('names the baseline\'s suite and candidate; refuses a baseline of another suite (exit 2)', async () => {
  await cli(dir, 'run', 'suites/refund-triage.yaml', ...db, '--json', 'out/policy.json');
  const policy = readJson('out/policy.json');
  const regression = await cli(dir, 'run', 'suites/refund-triage.yaml', ...db, '--baseline', 'out/policy.json', '--json', 'out/again.json');
  expect(regression.stdout).toContain(`run ${policy.runId} (suite refund-triage, candidate ${policy.candidate.label} ${policy.candidate.hash.slice(0, 10)}, the same candidate as this run)`);
  expect(readJson('out/again.json').metrics.paired.baselineIdentity).toEqual({ suite: 'refund-triage', candidate: { label: policy.candidate.label, hash: policy.candidate.hash }, sameCandidate: true });

  // Another candidate of the same suite is the normal case, and shown as such.
  const suite = readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8').replace('name: refund-triage-regression', 'name: refund-triage');
  writeFileSync(join(dir, 'suites/regression-same-name.yaml'), suite);
  const other = await cli(dir, 'run', 'suites/regression-same-name.yaml', ...db, '--baseline', 'out/policy.json');
  expect(other.code).toBe(1);
  expect(other.stdout).toContain(`run ${policy.runId} (suite refund-triage, candidate ${policy.candidate.label} ${policy.candidate.hash.slice(0, 10)})`);

  // A run of another suite is no baseline: from a file, or from the store by its id.
  for (const ref of ['out/policy.json', policy.runId]) {
    const refused = await cli(dir, 'run', 'suites/refund-triage-regression.yaml', ...db, '--baseline', ref);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--baseline ${ref} is a run of suite refund-triage, not of refund-triage-regression`);
  }
});
