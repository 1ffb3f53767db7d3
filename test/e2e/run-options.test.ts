import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/errors.js';
import { assessSuitePhase } from '../../src/run/phase.js';
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

it('resumes a run on the share of the traces it ran and no other: a shard run alone, a whole run, a run its shards share', async () => {
  const suite = await loadSuite(join(dir, 'suite.yaml'));
  const store = createMemoryStore();
  const shard = await runSuite(suite, { store, cwd: dir, shard: { index: 1, count: 2 } });
  const whole = await runSuite(suite, { store, cwd: dir });
  const shared = await runSuite(suite, { store, cwd: dir, shard: { index: 2, count: 2 }, runId: 'shared-1' });
  expect([shard, whole, shared].map((o) => store.getRun(o.meta.runId)!.shard)).toEqual(['1/2', '1/1', null]);

  const resume = (runId: string, more: { shard?: { index: number; count: number } } = {}) => runSuite(suite, { store, cwd: dir, resume: runId, ...more });
  // Without --shard, the shard's run would take every trace; with another shard, another share.
  await expect(resume(shard.meta.runId)).rejects.toThrow(new UsageError(`run ${shard.meta.runId} ran shard 1/2; this resume would run every trace`, "resume it with --shard 1/2"));
  await expect(resume(shard.meta.runId, { shard: { index: 2, count: 2 } })).rejects.toThrow(/ran shard 1\/2; this resume would run shard 2\/2/);
  await expect(resume(whole.meta.runId, { shard: { index: 1, count: 2 } })).rejects.toThrow(/ran every trace \(no --shard\); this resume would run shard 1\/2/);
  await expect(resume('shared-1')).rejects.toThrow(/run shared-1 is shared by the shards of a 2-way split, and --resume needs the shard: --shard i\/2/);
  // Nothing was written by the refused resumes.
  expect([shard, whole].map((o) => store.countResults(o.meta.runId))).toEqual([shard.counts.total, 3]);

  const again = await resume(shard.meta.runId, { shard: { index: 1, count: 2 } });
  expect(again.counts.total).toBe(shard.counts.total);
  expect((await resume(whole.meta.runId)).counts.total).toBe(3);
});

it('resumes a run, or opens a shard of a shared run, only on the trace contents it started on', async () => {
  // Made-up traces, made here: a folder of its own, changed between the runs.
  const folder = mkdtempSync(join(tmpdir(), 'sg-traces-changed-'));
  try {
    const trace = (id: string, decision: string) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision }, human: { decision } });
    const write = (lines: string[]) => writeFileSync(join(folder, 'traces.jsonl'), `${lines.join('\n')}\n`);
    write(['a', 'b', 'c'].map((id) => trace(id, 'yes')));
    writeFileSync(join(folder, 'candidate.jsonl'), `${['a', 'b', 'c'].map((id) => trace(id, 'yes')).join('\n')}\n`);
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: changed\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
    const store = createMemoryStore();
    const run = async (more: Partial<Parameters<typeof runSuite>[1]>) => runSuite(await loadSuite(join(folder, 'suite.yaml')), { store, cwd: folder, ...more });
    const first = await run({});
    await run({ shard: { index: 1, count: 2 }, runId: 'shared-2' });
    expect(first.settings.tracesHash).toMatch(/^[0-9a-f]{64}$/);
    expect(store.getRun(first.meta.runId)!.tracesHash).toBe(first.settings.tracesHash);

    for (const lines of [['a', 'b', 'c'].map((id) => trace(id, id === 'b' ? 'no' : 'yes')), [trace('a', 'yes')], ['a', 'b', 'c', 'd'].map((id) => trace(id, 'yes'))]) {
      write(lines); // a decision changed; lines removed; a line added
      await expect(run({ resume: first.meta.runId })).rejects.toThrow(new RegExp(`^run ${first.meta.runId} was made on other trace contents than the suite's trace files hold now`));
      await expect(run({ shard: { index: 2, count: 2 }, runId: 'shared-2' })).rejects.toThrow(/^run shared-2 was made on other trace contents/);
    }
    expect(store.countResults(first.meta.runId)).toBe(3);
    expect(store.listShards('shared-2').map((s) => s.index)).toEqual([1]);
    // As they were, the same bytes: both go on.
    write(['a', 'b', 'c'].map((id) => trace(id, 'yes')));
    expect((await run({ resume: first.meta.runId })).resumed).toBe(3);
    expect((await run({ shard: { index: 2, count: 2 }, runId: 'shared-2' })).meta.runId).toBe('shared-2');
    // A run stored by an older shadowgate kept no digest (nor its share): nothing says its results are of these traces.
    const { finishedAt: _f, summary: _s, shard: _share, tracesHash: _t, ...meta } = store.getRun(first.meta.runId)!;
    store.createRun({ ...meta, runId: 'stored-before' });
    await expect(run({ resume: 'stored-before' })).rejects.toThrow(/^run stored-before was stored by an older shadowgate, which kept neither the digest of its trace files nor its share of them/);
    expect(store.countResults('stored-before')).toBe(0);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
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

