import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

it('compares candidates side by side on the same traces, with pairwise McNemar, in the terminal, JSON and Markdown', async () => {
  const { code, stdout } = await cli(
    dir, 'compare', 'suites/refund-triage.yaml',
    '--candidate', 'regression=fixtures/refund-triage/agents/regression-v2.mjs',
    '--candidate', 'replay=model=replay,prompt=fixtures/refund-triage/prompts/triage.v3.hbs',
    '--json', 'out/cmp.json', '--markdown', 'out/cmp.md', '--db', 'db/c.db',
  );
  expect(code).toBe(0);
  const doc = JSON.parse(readFileSync(join(dir, 'out/cmp.json'), 'utf8'));
  expect(doc.schema).toBe('shadowgate.compare/v1');
  expect(doc.candidates.map((c: { name: string }) => c.name)).toEqual(['current', 'regression', 'replay']);
  const [current, regression] = doc.candidates;
  expect(current.metrics.agreement.successes).toBeGreaterThan(regression.metrics.agreement.successes);
  // The pairwise counts agree with the per-candidate totals: a − b = (only a) − (only b).
  const pair = doc.pairwise.find((p: { a: string; b: string }) => p.a === 'current' && p.b === 'regression');
  expect(pair.aOnly - pair.bOnly).toBe(current.metrics.agreement.successes - regression.metrics.agreement.successes);
  expect(pair.midP).toBeLessThan(0.001);
  expect(doc.pairwise).toHaveLength(3);
  expect(stdout).toMatch(/^candidate\s+agreement\s+95% CI/m);
  expect(stdout).toMatch(/^current vs regression\s+480\s+/m);
  const md = readFileSync(join(dir, 'out/cmp.md'), 'utf8');
  expect(md).toContain('| candidate | agreement | 95% CI |');
  expect(md).toMatch(/\| regression \| 81\.5% \|/);
});

it('exits 2 for a candidate spec it cannot read', async () => {
  const bad = await cli(dir, 'compare', 'suites/refund-triage.yaml', '--candidate', 'x=flavour=vanilla', '--db', 'db/c.db');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('flavour: unknown key');
  expect((await cli(dir, 'compare', 'suites/refund-triage.yaml', '--candidate', 'nameonly', '--db', 'db/c.db')).code).toBe(2);
});

it('exits 2 without any candidate, and for a name used twice or the reserved "current"', async () => {
  expect((await cli(dir, 'compare', 'suites/refund-triage.yaml', '--db', 'db/c.db')).code).toBe(2);
  const twice = await cli(dir, 'compare', 'suites/refund-triage.yaml', '--candidate', 'a=x.mjs', '--candidate', 'a=y.mjs', '--db', 'db/c.db');
  expect(twice.code).toBe(2);
  expect(twice.stderr).toContain('--candidate a: the name is used twice');
  expect((await cli(dir, 'compare', 'suites/refund-triage.yaml', '--candidate', 'current=x.mjs', '--db', 'db/c.db')).code).toBe(2);
});

it('compares recorded runs given as a trace file (name=….jsonl), paired with the suite\'s traces by case and trial', async () => {
  // The shadow log is the suite's own traces recorded again: its runs pair with them, each deciding what the suite's recorded candidate decides.
  const { code, stdout } = await cli(dir, 'compare', 'suites/refund-triage.yaml', '--candidate', 'shadow=traces/refund-triage-shadow/shadow-log.jsonl', '--json', 'out/rec.json', '--db', 'db/r.db');
  expect(code).toBe(0);
  const doc = JSON.parse(readFileSync(join(dir, 'out/rec.json'), 'utf8'));
  const [, shadow] = doc.candidates;
  // a recorded candidate: some of the suite's cases have no shadow run, and those are unpaired, not wrong
  expect(shadow.counts.unpaired).toBeGreaterThan(0);
  expect(doc.pairwise).toEqual([expect.objectContaining({ a: 'current', b: 'shadow', over: 'agreement' })]);
  expect(doc.pairwise[0].pairs).toBeGreaterThan(0);
  expect(stdout).toMatch(/^current vs shadow\s+\d+\s+/m);
});

