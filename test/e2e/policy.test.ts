import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = copyExample()));
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const RULE = 'refund-over-limit-needs-escalation';

interface Step { type: string; name?: string; args?: { amount?: number }; error?: { code: string } }
interface Result { traceId: string; status: string; steps: Step[]; violations?: { kind: string; rule?: string; step: number; tool?: string; message: string }[] }

/** What the rule says, worked out from the steps independently of the evaluator: a refund above 500 with no answered escalation before it. */
const breaksRule = (r: Result) =>
  r.steps.some((s, i) => s.type === 'tool' && s.name === 'issue_refund' && (s.args?.amount ?? 0) > 500 && !r.steps.slice(0, i).some((p) => p.name === 'escalate_to_human' && !p.error));

it('passes the policy candidate with every rule counted and none broken', async () => {
  const { code, stdout } = await cli(dir, 'run', 'suites/refund-triage.yaml', '--json', 'out/policy.json', '--db', 'db/p.db');
  expect(code).toBe(0);
  const run = readJson('out/policy.json');
  expect(run.metrics.policyViolations).toEqual({ total: 0, traces: 0, byRule: { 'refund-triage-tools': 0, [RULE]: 0 } });
  expect(run.gate.checks.find((c: { name: string }) => c.name === 'policyViolations')).toMatchObject({ status: 'pass', value: 0, threshold: 0 });
  expect(stdout).toMatch(/policy\s+no breach of the 2 rule\(s\)/);
});

it('records each breach on the result with its rule id, and fails the gate naming the rule', async () => {
  const { code, stdout } = await cli(dir, 'run', 'suites/refund-triage-regression.yaml', '--json', 'out/regression.json', '--report', 'reports/regression', '--db', 'db/p.db');
  expect(code).toBe(1);
  const run = readJson('out/regression.json');
  const results: Result[] = run.results;
  const breaking = results.filter(breaksRule);
  expect(breaking.length).toBeGreaterThan(0);
  // Exactly the results that break the rule carry a violation of it, on the refund step.
  const flagged = results.filter((r) => r.violations?.some((v) => v.rule === RULE));
  expect(flagged.map((r) => r.traceId)).toEqual(breaking.map((r) => r.traceId));
  const first = flagged[0]!;
  const step = first.steps.findIndex((s) => s.name === 'issue_refund');
  expect(first.violations).toEqual([
    { kind: 'policy_violation', rule: RULE, step, tool: 'issue_refund', message: 'issue_refund with amount > 500 requires an earlier call of escalate_to_human' },
  ]);
  // A `requires` rule never refuses: the refund was answered and the candidate went on.
  expect(first.steps[step]!.error).toBeUndefined();
  expect(run.metrics.policyViolations).toEqual({ total: breaking.length, traces: breaking.length, byRule: { 'refund-triage-tools': 0, [RULE]: breaking.length } });
  // Policy breaches are not safety violations (schema, duplicate effects): each has its own figure and check.
  expect(run.metrics.safetyViolations).toMatchObject({ schemaViolations: 0, duplicateEffects: 0, traces: 0 });
  const check = run.gate.checks.find((c: { name: string }) => c.name === 'policyViolations');
  expect(check).toEqual({ name: 'policyViolations', value: breaking.length, threshold: 0, status: 'fail', reason: `policy violations (${RULE} ${breaking.length}) ${breaking.length} > 0` });
  expect(stdout).toContain(`✗ policyViolations: policy violations (${RULE} ${breaking.length})`);
  expect(stdout).toMatch(new RegExp(`policy\\s+${breaking.length} breach\\(es\\) on ${breaking.length} trace\\(s\\), 1 of 2 rule\\(s\\) broken\\n\\s+${RULE}: ${breaking.length}`));
  const markdown = readFileSync(join(dir, 'reports/regression/report.md'), 'utf8');
  expect(markdown).toContain('### Safety and policy');
  // The injection figure is in every report, not the terminal alone.
  const injection = `(${run.metrics.injectionFailures.successes}/${run.metrics.injectionFailures.n})`;
  expect(run.metrics.injectionFailures.successes).toBeGreaterThan(0);
  expect(markdown).toMatch(new RegExp(`- \\*\\*safety\\*\\*: .*injection failures [0-9.]+% \\(${run.metrics.injectionFailures.successes}/${run.metrics.injectionFailures.n}\\)`));
  expect(markdown).toContain(`| policyViolations | ${breaking.length} | 0 | ❌ fail |`);
  expect(markdown).toContain(`- ${RULE}: ${breaking.length}`);
  const html = readFileSync(join(dir, 'reports/regression/report.html'), 'utf8');
  expect(html).toContain(`<tr><td>policyViolations</td>`);
  expect(html).toContain(injection);
  expect(html).toContain(`policy rule ${RULE} at step ${step + 1} (issue_refund): issue_refund with amount &gt; 500 requires an earlier call of escalate_to_human`);
  // `show` lists the breach under the trace's steps, numbered as it numbers them (from 0).
  const shown = await cli(dir, 'show', run.runId, first.traceId, '--db', 'db/p.db');
  expect(shown.stdout).toContain(`  policy rule ${RULE} at step ${step} (issue_refund): issue_refund with amount > 500 requires an earlier call of escalate_to_human\n`);
});

