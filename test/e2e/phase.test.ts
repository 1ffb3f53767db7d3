import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { launchChromium, openFile } from './chromium.js';
import { cli, copyExample } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // The same suite and candidate in the suggest phase: its runs are the next rung's evidence.
  const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
  writeFileSync(join(dir, 'suites/suggest.yaml'), suite.replace('phase: shadow', 'phase: suggest'));
});
afterAll(() => cleanup());

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const catalog = () => parse(readFileSync(join(dir, 'fixtures/refund-triage/tools.yaml'), 'utf8')).tools as { name: string; effect: string }[];
const CAP: Record<string, string> = { read: 'auto', 'write-reversible': 'auto', 'write-external': 'auto-with-review', 'write-irreversible': 'suggest' };
const PHASES = ['shadow', 'suggest', 'auto-with-review', 'auto'];

describe('shadowgate phase', () => {
  it('before any run: the catalog sets the cap and the evidence is null, not zero', async () => {
    const { code, stdout } = await cli(dir, 'phase', 'suites/refund-triage.yaml', '--db', 'db/p.db', '--json', 'out/phase-0.json');
    expect(code).toBe(0);
    const [s] = readJson('out/phase-0.json').suites;
    expect(s.matrix.basis).toBe('catalog');
    expect(s.matrix.tools.map((t: { name: string; effect: string; cap: string }) => [t.name, t.effect, t.cap])).toEqual(catalog().map((t) => [t.name, t.effect, CAP[t.effect]]));
    expect(s.steps.map((x: { evidence: unknown; status: string }) => [x.evidence, x.status])).toEqual([
      [null, 'no-evidence'],
      [null, 'no-evidence'],
      [null, 'no-evidence'],
    ]);
    expect(s).toMatchObject({ runs: 0, evidencePhase: 'shadow', allowed: 'shadow', usageRunId: null });
    expect(stdout).toContain('– shadow → suggest: no shadow run yet');
    expect(stdout).toContain('highest phase allowed: shadow');
  });

  it('after a run: issue_refund sets the cap, and the run is the shadow evidence', async () => {
    const run = await cli(dir, 'run', 'suites/refund-triage.yaml', '--db', 'db/p.db', '--json', 'out/run.json', '--report', 'reports/run');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/reversibility: workflow cap suggest, set by issue_refund \(write-irreversible\)[^\n]*\n\s+tool\s+effect class\s+cap/);
    const results = readJson('out/run.json');
    const refund = catalog().find((t) => t.name === 'issue_refund')!;

    const { code, stdout } = await cli(dir, 'phase', 'suites/refund-triage.yaml', '--db', 'db/p.db', '--json', 'out/phase-1.json');
    expect(code).toBe(0);
    const [s] = readJson('out/phase-1.json').suites;
    expect(s.matrix.tools.find((t: { name: string }) => t.name === 'issue_refund')).toMatchObject({ effect: refund.effect, cap: CAP[refund.effect], counted: true });
    expect(s.matrix).toMatchObject({ basis: 'used', cap: CAP[refund.effect], riskiest: refund.effect });
    expect(s.matrix.imposedBy).toContain('issue_refund');
    expect(s.usageRunId).toBe(results.runId);
    // The figures of the run, held to the suite's own gate threshold.
    const agreement = results.metrics.agreement;
    const met = agreement.n >= 100 && agreement.ci95[0] >= results.settings.gate.agreement.min;
    expect(s.steps[0]).toMatchObject({
      threshold: results.settings.gate.agreement.min,
      evidence: { runId: results.runId, n: agreement.n, rate: agreement.rate, ci95: agreement.ci95 },
      status: met ? 'met' : 'not-met',
    });
    expect(s.steps[1].evidence).toBeNull();
    const evidencePhase = met ? 'suggest' : 'shadow';
    expect(s.evidencePhase).toBe(evidencePhase);
    expect(s.allowed).toBe(PHASES[Math.min(PHASES.indexOf(evidencePhase), PHASES.indexOf(s.cap))]);
    expect(stdout).toMatch(/reversibility: workflow cap suggest, set by issue_refund \(write-irreversible\)/);
    expect(stdout).toMatch(/issue_refund\s+write-irreversible\s+suggest\s+\d+/);
    expect(stdout).toContain(`highest phase allowed: ${s.allowed}`);
  });

  it('a suggest run of the same candidate is the next rung, still held under the cap', async () => {
    await cli(dir, 'run', 'suites/suggest.yaml', '--db', 'db/p.db', '--json', 'out/suggest.json');
    const override = readJson('out/suggest.json').metrics.phase.suggest.overrideRate;
    const { code } = await cli(dir, 'phase', 'suites/refund-triage.yaml', '--db', 'db/p.db', '--json', 'out/phase-2.json');
    expect(code).toBe(0);
    const [s] = readJson('out/phase-2.json').suites;
    expect(s.runs).toBe(2);
    expect(s.steps[1]).toMatchObject({ from: 'suggest', evidence: { n: override.n, rate: override.rate, ci95: override.ci95 } });
    expect(s.steps[1].status).toBe(override.n >= 100 && override.ci95[1] <= 0.1 ? 'met' : 'not-met');
    expect(PHASES.indexOf(s.allowed)).toBeLessThanOrEqual(PHASES.indexOf('suggest'));
  });

  it('without a suite: every suites/*.yaml, each its own', async () => {
    const { code } = await cli(dir, 'phase', '--db', 'db/p.db', '--json', 'out/all.json');
    expect(code).toBe(0);
    const files = readdirSync(join(dir, 'suites')).filter((f) => f.endsWith('.yaml')).sort();
    expect(readJson('out/all.json').suites.map((s: { file: string }) => s.file)).toEqual(files.map((f) => join('suites', f)));
  });

  it('a suite that cannot be read, or a misspelt promotion key, is a usage error (exit 2)', async () => {
    const missing = await cli(dir, 'phase', 'suites/nope.yaml', '--db', 'db/p.db');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml');
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
    writeFileSync(join(dir, 'suites/typo.yaml'), `${suite}promotion: { minTrace: 50 }\n`);
    const typo = await cli(dir, 'phase', 'suites/typo.yaml', '--db', 'db/p.db');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/typo\.yaml:\d+.*promotion/);
  });

  it('promotion: sets the traces needed', async () => {
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8');
    writeFileSync(join(dir, 'suites/strict.yaml'), `${suite}promotion: { minTraces: 100000 }\n`);
    const { code } = await cli(dir, 'phase', 'suites/strict.yaml', '--db', 'db/p.db', '--json', 'out/strict.json');
    expect(code).toBe(0);
    const [s] = readJson('out/strict.json').suites;
    expect(s.steps[0]).toMatchObject({ status: 'not-met', minTraces: 100000 });
    expect(s.steps[0].reason).toMatch(/100000 needed$/);
    expect(s.allowed).toBe('shadow');
  });
});

