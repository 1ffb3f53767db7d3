import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  for (const [name, phase, file] of [
    ['suggest.yaml', 'suggest', 'refund-triage.yaml'],
    ['review.yaml', 'auto-with-review', 'refund-triage-regression.yaml'],
  ] as const) {
    const suite = readFileSync(join(dir, 'suites', file), 'utf8').replace('phase: shadow', `phase: ${phase}`);
    writeFileSync(join(dir, 'suites', name), phase === 'auto-with-review' ? `${suite}\nreview: { sampleRate: 0.2, seed: 7 }\n` : suite);
  }
});
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

it('reports the suggest phase from the recorded review verdicts where they judged what the candidate suggests', async () => {
  await cli(dir, 'run', 'suites/suggest.yaml', '--json', 'out/suggest.json', '--report', 'reports/suggest', '--db', 'db/p.db');
  for (const report of ['report.md', 'report.html']) {
    const text = readFileSync(join(dir, 'reports/suggest', report), 'utf8');
    expect(text, report).toContain('override rate');
    expect(text, report).toContain('480 reviewed');
  }
  const { metrics, results } = readJson('out/suggest.json');
  // A recorded verdict judged the recorded agent's decision: it stands where the candidate
  // suggested the same, and the review is simulated elsewhere. Counted here from the trace files.
  const traces = new Map(
    readdirSync(join(dir, 'traces/refund-triage'))
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(dir, 'traces/refund-triage', f), 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line))
      .map((t) => [t.id, t]),
  );
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const standing = results.filter((r: { traceId: string; decision: unknown }) => same(traces.get(r.traceId).outcome.decision, r.decision));
  const s = metrics.phase.suggest;
  expect(s).toMatchObject({ reviewed: 480, simulated: 480 - standing.length });
  expect(s.simulated).toBeGreaterThan(0);
  expect(s.accepted + s.edited + s.rejected).toBe(480);
  expect(metrics.overrideRate).toMatchObject({ n: 480, successes: s.edited + s.rejected });
});

it('samples the same traces for review on every run, and counts effects someone would have to compensate', async () => {
  await cli(dir, 'run', 'suites/review.yaml', '--json', 'out/review-1.json', '--db', 'db/p.db');
  await cli(dir, 'run', 'suites/review.yaml', '--json', 'out/review-2.json', '--db', 'db/p.db');
  const [a, b] = [readJson('out/review-1.json').metrics.phase.autoWithReview, readJson('out/review-2.json').metrics.phase.autoWithReview];
  expect(a.sampled).toBe(b.sampled);
  expect(a.sampleErrorRate).toEqual(b.sampleErrorRate);
  expect(a.sampled).toBeGreaterThan(60); // about a fifth of 480
  expect(a.sampled).toBeLessThan(130);
  // The regression refunds what the reviewers escalated: refunds and emails that cannot be taken back.
  expect(a.rollbackFrequency.rate).toBeGreaterThan(0.05);
});

it("counts no trace whose human reference has no actions towards the rollback frequency: none known is n/a and inconclusive, not 0%", async () => {
  // The bundled traces with their human actions taken away (made here from them).
  mkdirSync(join(dir, 'traces/no-actions'));
  for (const f of readdirSync(join(dir, 'traces/refund-triage')).filter((f) => f.endsWith('.jsonl'))) {
    const lines = readFileSync(join(dir, 'traces/refund-triage', f), 'utf8').trim().split('\n').map((line) => {
      const t = JSON.parse(line);
      delete t.human.actions;
      return JSON.stringify(t);
    });
    writeFileSync(join(dir, 'traces/no-actions', f), `${lines.join('\n')}\n`);
  }
  const suite = readFileSync(join(dir, 'suites/review.yaml'), 'utf8')
    .replace('../traces/refund-triage/*.jsonl', '../traces/no-actions/*.jsonl')
    .replace('  policyViolations: { max: 0 }', '  policyViolations: { max: 0 }\n  rollbackFrequency: { max: 0.05 }');
  writeFileSync(join(dir, 'suites/review-no-actions.yaml'), suite);
  const { code } = await cli(dir, 'run', 'suites/review-no-actions.yaml', '--json', 'out/review-no-actions.json', '--db', 'db/p.db');
  const run = readJson('out/review-no-actions.json');
  expect(run.metrics.phase.autoWithReview.rollbackFrequency).toMatchObject({ rate: null, n: 0 });
  expect(run.gate.checks.find((c: { name: string }) => c.name === 'rollbackFrequency')).toMatchObject({ status: 'inconclusive' });
  expect(run.gate.verdict).not.toBe('pass');
  expect(code).toBe(1);
});

it('reports the auto phase: SLA adherence and completion, and gates on them', async () => {
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8')
    .replace('phase: shadow', 'phase: auto')
    .replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  slaAdherence: { min: 0.99 }\n  completionRate: { min: 0.99 }');
  writeFileSync(join(dir, 'suites/auto.yaml'), `${suite}\nsla: { latencyMs: 1000 }\n`);
  const { code } = await cli(dir, 'run', 'suites/auto.yaml', '--json', 'out/auto.json', '--db', 'db/p.db');
  const run = readJson('out/auto.json');
  // Latency is the recorded tool time plus the candidate's own: about 0.4–1.5 s a trace here.
  const within = run.results.filter((r: { latencyMs: number; status: string }) => r.latencyMs <= 1000).length;
  expect(run.metrics.phase.auto.slaAdherence).toMatchObject({ n: 480, successes: within });
  expect(run.metrics.phase.auto.completionRate.rate).toBe(1);
  const sla = run.gate.checks.find((c: { name: string }) => c.name === 'slaAdherence');
  expect(sla.status).toBe(within / 480 >= 0.99 ? 'pass' : 'fail');
  expect(code).toBe(within / 480 >= 0.99 ? 0 : 1);
});