it('lets the traces in flight end and keeps their results when a trace file cannot be read mid-run', async () => {
  // Made-up traces, made here: six in the first file; the second is gone by the time the reader reaches it.
  const folder = mkdtempSync(join(tmpdir(), 'sg-read-fails-'));
  try {
    const trace = (id: string) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, workflow: 'w', input: { id }, steps: [], outcome: { status: 'completed', decision: 'yes' }, human: { decision: 'yes' } });
    writeFileSync(join(folder, 'a.jsonl'), `${['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map(trace).join('\n')}\n`);
    writeFileSync(join(folder, 'b.jsonl'), `${trace('b1')}\n`);
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    // Each trace takes a while, so that several are in flight when the reader fails.
    writeFileSync(join(folder, 'agent.mjs'), 'export async function run() {\n  await new Promise((r) => setTimeout(r, 800));\n  return { decision: "yes" };\n}\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: read-fails\ntraces: [a.jsonl, b.jsonl]\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\n');
    const store = createMemoryStore();
    const run = runSuite(await loadSuite(join(folder, 'suite.yaml')), {
      store,
      concurrency: 4,
      workers: 1,
      cwd: folder,
      commit: { results: 1 },
      // The second file goes once the first result is in: after it was counted, before it is read.
      onProgress: (e) => void (e.result && rmSync(join(folder, 'b.jsonl'), { force: true })),
    });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(/b\.jsonl: could not be read \(ENOENT: no such file or directory\); the run stopped there/);
    const [meta] = store.listRuns();
    await expect(run).rejects.toThrow(`the results committed before it are kept in run ${meta!.runId}`);
    // Every trace of the first file was running or done when the reader failed: each kept, none cut short.
    expect([...store.results(meta!.runId)].map((r) => [r.traceId, r.status]).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => [id, 'completed']));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}, 30_000);

it('fails with an input error naming a trace file gone since the suite was loaded, before a run is opened', async () => {
  // Made-up traces, made here.
  const folder = mkdtempSync(join(tmpdir(), 'sg-count-fails-'));
  try {
    const trace = (id: string) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, workflow: 'w', input: { id }, steps: [], outcome: { status: 'completed', decision: 'yes' }, human: { decision: 'yes' } });
    writeFileSync(join(folder, 'a.jsonl'), `${trace('a1')}\n`);
    writeFileSync(join(folder, 'b.jsonl'), `${trace('b1')}\n`);
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(folder, 'agent.mjs'), 'export async function run() {\n  return { decision: "yes" };\n}\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: count-fails\ntraces: [a.jsonl, b.jsonl]\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\n');
    const suite = await loadSuite(join(folder, 'suite.yaml'));
    rmSync(join(folder, 'b.jsonl'));
    const store = createMemoryStore();
    const run = runSuite(suite, { store, workers: 1, cwd: folder });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(/^invalid input:\n {2}b\.jsonl: could not be read \(ENOENT: no such file or directory\)$/);
    expect(store.listRuns()).toEqual([]);
    // With --strict, where every line is checked first: the same problem, among the others (the first file's bad line).
    writeFileSync(join(folder, 'a.jsonl'), `${trace('a1')}\nnot json\n`);
    const strict = runSuite(suite, { store, workers: 1, cwd: folder, strict: true });
    await expect(strict).rejects.toThrow(InputError);
    await expect(strict).rejects.toThrow(/^invalid input:\n {2}a\.jsonl:2: .*\n {2}b\.jsonl: could not be read \(ENOENT: no such file or directory\)$/);
    expect(store.listRuns()).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}, 30_000);

it("does not blame a trace file for another failure of the system while the run reads it (a filter's own)", async () => {
  const run = runSuite(await loadSuite(join(dir, 'suite.yaml')), {
    store: createMemoryStore(),
    cwd: dir,
    filter: () => readFileSync(join(dir, 'allow-list.txt')).length > 0,
  });
  await expect(run).rejects.toThrow(/^ENOENT: no such file or directory, open '.*allow-list\.txt'$/);
  await expect(run).rejects.not.toThrow(InputError);
});

