import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

// Made-up candidate for this test: policy-v1, except that on two tickets of three it first
// looks up an order the recording never fetched, which no mock can answer: it leaves the
// recorded path (diverged) there, and decides as policy-v1 does everywhere else.
const OFF_PATH_AGENT = `import { run as v1 } from './policy-v1.mjs';
export async function run(input, ctx) {
  const n = [...String(input.ticket_id)].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  if (n % 3 !== 0) await ctx.tools.get_order({ order_id: 'ORD-NEVER-RECORDED' });
  return v1(input, ctx);
}
`;

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  writeFileSync(join(dir, 'fixtures', 'refund-triage', 'agents', 'off-path.mjs'), OFF_PATH_AGENT);
  // The gate: agreement and regressions only (no errorRate check to catch it otherwise).
  const suite = readFileSync(join(dir, 'suites', 'refund-triage.yaml'), 'utf8').replace(/^gate:[\s\S]*$/m, 'gate:\n  agreement: { min: 0.85, bound: lower }\n');
  writeFileSync(join(dir, 'suites', 'base.yaml'), suite);
  writeFileSync(join(dir, 'suites', 'off-path.yaml'), `${suite.replace('agents/policy-v1.mjs', 'agents/off-path.mjs')}  regressions: { max: 0 }\n`);
});
afterAll(() => cleanup?.());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('a candidate that reaches no outcome on most traces', () => {
  it('fails: the traces it left the recorded path on count as not agreeing, and as regressions against the baseline', async () => {
    expect((await cli(dir, 'run', 'suites/base.yaml', '--json', 'out/base.json', '--db', 'db/n.db')).code).toBe(0);
    const run = await cli(dir, 'run', 'suites/off-path.yaml', '--baseline', 'out/base.json', '--json', 'out/off.json', '--report', 'out/report', '--db', 'db/n.db');
    const doc = readJson('out/off.json');
    const base = readJson('out/base.json');
    const results = doc.results as { traceId: string; status: string; agree: boolean | null; cause?: string }[];
    const diverged = results.filter((r) => r.status === 'diverged');
    // the case of the issue: most traces off the path
    expect(diverged.length).toBeGreaterThan(results.length / 2);
    expect(diverged.every((r) => r.agree === false && r.cause === 'candidate')).toBe(true);
    expect(doc.counts.noOutcome.candidate).toMatchObject({ traces: diverged.length, diverged: diverged.length });
    expect(doc.counts.noOutcome.infrastructure.traces).toBe(0);

    // Over completed traces only the figure is as high as before (it would have passed); the gated one counts every trace.
    const completed = results.filter((r) => r.status === 'completed' || r.status === 'escalated');
    const agreeing = completed.filter((r) => r.agree === true).length;
    expect(doc.metrics.agreementCompleted).toMatchObject({ n: completed.length, successes: agreeing });
    expect(doc.metrics.agreementCompleted.ci95[0]).toBeGreaterThan(0.85);
    expect(doc.metrics.agreement).toMatchObject({ n: results.length, successes: agreeing });
    expect(doc.metrics.agreement.ci95[0]).toBeLessThan(0.85);

    // Against the baseline, a trace that agreed before and has no outcome now is a regression.
    const agreedBefore = new Set((base.results as { traceId: string; agree: boolean }[]).filter((r) => r.agree).map((r) => r.traceId));
    const lostNow = diverged.filter((r) => agreedBefore.has(r.traceId)).map((r) => r.traceId);
    expect(doc.metrics.paired.regressions).toEqual(expect.arrayContaining(lostNow));
    expect(doc.metrics.paired.lost).toEqual([]);
    expect(doc.metrics.paired.mcnemarMidP).toBeLessThan(0.0001);

    expect(doc.gate.verdict).toBe('fail');
    expect(doc.gate.checks.map((c: { name: string; status: string }) => [c.name, c.status])).toEqual([['agreement', 'fail'], ['regressions', 'fail'], ['coverage', 'pass']]);
    expect(run.code).toBe(1);
    // The reports show both figures and why traces had no outcome.
    expect(run.stdout).toMatch(new RegExp(`no outcome +${diverged.length} by the candidate, counted as not agreeing \\(${diverged.length} diverged\\)`));
    expect(run.stdout).toMatch(/agreement +[\d.]+%.*· completed only [\d.]+%/);
    const md = readFileSync(join(dir, 'out/report/report.md'), 'utf8');
    expect(md).toContain(`No outcome: ${diverged.length} by the candidate, counted as not agreeing (${diverged.length} diverged).`);
    expect(md).toMatch(/\| agreement \(completed only\) \|/);
    const html = readFileSync(join(dir, 'out/report/report.html'), 'utf8');
    expect(html).toContain(`${diverged.length} by the candidate, counted as not agreeing`);
    expect(html).toContain('completed only');
  }, 120_000);
});