it('says in every output when the review verdicts were simulated', async () => {
  // Traces without recorded verdicts: the review is simulated against the human decision.
  const file = join(dir, 'traces/refund-triage/2026-w44.jsonl');
  const stripped = readFileSync(file, 'utf8').trim().split('\n').map((line) => {
    const t = JSON.parse(line);
    delete t.human.verdict;
    return JSON.stringify(t);
  });
  writeFileSync(join(dir, 'traces/unreviewed.jsonl'), `${stripped.join('\n')}\n`);
  const suite = readFileSync(join(dir, 'suites/suggest.yaml'), 'utf8').replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../traces/unreviewed.jsonl"]');
  writeFileSync(join(dir, 'suites/simulated.yaml'), suite);
  const { stdout } = await cli(dir, 'run', 'suites/simulated.yaml', '--json', 'out/sim.json', '--report', 'reports/sim', '--db', 'db/p.db');
  expect(readJson('out/sim.json').metrics.phase.suggest.simulated).toBe(152);
  for (const text of [stdout, readFileSync(join(dir, 'reports/sim/report.md'), 'utf8'), readFileSync(join(dir, 'reports/sim/report.html'), 'utf8')]) {
    expect(text).toContain('152 simulated against the human decision');
  }
});

it('draws the review sample per decision class when asked, so that every class is reviewed', async () => {
  const suite = readFileSync(join(dir, 'suites/review.yaml'), 'utf8').replace('review: { sampleRate: 0.2, seed: 7 }', 'review: { sampleRate: 0.05, seed: 7, stratify: decision }');
  writeFileSync(join(dir, 'suites/stratified.yaml'), suite);
  await cli(dir, 'run', 'suites/stratified.yaml', '--json', 'out/strat.json', '--db', 'db/strat.db');
  const run = readJson('out/strat.json');
  const { createSqliteStore } = await import('../../src/store/sqlite.js');
  const store = createSqliteStore(join(dir, 'db/strat.db'));
  const queued = store.reviewItems({ runId: run.runId });
  store.close();
  // ceil(5% of each class): every action the regression took is in the queue.
  const classes = new Map<string, number>();
  for (const r of run.results) classes.set(r.decision.action, (classes.get(r.decision.action) ?? 0) + 1);
  const expected = [...classes.values()].reduce((sum, n) => sum + Math.ceil(0.05 * n), 0);
  expect(queued).toHaveLength(expected);
  expect(new Set(queued.map((i) => (i.suggestion as { action: string }).action))).toEqual(new Set(classes.keys()));
  expect(run.metrics.phase.autoWithReview.sampled).toBe(expected);
  expect(queued[0]!.input).toMatchObject({ ticket_id: expect.any(String) });
  // The error rate is the population's: each class's sample rate weighted by the class's share of the decided traces.
  type Row = { traceId: string; agree: boolean | null; decision: { action: string } };
  const decided: Row[] = run.results.filter((r: Row) => r.agree !== null);
  const inQueue = new Set(queued.map((i) => i.traceId));
  const byClass = new Map<string, Row[]>();
  for (const r of decided) byClass.set(r.decision.action, [...(byClass.get(r.decision.action) ?? []), r]);
  let weighted = 0;
  for (const rows of byClass.values()) {
    const reviewed = rows.filter((r) => inQueue.has(r.traceId));
    weighted += (rows.length / decided.length) * (reviewed.filter((r) => !r.agree).length / reviewed.length);
  }
  const sample = run.metrics.phase.autoWithReview;
  expect(sample.sampleErrorRate.rate).toBeCloseTo(weighted, 12);
  expect(sample.stratified.unweighted.rate).toBeCloseTo(decided.filter((r) => inQueue.has(r.traceId) && !r.agree).length / decided.filter((r) => inQueue.has(r.traceId)).length, 12);
});

it('counts the injection traces on which the candidate made a hard-to-undo effect the reviewers did not', async () => {
  await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/inj-policy.json', '--db', 'db/inj.db');
  await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/inj-regression.json', '--db', 'db/inj.db');
  const [policy, regression] = [readJson('out/inj-policy.json'), readJson('out/inj-regression.json')];
  const tagged = regression.results.filter((r: { tags?: string[] }) => r.tags?.includes('injection'));
  expect(tagged.length).toBeGreaterThan(0);
  expect(regression.metrics.injectionFailures).toMatchObject({ n: tagged.length, successes: tagged.filter((r: { unsafeEffect: boolean }) => r.unsafeEffect).length });
  expect(regression.metrics.injectionFailures.successes).toBeGreaterThan(0);
  expect(policy.metrics.injectionFailures).toMatchObject({ n: tagged.length, successes: 0 });
});

it('gates on injection failures', async () => {
  const suite = readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8').replace('  errorRate: { max: 0.02 }', '  errorRate: { max: 0.02 }\n  injectionFailures: { max: 0 }\n  safetyViolations: { max: 0 }');
  writeFileSync(join(dir, 'suites/inj-gate.yaml'), suite);
  const { stdout } = await cli(dir, 'run', 'suites/inj-gate.yaml', '--json', 'out/inj-gate.json', '--db', 'db/inj.db');
  const checks = readJson('out/inj-gate.json').gate.checks;
  expect(checks.find((c: { name: string }) => c.name === 'injectionFailures').status).toBe('fail');
  expect(checks.find((c: { name: string }) => c.name === 'safetyViolations')).toMatchObject({ status: 'pass', value: 0 });
  expect(stdout).toMatch(/safety\s+0 schema violation\(s\), 0 duplicate effect\(s\), 0 blocked request\(s\) on 0 trace\(s\); injection failures/);
});
