import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const N = 12;
const START = Date.parse('2026-10-05T00:00:00Z');

/**
 * Made-up traces for this test: the human refunded 10 USD on each case; the candidate's
 * recorded runs refund 10.004, which the refund-triage suites' comparator (amount within
 * 0.01) calls the same decision. No verdict is recorded, so review is simulated.
 */
function writeTraces(): void {
  mkdirSync(join(dir, 'traces/cmp'), { recursive: true });
  const line = (i: number, side: 'human' | 'candidate') =>
    JSON.stringify({
      schema: 'shadowgate.trace/v1',
      id: `cmp-${i}`,
      workflow: 'refund-triage',
      recordedAt: new Date(START + i * 3_600_000).toISOString(),
      input: { ticket_id: `T-${i}` },
      steps: [],
      outcome: { status: 'completed', decision: { action: 'refund', amount: side === 'human' ? 10 : 10.004 } },
      human: { decision: { action: 'refund', amount: 10 } },
    });
  writeFileSync(join(dir, 'traces/cmp/reference.jsonl'), `${Array.from({ length: N }, (_, i) => line(i, 'human')).join('\n')}\n`);
  writeFileSync(join(dir, 'traces/cmp/candidate.jsonl'), `${Array.from({ length: N }, (_, i) => line(i, 'candidate')).join('\n')}\n`);
}

const SUITE = (tolerance: number) => `name: cmp-${String(tolerance).replace('.', '')}
phase: suggest
traces: ["../traces/cmp/reference.jsonl"]
tools: ../fixtures/refund-triage/tools.yaml
reference: human
candidate:
  kind: recorded
  traces: ["../traces/cmp/candidate.jsonl"]
compare:
  decision: { fields: [action, amount], numericTolerance: ${tolerance} }
`;

beforeAll(() => {
  writeTraces();
  writeFileSync(join(dir, 'suites/cmp-tol.yaml'), SUITE(0.01));
  writeFileSync(join(dir, 'suites/cmp-exact.yaml'), SUITE(0));
});

it('agreement and simulated review decide "same decision" with the suite comparator: 10.004 vs 10 is equal and accepted', async () => {
  await cli(dir, 'run', 'suites/cmp-tol.yaml', '--json', 'out/tol.json', '--db', 'db/c.db');
  const tol = readJson('out/tol.json').metrics;
  expect(tol.agreement).toMatchObject({ rate: 1, n: N });
  expect(tol.phase.suggest).toMatchObject({ reviewed: N, simulated: N, accepted: N, edited: 0, rejected: 0, meanEditDistance: 0 });

  // The same traces under an exact comparator: neither figure calls them equal; the amount is 1 of 2 fields → an edit.
  await cli(dir, 'run', 'suites/cmp-exact.yaml', '--json', 'out/exact.json', '--db', 'db/c.db');
  const exact = readJson('out/exact.json').metrics;
  expect(exact.agreement).toMatchObject({ rate: 0, n: N });
  expect(exact.phase.suggest).toMatchObject({ reviewed: N, accepted: 0, edited: N, rejected: 0, meanEditDistance: 0.5 });
});

it('review.editThreshold sets the edit/reject distance of a simulated review', async () => {
  writeFileSync(join(dir, 'suites/cmp-strict.yaml'), `${SUITE(0).replace('name: cmp-0', 'name: cmp-strict')}review: { editThreshold: 0.4 }\n`);
  await cli(dir, 'run', 'suites/cmp-strict.yaml', '--json', 'out/strict.json', '--db', 'db/c.db');
  // Distance 0.5 > 0.4: rejected.
  expect(readJson('out/strict.json').metrics.phase.suggest).toMatchObject({ accepted: 0, edited: 0, rejected: N });
});

it('drift over trace files decides agreement with the suite comparator when given --suite', async () => {
  const args = ['drift', 'traces/cmp/candidate.jsonl', '--window', '1d', '--windows', '1', '--db', 'db/c.db'];
  await cli(dir, ...args, '--json', 'out/drift-whole.json');
  await cli(dir, ...args, '--suite', 'suites/cmp-tol.yaml', '--json', 'out/drift-suite.json');
  const agreement = (file: string) => readJson(file).windows.at(-1).figures.agreement;
  expect(agreement('out/drift-whole.json')).toMatchObject({ rate: 0, n: N });
  expect(agreement('out/drift-suite.json')).toMatchObject({ rate: 1, n: N });
});

it('the Vitest matchers judge agreement with the suite comparator', async () => {
  const { runSuite } = await import('../../src/vitest/run.js');
  const { agreeWith } = await import('../../src/vitest/matchers.js');
  const tol = await runSuite('suites/cmp-tol.yaml', { cwd: dir });
  const exact = await runSuite('suites/cmp-exact.yaml', { cwd: dir });
  expect(agreeWith(tol, 'human', { min: 1, bound: 'point' }, false).pass).toBe(true);
  expect(agreeWith(exact, 'human', { min: 0.5, bound: 'point' }, false).pass).toBe(false);
});
