import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { launchChromium, openFile } from './chromium.js';
import { wilsonInterval } from '../../src/metrics/stats.js';
import { cli, copyExample, overrideCounts, type SuggestResultJson } from './helpers.js';

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

describe('phase counts the verdicts given in the review queue after a suggest run', () => {
  const db = 'db/queue.db';
  /** The bundled suite over one week of its traces, in `phase`, with the catalog of queue/tools.yaml and these gate lines. */
  const weekSuite = (phase: string, gate: { agreementMin?: number; overrideMax?: number } = {}) => {
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8')
      .replace('phase: shadow', `phase: ${phase}`)
      .replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../traces/refund-triage/2026-w44.jsonl"]')
      .replace('tools: ../fixtures/refund-triage/tools.yaml', 'tools: ../queue/tools.yaml');
    return suite
      .replace('  agreement: { min: 0.85, bound: lower }', gate.agreementMin === undefined ? '  agreement: { min: 0.85, bound: lower }' : `  agreement: { min: ${gate.agreementMin}, bound: lower }`)
      .replace('  errorRate: { max: 0.02 }', gate.overrideMax === undefined ? '  errorRate: { max: 0.02 }' : `  errorRate: { max: 0.02 }\n  overrideRate: { max: ${gate.overrideMax} }`);
  };
  type Item = { id: number; traceId: string; trial: number };
  type Verdict = { itemId: number; verdict: 'accepted' | 'edited' | 'rejected'; reviewer: string; at: string; final?: unknown; reason?: string };

  it('rejections in the queue move the override rate by what they imply, and take away the promotion the run\'s own figures allowed', async () => {
    mkdirSync(join(dir, 'queue'));
    const catalog = readFileSync(join(dir, 'fixtures/refund-triage/tools.yaml'), 'utf8');
    expect(catalog.match(/effect: write-irreversible/g)).toHaveLength(1);
    // issue_refund, the one write-irreversible tool, made write-external: the cap is then auto-with-review, and the override rate decides whether the workflow may leave suggest.
    writeFileSync(join(dir, 'queue/tools.yaml'), `# Made up for this test: the bundled catalog with issue_refund write-external.\n${catalog.replace('effect: write-irreversible', 'effect: write-external')}`);
    for (const phase of ['shadow', 'suggest']) {
      writeFileSync(join(dir, `queue/${phase}.yaml`), weekSuite(phase));
      expect((await cli(dir, 'run', `queue/${phase}.yaml`, '--db', db, '--json', `out/queue-${phase}.json`)).stderr).not.toMatch(/error|warning/);
    }
    const shadow = readJson('out/queue-shadow.json');
    const suggest = readJson('out/queue-suggest.json');
    const results = suggest.results as SuggestResultJson[];
    const comparator = parse(weekSuite('suggest')).compare.decision;
    const stored = suggest.metrics.phase.suggest.overrideRate;
    // Worked out here from the results file, the counts are the run's own.
    expect(overrideCounts(results, comparator)).toEqual({ n: stored.n, successes: stored.successes, fromQueue: 0 });

    // Two suggestions the run counted accepted are overridden in the queue (a rejection, an edit); one it counted
    // overridden is rejected, then accepted on a second look (the latest verdict counts).
    expect((await cli(dir, 'review', 'export', '--out', 'out/queue-items.jsonl', '--db', db)).code).toBe(0);
    const items = readFileSync(join(dir, 'out/queue-items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Item);
    const itemOf = (r: SuggestResultJson) => items.find((i) => i.traceId === r.traceId && i.trial === r.trial)!.id;
    const own = (overridden: number) => results.filter((r) => overrideCounts([r], comparator).n === 1 && overrideCounts([r], comparator).successes === overridden);
    const [a1, a2] = own(0);
    const [o1] = own(1);
    const verdicts: Verdict[] = [
      { itemId: itemOf(a1!), verdict: 'rejected', reason: 'wrong amount', reviewer: 'ana', at: '2026-11-23T09:00:00.000Z' },
      { itemId: itemOf(a2!), verdict: 'edited', final: { action: 'escalate', amount: 0 }, reviewer: 'ana', at: '2026-11-23T09:01:00.000Z' },
      { itemId: itemOf(o1!), verdict: 'rejected', reviewer: 'ben', at: '2026-11-23T09:02:00.000Z' },
      { itemId: itemOf(o1!), verdict: 'accepted', reason: 'second look', reviewer: 'cy', at: '2026-11-23T09:03:00.000Z' },
    ];
    // Each item's latest verdict, by its trace.
    const latest = new Map(verdicts.map((v) => [items.find((i) => i.id === v.itemId)!.traceId, v.verdict]));
    const expected = overrideCounts(results, comparator, latest);
    expect(expected).toMatchObject({ n: stored.n, fromQueue: new Set(verdicts.map((v) => v.itemId)).size });
    const ci95 = wilsonInterval(expected.successes, expected.n)!;
    expect(ci95[1]).toBeGreaterThan(stored.ci95[1]);

    // Thresholds the run's own figures meet and the queue's do not: the shadow run's agreement bound, and halfway between the two upper bounds of the override rate.
    writeFileSync(join(dir, 'queue/gate.yaml'), weekSuite('suggest', { agreementMin: shadow.metrics.agreement.ci95[0], overrideMax: (stored.ci95[1] + ci95[1]) / 2 }));
    const phase = async (name: string) => {
      const { code, stdout } = await cli(dir, 'phase', 'queue/gate.yaml', '--db', db, '--json', `out/queue-phase-${name}.json`);
      expect(code).toBe(0);
      return { stdout, s: readJson(`out/queue-phase-${name}.json`).suites[0] };
    };
    const before = await phase('before');
    // No verdict in the queue yet: the run's own figures, exactly as stored.
    expect(before.s.steps[1]).toMatchObject({ status: 'met', evidence: { runId: suggest.runId, n: stored.n, rate: stored.rate, ci95: stored.ci95, fromQueue: 0 } });
    expect(before.s).toMatchObject({ cap: 'auto-with-review', evidencePhase: 'auto-with-review', allowed: 'auto-with-review' });
    expect(before.stdout).toContain(`over ${stored.n} traces, 0 from the review queue (run ${suggest.runId})`);

    writeFileSync(join(dir, 'out/queue-verdicts.jsonl'), `${verdicts.map((v) => JSON.stringify(v)).join('\n')}\n`);
    expect((await cli(dir, 'review', 'import', 'out/queue-verdicts.jsonl', '--db', db)).stdout).toContain(`${verdicts.length} verdict(s) imported`);

    const after = await phase('after');
    expect(after.s.steps[1]).toMatchObject({
      status: 'not-met',
      evidence: { runId: suggest.runId, n: expected.n, rate: expected.successes / expected.n, ci95, fromQueue: expected.fromQueue },
    });
    expect(after.s).toMatchObject({ evidencePhase: 'suggest', allowed: 'suggest' });
    expect(after.s.steps[0]).toEqual(before.s.steps[0]);
    expect(after.stdout).toContain(`over ${expected.n} traces, ${expected.fromQueue} from the review queue (run ${suggest.runId})`);
    expect(after.stdout).toContain('highest phase allowed: suggest');
  });

  it('drift over the stored suggest run counts each result\'s verdict as phase does: the queue\'s where it has one, else the run\'s own', async () => {
    const db = 'db/drift-phase.db';
    mkdirSync(join(dir, 'drift-phase'));
    const suite = readFileSync(join(dir, 'suites/refund-triage.yaml'), 'utf8')
      .replace('phase: shadow', 'phase: suggest')
      .replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../traces/refund-triage/2026-w44.jsonl"]');
    writeFileSync(join(dir, 'drift-phase/suggest.yaml'), suite);
    expect((await cli(dir, 'run', 'drift-phase/suggest.yaml', '--db', db, '--json', 'out/drift-phase-run.json')).stderr).not.toMatch(/error|warning/);
    const run = readJson('out/drift-phase-run.json');
    const results = run.results as SuggestResultJson[];
    const comparator = parse(suite).compare.decision;

    // Three verdicts in the queue: one of each kind, on the first three items.
    expect((await cli(dir, 'review', 'export', '--out', 'out/drift-phase-items.jsonl', '--db', db)).code).toBe(0);
    const items = readFileSync(join(dir, 'out/drift-phase-items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Item);
    const verdicts: Verdict[] = (['rejected', 'accepted', 'edited'] as const).map((verdict, i) => ({ itemId: items[i]!.id, verdict, reviewer: 'ana', at: '2026-11-23T09:00:00.000Z', ...(verdict === 'edited' ? { final: { action: 'escalate', amount: 0 } } : {}) }));
    writeFileSync(join(dir, 'out/drift-phase-verdicts.jsonl'), `${verdicts.map((v) => JSON.stringify(v)).join('\n')}\n`);
    expect((await cli(dir, 'review', 'import', 'out/drift-phase-verdicts.jsonl', '--db', db)).stdout).toContain('3 verdict(s) imported');
    const expected = overrideCounts(results, comparator, new Map(verdicts.map((v) => [items.find((i) => i.id === v.itemId)!.traceId, v.verdict])));
    // The run's own verdicts count beside the queue's: far more than the three queued.
    expect(expected.fromQueue).toBe(3);
    expect(expected.n).toBeGreaterThan(expected.fromQueue);

    const phased = await cli(dir, 'phase', 'drift-phase/suggest.yaml', '--db', db, '--json', 'out/drift-phase-phase.json');
    expect(phased.code, phased.stderr).toBe(0);
    const evidence = readJson('out/drift-phase-phase.json').suites[0].steps.find((s: { from: string }) => s.from === 'suggest').evidence;
    expect(evidence).toMatchObject({ runId: run.runId, n: expected.n, rate: expected.successes / expected.n, fromQueue: 3 });
    // One window holding the one run.
    const drifted = await cli(dir, 'drift', '--db', db, '--workflow', 'refund-triage', '--window', '1d', '--windows', '1', '--json', 'out/drift-phase-drift.json');
    expect(drifted.code, drifted.stderr).toBeLessThan(2);
    const report = readJson('out/drift-phase-drift.json');
    expect(report.source).toEqual({ kind: 'runs', db, runs: 1 });
    const { rate, n, ci95 } = evidence;
    expect(report.windows[0].figures.overrideRate).toEqual({ rate, n, successes: expected.successes, ci95 });
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
