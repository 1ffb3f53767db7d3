import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('shadowgate run on the bundled example', () => {
  it('passes the policy candidate (exit 0) and writes shadowgate.run/v1', async () => {
    const { code, stdout } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/policy.json', '--db', 'db/a.db');
    expect(code).toBe(0);
    expect(stdout).toMatch(/gate: PASS/);
    const run = readJson('out/policy.json');
    expect(Object.keys(run)).toEqual([
      'schema', 'runId', 'suite', 'phase', 'candidate', 'reference', 'startedAt', 'finishedAt',
      'git', 'shard', 'settings', 'pricingVersion', 'counts', 'metrics', 'gate', 'reversibility', 'modelCalls', 'issues', 'coverage', 'warnings', 'results',
    ]);
    expect(run.schema).toBe('shadowgate.run/v1');
    expect(run.phase).toBe('shadow');
    expect(run.reference).toBe('human');
    expect(Object.keys(run.metrics)).toEqual(expect.arrayContaining(['agreement', 'effectsAgreement', 'toolCallDrift', 'overrideRate', 'cost', 'latency']));
    expect(Object.keys(run.metrics.agreement)).toEqual(['rate', 'n', 'successes', 'ci95']);
    expect(Object.keys(run.metrics.toolCallDrift)).toEqual(expect.arrayContaining(['jsd', 'psi', 'meanSequenceSimilarity', 'perTool', 'chi2P', 'newTools', 'missingTools']));
    expect(Object.keys(run.metrics.cost)).toEqual(expect.arrayContaining(['totalUsd', 'perRunUsd', 'perCompletedUsd', 'inputTokens', 'outputTokens']));
    expect(Object.keys(run.metrics.latency)).toEqual(['p50Ms', 'p95Ms', 'meanMs', 'meanCi95']);
    // A rules module makes no model calls: its cost is unknown, not zero.
    expect(run.metrics.cost.totalUsd).toBeNull();
    expect(run.results).toHaveLength(run.counts.total);
    expect(Object.keys(run.results[0]).slice(0, 9)).toEqual([
      'traceId', 'caseId', 'status', 'agree', 'effectsAgree', 'sequenceSimilarity', 'divergence', 'costUsd', 'latencyMs',
    ]);
    expect(run.results[0].steps.length).toBeGreaterThan(0);
    // The figures agree with the results they summarise.
    const agreed = run.results.filter((r: { agree: boolean | null }) => r.agree === true).length;
    expect(run.metrics.agreement.successes).toBe(agreed);
    expect(run.gate.verdict).toBe('pass');
    expect(run.gate.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([
      ['agreement', 'pass'],
      ['errorRate', 'pass'],
      ['policyViolations', 'pass'],
      ['coverage', 'pass'],
    ]);
    expect(run.coverage).toEqual({ lines: run.results.length, unreadable: 0, infrastructureMissing: 0, infrastructureFirst: [], firstLocations: [] });
  });

  it('fails the regression candidate (exit 1) on the agreement check, naming refunds above the limit', async () => {
    const { code, stdout } = await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/regression.json', '--db', 'db/a.db');
    expect(code).toBe(1);
    expect(stdout).toMatch(/gate: FAIL/);
    const run = readJson('out/regression.json');
    const agreement = run.gate.checks.find((c: { name: string }) => c.name === 'agreement');
    expect(agreement.status).toBe('fail');
    expect(agreement.value).toBeLessThan(agreement.threshold);
    // Where the recorded agent escalated a large refund, the regression refunds instead, and
    // the divergence point is that write.
    const overLimit = run.results.filter(
      (r: { decision: { action?: string; amount?: number } | null; reference: { tools: string[] } }) =>
        r.decision?.action === 'refund' && (r.decision.amount ?? 0) > 500 && r.reference.tools.includes('escalate_to_human'),
    );
    expect(overLimit.length).toBeGreaterThan(0);
    for (const r of overLimit) {
      expect(r.divergence.candidate.name).toBe('issue_refund');
      expect(r.divergence.recorded.name).toBe('escalate_to_human');
    }
  });

  it('reproduces the recorded agent exactly with the replay model', async () => {
    const { code } = await cli(dir, 'run', 'suites/refund-triage-replay.yaml', '--json', 'out/replay.json', '--db', 'db/a.db');
    expect(code).toBe(0);
    const run = readJson('out/replay.json');
    expect(run.metrics.agreement.rate).toBe(1);
    expect(run.metrics.effectsAgreement.rate).toBe(1);
    expect(run.metrics.toolCallDrift.meanSequenceSimilarity).toBe(1);
    expect(run.metrics.toolCallDrift.jsd).toBe(0);
    expect(run.results.every((r: { divergence: unknown }) => r.divergence === null)).toBe(true);
    // Cost comes from the recorded usage, priced by the bundled table.
    expect(run.metrics.cost.totalUsd).toBeGreaterThan(0);
    expect(run.metrics.cost.inputTokens).toBeGreaterThan(0);
  });

  it('pairs a recorded candidate by caseId and lists the unpaired traces apart', async () => {
    const { code } = await cli(dir, 'run', 'suites/refund-triage-shadow-log.yaml', '--json', 'out/shadow.json', '--db', 'db/a.db');
    expect(code).toBe(0);
    const run = readJson('out/shadow.json');
    const unpaired = run.results.filter((r: { status: string }) => r.status === 'unpaired');
    expect(unpaired.length).toBe(run.counts.unpaired);
    expect(unpaired.length).toBeGreaterThan(0);
    expect(run.metrics.agreement.n).toBe(run.counts.total - run.counts.unpaired);
    expect(unpaired.every((r: { agree: unknown }) => r.agree === null)).toBe(true);
  });

  it('stores every run with its git commit, suite hash and candidate hash', async () => {
    const { code, stdout } = await cli(dir, 'runs', '--db', 'db/a.db');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(4);
    const { createSqliteStore } = await import('../../src/store/sqlite.js');
    const store = createSqliteStore(join(dir, 'db/a.db'));
    const runs = store.listRuns();
    store.close();
    for (const run of runs) {
      expect(run.suiteHash).toMatch(/^[0-9a-f]{64}$/);
      expect(run.candidateHash).toMatch(/^[0-9a-f]{64}$/);
      expect(run.finishedAt).not.toBeNull();
    }
  });
});

describe('bad input', () => {
  it('exits 2 naming the file, line and key of a misspelled suite key', async () => {
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('  errorRate:', '  errorRat:');
    writeFileSync(join(dir, 'suites/typo.yaml'), suite);
    const line = suite.split('\n').findIndex((l) => l.includes('errorRat:')) + 1;
    const { code, stderr } = await cli(dir, 'run', 'suites/typo.yaml', '--db', 'db/b.db');
    rmSync(join(dir, 'suites/typo.yaml'));
    expect(code).toBe(2);
    expect(stderr).toContain(`suites/typo.yaml:${line}: gate.errorRat: unknown key`);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/); // an expected error prints no stack
  });

  it('runs the valid lines of a file with bad lines and reports each bad line; --strict exits 2', async () => {
    const file = join(dir, 'traces/refund-triage/2026-w46.jsonl');
    const before = readFileSync(file, 'utf8').trimEnd().split('\n').length;
    appendFileSync(file, '{not json\n{"schema":"shadowgate.trace/v1","id":"x1","workflow":"refund-triage","input":{},"steps":"none"}\n');
    try {
      const loose = await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/loose.json', '--db', 'db/c.db');
      // The good lines run; the two lost lines make the gate inconclusive (coverage), not a pass.
      expect(loose.code).toBe(1);
      const { coverage, results } = readJson('out/loose.json');
      expect(coverage).toEqual({ lines: results.length + 2, unreadable: 2, infrastructureMissing: 0, infrastructureFirst: [], firstLocations: [`traces/refund-triage/2026-w46.jsonl:${before + 1}`, `traces/refund-triage/2026-w46.jsonl:${before + 2}`] });
      expect(loose.stdout).toContain(`? coverage: 2 of ${results.length + 2} trace line(s) unreadable`);
      expect(loose.stdout).toContain(`traces/refund-triage/2026-w46.jsonl:${before + 1}: invalid JSON`);
      expect(loose.stdout).toContain(`traces/refund-triage/2026-w46.jsonl:${before + 2}: steps:`);
      expect(readJson('out/loose.json').issues).toHaveLength(2);

      const strict = await cli(dir, 'run', 'suites/refund-triage.yaml', '--strict', '--db', 'db/c.db');
      expect(strict.code).toBe(2);
      expect(strict.stderr).toContain(`2026-w46.jsonl:${before + 1}`);
      expect(strict.stderr).toContain(`2026-w46.jsonl:${before + 2}`);

      const validate = await cli(dir, 'validate', 'traces/refund-triage');
      expect(validate.code).toBe(2);
      expect(validate.stdout).toMatch(/2 problem\(s\)/);
    } finally {
      writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, before).join('\n') + '\n');
    }
  });

  it('exits 2 for an unknown option and for a missing suite file', async () => {
    expect((await cli(dir, 'run', 'suites/refund-triage.yaml', '--frobnicate')).code).toBe(2);
    const missing = await cli(dir, 'run', 'suites/nope.yaml', '--db', 'db/d.db');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
  });
});