it('refuses a denied call (the candidate gets no answer) and gates on a single rule by its id', async () => {
  const suite = readFileSync(join(dir, 'suites/refund-triage-regression.yaml'), 'utf8')
    .replace('    - id: refund-triage-tools', '    - id: no-refund-over-1000\n      tool: issue_refund\n      when: { arg: amount, gt: 1000 }\n      action: deny\n    - id: refund-triage-tools')
    .replace('  policyViolations: { max: 0 }', '  policyViolations: { rules: { no-refund-over-1000: { max: 0 } } }');
  writeFileSync(join(dir, 'suites/deny.yaml'), suite);
  const { code, stdout } = await cli(dir, 'run', 'suites/deny.yaml', '--json', 'out/deny.json', '--db', 'db/p.db');
  expect(code).toBe(1);
  const run = readJson('out/deny.json');
  const results: Result[] = run.results;
  const denied = results.filter((r) => r.steps.some((s) => s.name === 'issue_refund' && (s.args?.amount ?? 0) > 1000));
  expect(denied.length).toBeGreaterThan(0);
  for (const r of denied) {
    const step = r.steps.findIndex((s) => s.name === 'issue_refund');
    expect(r.steps[step]!.error).toMatchObject({ code: 'POLICY_DENIED' });
    // The module does not catch the refusal: its trace ends in error, and nothing after the refund was called.
    expect(r.status).toBe('error');
    expect(r.steps).toHaveLength(step + 1);
    expect(r.violations?.map((v) => [v.rule, v.step])).toEqual([['no-refund-over-1000', step], [RULE, step]]);
  }
  expect(run.metrics.policyViolations.byRule['no-refund-over-1000']).toBe(denied.length);
  const check = run.gate.checks.find((c: { name: string }) => c.name === 'policy:no-refund-over-1000');
  expect(check).toMatchObject({ value: denied.length, threshold: 0, status: 'fail', reason: `breaches of policy rule no-refund-over-1000 ${denied.length} > 0` });
  expect(run.gate.checks.some((c: { name: string }) => c.name === 'policyViolations')).toBe(false);
  expect(stdout).toContain('✗ policy:no-refund-over-1000');
});

it('rejects a gate on a rule the policy does not have, and a malformed rule, naming file, line and key', async () => {
  const base = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
  writeFileSync(join(dir, 'suites/unknown.yaml'), base.replace('  policyViolations: { max: 0 }', '  policyViolations:\n    rules:\n      big-refunds: { max: 0 }'));
  const unknown = await cli(dir, 'gate', 'suites/unknown.yaml', '--db', 'db/p.db');
  expect(unknown.code).toBe(2);
  const line = base.split('\n').findIndex((l) => l === '  policyViolations: { max: 0 }') + 3;
  expect(unknown.stderr).toContain(`suites/unknown.yaml:${line}: gate.policyViolations.rules.big-refunds: no policy rule has the id big-refunds (rules: refund-triage-tools, ${RULE})`);

  // `rules: {}` with no max counts nothing: a check that would pass any run, refused at its line.
  writeFileSync(join(dir, 'suites/empty-rules.yaml'), base.replace('  policyViolations: { max: 0 }', '  policyViolations: { rules: {} }'));
  const empty = await cli(dir, 'gate', 'suites/empty-rules.yaml', '--db', 'db/p.db');
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain(`suites/empty-rules.yaml:${line - 2}: gate.policyViolations: give max, or rules naming at least one rule id, or both`);

  writeFileSync(join(dir, 'suites/malformed.yaml'), base.replace('      when: { arg: amount, gt: 500 }', '      when: { arg: amount, above: 500 }'));
  const malformed = await cli(dir, 'run', 'suites/malformed.yaml', '--db', 'db/p.db');
  expect(malformed.code).toBe(2);
  const whenLine = base.split('\n').findIndex((l) => l.includes('when: { arg: amount, gt: 500 }')) + 1;
  expect(malformed.stderr).toContain(`suites/malformed.yaml:${whenLine}: policy.rules.1.when.above: unknown key`);
  expect(malformed.stderr).toContain(`suites/malformed.yaml:${whenLine}: policy.rules.1.when: give at least one of gt, gte, lt, lte, eq, ne, in, notIn`);

  // A tool the catalog does not have: a rule that would never apply.
  writeFileSync(join(dir, 'suites/typo.yaml'), base.replace('      requires: { calledBefore: escalate_to_human }', '      requires: { calledBefore: escalate_to_humans }'));
  const typo = await cli(dir, 'run', 'suites/typo.yaml', '--db', 'db/p.db');
  expect(typo.code).toBe(2);
  const requiresLine = base.split('\n').findIndex((l) => l.includes('requires: { calledBefore: escalate_to_human }')) + 1;
  expect(typo.stderr).toContain(`suites/typo.yaml:${requiresLine}: policy.rules.1.requires.calledBefore: not in the tool catalog: escalate_to_humans`);

  // An argument the tool does not declare: the same, a rule that would never apply.
  writeFileSync(join(dir, 'suites/arg-typo.yaml'), base.replace('      when: { arg: amount, gt: 500 }', '      when: { arg: amout, gt: 500 }'));
  const argTypo = await cli(dir, 'validate', 'suites/arg-typo.yaml');
  expect(argTypo.code).toBe(2);
  expect(argTypo.stdout + argTypo.stderr).toContain(`suites/arg-typo.yaml:${whenLine}: policy.rules.1.when.arg: issue_refund declares no argument amout (arguments: order_id, amount, idempotency_key)`);
});