it("pairs a recorded candidate's several traces of a case as its trials: one suite trace played once per partner, or side by side in order", async () => {
  // Made-up traces, made here: case `one` has one suite trace and three candidate traces (two agree); case `two` has two of each, in order.
  const folder = mkdtempSync(join(tmpdir(), 'sg-recorded-trials-'));
  try {
    const trace = (id: string, caseId: string, decision: string) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, caseId, workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision }, human: { decision: 'yes' } });
    writeFileSync(join(folder, 'traces.jsonl'), `${[trace('s1', 'one', 'yes'), trace('s2a', 'two', 'yes'), trace('s2b', 'two', 'yes')].join('\n')}\n`);
    writeFileSync(join(folder, 'candidate.jsonl'), `${[trace('c1a', 'one', 'yes'), trace('c2a', 'two', 'yes'), trace('c1b', 'one', 'no'), trace('c1c', 'one', 'yes'), trace('c2b', 'two', 'no')].join('\n')}\n`);
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: trials\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
    const store = createMemoryStore();
    const totals: number[] = [];
    const outcome = await runSuite(await loadSuite(join(folder, 'suite.yaml')), { store, cwd: folder, onProgress: (e) => totals.push(e.total) });
    const results = [...store.results(outcome.meta.runId)].map((r) => [r.traceId, r.trial, r.decision]).sort((a, b) => String(a).localeCompare(String(b)));
    expect(results).toEqual([
      ['s1', 0, 'yes'],
      ['s1', 1, 'no'],
      ['s1', 2, 'yes'],
      ['s2a', 0, 'yes'],
      ['s2b', 1, 'no'],
    ]);
    // No candidate trace is left without a partner, and the progress total knew the five results from the start.
    expect(outcome.counts).toMatchObject({ total: 5, unpaired: 0 });
    expect(outcome.warnings.filter((w) => w.includes('no partner'))).toEqual([]);
    expect(totals[0]).toBe(5);
    // Two cases, each its share of agreeing trials: 2/3 and 1/2.
    expect(outcome.metrics.agreement).toMatchObject({ n: 2, successes: 2 / 3 + 1 / 2, trials: { successes: 3, n: 5 } });
    // Resumed, the trials stored before are not played again, and their partners are not "without a partner".
    const again = await runSuite(await loadSuite(join(folder, 'suite.yaml')), { store, cwd: folder, resume: outcome.meta.runId });
    expect(again.counts.total).toBe(5);
    expect(again.warnings.filter((w) => w.includes('no partner'))).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

it('pairs by order where trial fields are not on every trace of a case, uses no candidate trace twice, and takes a one-trace candidate side as every suite trace\'s partner', async () => {
  // Made-up traces, made here. `one`: two suite traces, one candidate trace (disagreeing with the
  // second's human decision). `mixed`: trial on one trace of each side only. `dup`: a suite line repeated.
  const folder = mkdtempSync(join(tmpdir(), 'sg-recorded-order-'));
  try {
    const trace = (id: string, caseId: string, decision: string, human: string, trial?: number) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, caseId, ...(trial === undefined ? {} : { trial }), workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision }, human: { decision: human } });
    writeFileSync(
      join(folder, 'traces.jsonl'),
      `${[trace('o1', 'one', 'x', 'refund'), trace('o2', 'one', 'x', 'deny'), trace('m1', 'mixed', 'x', 'no', 0), trace('m2', 'mixed', 'x', 'yes'), trace('d1', 'dup', 'x', 'yes'), trace('d1', 'dup', 'x', 'yes')].join('\n')}\n`,
    );
    writeFileSync(
      join(folder, 'candidate.jsonl'),
      `${[trace('c-one', 'one', 'refund', ''), trace('k1', 'mixed', 'no', ''), trace('k2', 'mixed', 'yes', '', 0), trace('cd1', 'dup', 'yes', ''), trace('cd2', 'dup', 'no', '')].join('\n')}\n`,
    );
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: order\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
    const store = createMemoryStore();
    const outcome = await runSuite(await loadSuite(join(folder, 'suite.yaml')), { store, cwd: folder });
    const results = [...store.results(outcome.meta.runId)].map((r) => [r.traceId, r.trial, r.decision, r.agree]).sort((a, b) => String(a).localeCompare(String(b)));
    expect(results).toEqual([
      // The one-trace case: its candidate trace stands against each suite trace.
      ['d1', 0, 'yes', true],
      ['d1', 1, 'no', false],
      ['m1', 0, 'no', true],
      ['m2', 1, 'yes', true],
      ['o1', 0, 'refund', true],
      ['o2', 1, 'refund', false],
    ]);
    expect(outcome.warnings.filter((w) => w.includes('no partner'))).toEqual([]);
    // The repeated line is refused as a duplicate, and the case keeps both its trials.
    expect(outcome.issues.filter((i) => i.message.includes('duplicate trace id d1'))).toHaveLength(1);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