describe('shadowgate validate', () => {
  it('accepts the bundled traces, suites and tool catalog (exit 0)', async () => {
    const { code, stdout } = await cli(dir, 'validate', 'suites', 'traces', 'fixtures/refund-triage/tools.yaml');
    expect(code).toBe(0);
    expect(stdout).toMatch(/0 problem\(s\)/);
    expect(stdout).toContain('ok   fixtures/refund-triage/tools.yaml (tool catalog)');
  });

  it('prints every problem of a broken catalog, not only the first', async () => {
    writeFileSync(
      join(dir, 'bad-tools.yaml'),
      'tools:\n  - name: a\n    effect: reed\n  - name: b\n    effect: read\n    paramters: {}\n',
    );
    const { code, stdout } = await cli(dir, 'validate', 'bad-tools.yaml');
    expect(code).toBe(2);
    expect(stdout).toContain('bad-tools.yaml:3: tools.0.effect:');
    expect(stdout).toContain('bad-tools.yaml:6: tools.1.paramters: unknown key');
  });

  it('rejects a catalog http.url that is not an absolute http(s) URL, in validate and in run (exit 2)', async () => {
    const catalog = readFileSync(join(dir, 'fixtures/refund-triage/tools.yaml'), 'utf8');
    const line = catalog.split('\n').findIndex((l) => l.includes('https://crm.internal/api/customers/:customer_id')) + 1;
    writeFileSync(join(dir, 'fixtures/refund-triage/relative-url.yaml'), catalog.replace('https://crm.internal/api/customers/:customer_id', '/api/customers/:customer_id'));
    writeFileSync(
      join(dir, 'suites/relative-url.yaml'),
      readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8').replace('refund-triage/tools.yaml', 'refund-triage/relative-url.yaml'),
    );
    const validate = await cli(dir, 'validate', 'fixtures/refund-triage/relative-url.yaml');
    expect(validate.code).toBe(2);
    expect(validate.stdout).toContain(`relative-url.yaml:${line}: tools.0.http.url: must be an absolute http(s) URL`);
    const run = await cli(dir, 'run', 'suites/relative-url.yaml', '--db', 'db/relative-url.db');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`relative-url.yaml:${line}: tools.0.http.url: must be an absolute http(s) URL`);
    expect(run.stderr).not.toContain('bug');
  });
});