describe('the run reports show the reversibility matrix', () => {
  it('in the results JSON and the Markdown report', () => {
    const results = readJson('out/run.json');
    expect(results.reversibility.tools.map((t: { name: string; effect: string; cap: string }) => [t.name, t.effect, t.cap])).toEqual(catalog().map((t) => [t.name, t.effect, CAP[t.effect]]));
    const md = readFileSync(join(dir, 'reports/run/report.md'), 'utf8');
    expect(md).toContain('### Reversibility');
    expect(md).toMatch(/Workflow cap: \*\*suggest, set by issue_refund \(write-irreversible\)/);
    for (const t of catalog()) expect(md).toMatch(new RegExp(`\\| \`${t.name}\` \\| ${t.effect} \\| ${CAP[t.effect]}( after a shadow period)? \\| \\d+`));
  });

  describe('in the HTML report, in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('as a table of tool, effect class, cap and calls', async () => {
      const { page, log } = await openFile(browser, join(dir, 'reports/run/report.html'));
      expect(log.pageErrors).toEqual([]);
      const section = page.locator('h2:text("Reversibility") + p + table');
      const rows = await section.locator('tbody tr').allInnerTexts();
      expect(rows.map((r) => r.split('\t').slice(0, 3))).toEqual(
        catalog().map((t) => [t.name, t.effect, t.effect === 'write-reversible' ? 'auto after a shadow period' : CAP[t.effect]]),
      );
      expect(await page.locator('h2:text("Reversibility") + p').innerText()).toMatch(/^Workflow cap: suggest, set by issue_refund/);
      await page.close();
    });
  });
});