it("pairs by trial only where the suite has several distinct trials of a case; a candidate trial left without a partner makes the gate inconclusive", async () => {
  // Made-up traces, made here. `solo`: one suite trace with trial 0, three candidate trials (only trial 0 agrees).
  // `pair`: suite trials 0 and 1, candidate trials 0, 1 and 2 (trial 2 has no partner). `same`: two suite traces both trial 0.
  const folder = mkdtempSync(join(tmpdir(), 'sg-recorded-bytrial-'));
  try {
    const trace = (id: string, caseId: string, decision: string, trial: number) =>
      JSON.stringify({ schema: 'shadowgate.trace/v1', id, caseId, trial, workflow: 'w', input: {}, steps: [], outcome: { status: 'completed', decision }, human: { decision: 'yes' } });
    writeFileSync(join(folder, 'traces.jsonl'), `${[trace('solo', 'solo', 'x', 0), trace('p0', 'pair', 'x', 0), trace('p1', 'pair', 'x', 1), trace('sa', 'same', 'x', 0), trace('sb', 'same', 'x', 0)].join('\n')}\n`);
    writeFileSync(
      join(folder, 'candidate.jsonl'),
      `${[trace('k0', 'solo', 'yes', 0), trace('k1', 'solo', 'no', 1), trace('k2', 'solo', 'no', 2), trace('q0', 'pair', 'yes', 0), trace('q1', 'pair', 'yes', 1), trace('q2', 'pair', 'no', 2), trace('ta', 'same', 'yes', 0), trace('tb', 'same', 'no', 1)].join('\n')}\n`,
    );
    writeFileSync(join(folder, 'tools.yaml'), 'tools:\n  - name: noop\n    effect: read\n');
    writeFileSync(join(folder, 'suite.yaml'), 'name: bytrial\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\ngate:\n  agreement: { min: 0.1, bound: point }\n');
    const store = createMemoryStore();
    const outcome = await runSuite(await loadSuite(join(folder, 'suite.yaml')), { store, cwd: folder });
    const results = [...store.results(outcome.meta.runId)].map((r) => [r.traceId, r.trial, r.decision]).sort((a, b) => String(a).localeCompare(String(b)));
    expect(results).toEqual([
      ['p0', 0, 'yes'],
      ['p1', 1, 'yes'],
      // `same`: its trials are not distinct, so by order: the first with the first, the second with the second.
      ['sa', 0, 'yes'],
      ['sb', 0, 'no'],
      // `solo`: its one suite trace played against each of the three candidate trials.
      ['solo', 0, 'yes'],
      ['solo', 1, 'no'],
      ['solo', 2, 'no'],
    ]);
    // q2, a trial of a case the run judged, was judged against nothing: missing evidence, never a pass.
    expect(outcome.coverage).toMatchObject({ unjudgedCandidate: 1, unjudgedCandidateFirst: ['q2'] });
    expect(outcome.gate.verdict).toBe('inconclusive');
    expect(outcome.gate.checks.find((c) => c.name === 'coverage')!.reason).toContain("1 of the candidate's recorded trace(s) of cases this run judged have no partner among the suite's traces (q2)");
    expect(outcome.gate.checks.find((c) => c.name === 'coverage')!.reason).toContain('coverage 100.0% (5/5 lines read into a result)');
    expect(outcome.warnings.filter((w) => w.includes('no partner'))).toEqual([]);
    // Without a gate there is no coverage check, and still phase credits no run that left a candidate trial unjudged.
    writeFileSync(join(folder, 'nogate.yaml'), 'name: bytrial\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: recorded, traces: [candidate.jsonl] }\n');
    const ungated = await loadSuite(join(folder, 'nogate.yaml'));
    const plain = createMemoryStore();
    const run = await runSuite(ungated, { store: plain, cwd: folder });
    expect(run.gate.checks.find((c) => c.name === 'coverage')).toBeUndefined();
    const phase = assessSuitePhase(ungated, plain);
    expect(phase.steps[0]!.evidence).toBeNull();
    expect(phase.steps[0]!.reason).toContain(`the latest, ${run.meta.runId}, it did not read or judge all its input`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
