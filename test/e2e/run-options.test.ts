import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { runSuite } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { loadSuite } from '../../src/suite/load.js';

// Made-up traces, made here: a recorded candidate agreeing with each of them.
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-run-options-'));
  const trace = (id: string, decision: string) =>
    JSON.stringify({ schema: 'shadowgate.trace/v1', id, workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision }, human: { decision } });
  writeFileSync(join(dir, 'traces.jsonl'), `${['a', 'b', 'c'].map((id) => trace(id, 'yes')).join('\n')}\n`);
  writeFileSync(join(dir, 'candidate.jsonl'), `${['a', 'b', 'c'].map((id) => trace(id, 'yes')).join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
  writeFileSync(join(dir, 'suite.yaml'), 'name: options\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([0, -1, 1.5, Number.NaN])('refuses %s traces in flight before it opens a run (below 1 none would start)', async (concurrency) => {
  const store = createMemoryStore();
  const run = runSuite(await loadSuite(join(dir, 'suite.yaml')), { store, concurrency, cwd: dir });
  await expect(run).rejects.toThrow(UsageError);
  await expect(run).rejects.toThrow(/concurrency must be a whole number of traces, at least 1/);
  expect(store.listRuns()).toEqual([]);
});

it('runs one trace at a time with 1 in flight', async () => {
  const outcome = await runSuite(await loadSuite(join(dir, 'suite.yaml')), { store: createMemoryStore(), concurrency: 1, cwd: dir });
  expect(outcome.counts.total).toBe(3);
  expect(outcome.metrics.agreement.rate).toBe(1);
});

it('counts for its progress total the lines the reader reads: blank lines of tabs, form feeds or spaces are none', async () => {
  const file = join(dir, 'blank-lines.jsonl');
  const trace = (id: string) => JSON.stringify({ schema: 'shadowgate.trace/v1', id, workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision: 'yes' }, human: { decision: 'yes' } });
  writeFileSync(file, `${trace('a')}\n\t\n \f \r\n${trace('b')}\n\t \n`);
  writeFileSync(join(dir, 'blank-suite.yaml'), 'name: blank\ntraces: blank-lines.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
  const totals: number[] = [];
  const outcome = await runSuite(await loadSuite(join(dir, 'blank-suite.yaml')), { store: createMemoryStore(), cwd: dir, onProgress: (e) => totals.push(e.total) });
  expect(outcome.counts.total).toBe(2);
  expect(totals[0]).toBe(2); // before any trace is read: the count
});