describe('read-only commands without a store', () => {
  it('say that nothing is stored, and create neither the store nor its folder', async () => {
    const db = ['--db', 'fresh/none.db'];
    const run = async (...argv: string[]) => {
      const out = await cli(dir, ...argv, ...db);
      expect(existsSync(join(dir, 'fresh')), argv.join(' ')).toBe(false);
      return out;
    };
    expect(await run('drift')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: no finished run in fresh/none.db\nhint: run a suite first (`shadowgate run`), or pass trace files to drift over\n',
    });
    expect(await run('show', 'run-x')).toEqual({ code: 2, stdout: '', stderr: 'error: no run run-x in fresh/none.db\nhint: list runs with `shadowgate runs`\n' });
    expect(await run('runs')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await run('review', 'export', '--out', 'out/none.jsonl')).toEqual({ code: 0, stdout: '0 item(s) written to out/none.jsonl\n', stderr: '' });
    expect((await run('phase', 'suites/refund-triage.yaml')).code).toBe(0);
  });
});

describe('help', () => {
  it('lists every command with a one-line description', async () => {
    const { code, stdout } = await cli(dir, '--help');
    expect(code).toBe(0);
    for (const command of ['run', 'validate', 'runs']) expect(stdout).toMatch(new RegExp(`\\n  ${command} .*\\S`));
  });
});

describe('drift statistics and trials', () => {
  it('shows the regression escalating less and refunding more: ratios, chi-square, argument drift', async () => {
    await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/drift.json', '--db', 'db/e.db');
    const { toolCallDrift: d } = readJson('out/drift.json').metrics;
    expect(d.perTool.escalate_to_human.ratio).toBeLessThan(0.5);
    expect(d.perTool.issue_refund.ratio).toBeGreaterThan(1);
    expect(d.chi2P).toBeLessThan(0.01);
    expect(d.psiBand).toBe('stable'); // a small shift in the whole mix, yet a significant one
    expect(d.newTools).toEqual([]);
    expect(d.argumentDrift.map((a: { tool: string; arg: string }) => `${a.tool}.${a.arg}`)).toContain('send_customer_email.template');
    expect(d.sequenceSimilarityHistogram.reduce((a: number, b: number) => a + b, 0)).toBe(480);
    expect(d.meanSequenceSimilarityCi95[0]).toBeLessThan(d.meanSequenceSimilarity);
    expect(d.meanSequenceSimilarityCi95[1]).toBeGreaterThan(d.meanSequenceSimilarity);
  });

  it('runs each trace k times with --trials and reports pass^k and each trace\'s consistency', async () => {
    const { code } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--trials', '3', '--json', 'out/trials.json', '--db', 'db/e.db');
    expect(code).toBe(0);
    const run = readJson('out/trials.json');
    expect(run.counts.total).toBe(1440);
    // The policy module is deterministic: every trial of a trace agrees with the others.
    expect(run.metrics.passK).toEqual({ k: 3, value: run.metrics.agreement.rate, traces: 480, over: 'agreement' });
    expect(run.metrics.consistency.mean).toBe(1);
    expect(Object.keys(run.metrics.consistency.perTrace)).toHaveLength(480);
    // The interval is that of 480 traces, not of 1,440 runs.
    const single = readJson('out/policy.json').metrics.agreement.ci95;
    expect(run.metrics.agreement.ci95[0]).toBeCloseTo(single[0], 10);
  });
});