// Made-up candidates for the tests below: policy-v1, except that on two tickets of three it
// throws an error dressed as a provider's (a 503 with a status, as an SDK's error has one).
const SPOOF_AGENT = `import { run as v1 } from './policy-v1.mjs';
export async function run(input, ctx) {
  const n = [...String(input.ticket_id)].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  if (n % 3 !== 0) throw Object.assign(new Error('my own bug'), { status: 503 });
  return v1(input, ctx);
}
`;

describe('whose doing a missing outcome is', () => {
  it("is the candidate's when its code throws an error that claims a provider status: the harness saw no provider fail", async () => {
    writeFileSync(join(dir, 'fixtures', 'refund-triage', 'agents', 'spoof.mjs'), SPOOF_AGENT);
    const suite = readFileSync(join(dir, 'suites', 'base.yaml'), 'utf8').replace('agents/policy-v1.mjs', 'agents/spoof.mjs');
    writeFileSync(join(dir, 'suites', 'spoof.yaml'), `${suite}  coverage: { min: 0.3 }\n`);
    const run = await cli(dir, 'run', 'suites/spoof.yaml', '--json', 'out/spoof.json', '--db', 'db/n.db');
    const doc = readJson('out/spoof.json');
    const threw = (doc.results as { status: string; cause?: string; agree: boolean | null; error: { code: string; claimedCode?: string } | null }[]).filter((r) => r.status === 'error');
    expect(threw.length).toBeGreaterThan(doc.results.length / 2);
    expect(threw.every((r) => r.cause === 'candidate' && r.agree === false && r.error?.code === 'CANDIDATE_THREW' && r.error.claimedCode === 'PROVIDER_HTTP_503')).toBe(true);
    expect(doc.counts.noOutcome.infrastructure.traces).toBe(0);
    expect(doc.gate.verdict).toBe('fail');
    expect(run.code).toBe(1);
  });

  it('fails a gate whose checks do not read outcomes (policy only) when the candidate left traces without one', async () => {
    const suite = readFileSync(join(dir, 'suites', 'spoof.yaml'), 'utf8').replace(/^gate:[\s\S]*$/m, 'gate:\n  policyViolations: { max: 0 }\n');
    writeFileSync(join(dir, 'suites', 'policy-only.yaml'), suite);
    const run = await cli(dir, 'run', 'suites/policy-only.yaml', '--json', 'out/policy-only.json', '--db', 'db/n.db');
    const doc = readJson('out/policy-only.json');
    const outcomes = doc.gate.checks.find((c: { name: string }) => c.name === 'outcomes');
    expect(outcomes).toMatchObject({ status: 'fail', value: doc.counts.noOutcome.candidate.traces });
    expect(outcomes.reason).toContain(`${doc.counts.noOutcome.candidate.traces} trace(s) ended without an outcome by the candidate's doing (${doc.counts.noOutcome.candidate.first.join(', ')}, …)`);
    expect(run.code).toBe(1);
  });
});
