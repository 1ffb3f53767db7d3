import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../src/drift/report.js';
import { createSqliteStore } from '../../src/store/sqlite.js';
import { aResult } from '../../src/testing/builders.js';
import { launchChromium, openFile } from './chromium.js';
import { cli, copyExample } from './helpers.js';

const DAY = 86_400_000;
const START = Date.parse('2026-10-05T00:00:00Z');

/**
 * Made-up production traces, 4 weeks of 60 a week: every run looks up the order, one in
 * five issues a refund and the rest deny. With `shift`, the last week refunds three in five.
 */
function traces(shift: boolean): string {
  const lines: string[] = [];
  for (let week = 0; week < 4; week++) {
    for (let i = 0; i < 60; i++) {
      const refunds = shift && week === 3 ? i % 5 < 3 : i % 5 === 0;
      const action = refunds ? 'refund' : 'deny';
      lines.push(
        JSON.stringify({
          schema: 'shadowgate.trace/v1',
          id: `w${week}-${i}`,
          workflow: i % 10 === 9 ? 'other-workflow' : 'refund-triage',
          recordedAt: new Date(START + week * 7 * DAY + i * 2 * 3_600_000).toISOString(),
          input: { i },
          steps: [
            { type: 'llm', model: 'gpt-4.1-mini', output: {}, usage: { inputTokens: 1000, outputTokens: 100 }, latencyMs: 800 + i },
            { type: 'tool', name: 'get_order', args: { i }, latencyMs: 40 },
            { type: 'tool', name: refunds ? 'issue_refund' : 'send_customer_email', args: { i }, latencyMs: 60 },
          ],
          outcome: { status: i % 20 === 7 ? 'escalated' : 'completed', decision: { action } },
          human: { decision: { action: i % 15 === 4 ? 'escalate' : action }, ...(i % 3 === 0 ? { verdict: i % 12 === 0 ? 'edited' : 'accepted' } : {}) },
        }),
      );
    }
  }
  lines.splice(17, 0, '{"schema":"shadowgate.trace/v1","id":"broken"}', JSON.stringify({ schema: 'shadowgate.trace/v1', id: 'undated', workflow: 'refund-triage', input: {}, steps: [] }));
  return `${lines.join('\n')}\n`;
}

const CONFIG = `# thresholds for the made-up refund-triage traces
window: 7d
windows: 4
workflow: refund-triage
minTraces: 20
compare: { fields: [action] }
thresholds:
  maxJsd: 0.05
  toolRatio: { max: 2, minCalls: 10 }
  agreement: { maxDrop: 0.1 }  # 35 runs a window at least (each window holds 54)
  errorRate: { max: 0.1 }
`;

let dir: string;
let browser: Browser | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-drift-'));
  writeFileSync(join(dir, 'shifted.jsonl'), traces(true));
  writeFileSync(join(dir, 'steady.jsonl'), traces(false));
  writeFileSync(join(dir, 'drift.yaml'), CONFIG);
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

const readReport = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as DriftReport;

describe('shadowgate drift over production traces', () => {
  it('detects a later week issuing refunds three times as often, and exits 1 naming the thresholds crossed', async () => {
    const { code, stdout, stderr } = await cli(dir, 'drift', 'shifted.jsonl', '--config', 'drift.yaml', '--json', 'shifted.json');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toContain('thresholds: FAIL (crossed: maxJsd, toolRatio.max)');
    expect(stdout).toContain('issue_refund called 3.00× as often per run (0.22 → 0.67 calls per run)');
    const report = readReport('shifted.json');
    expect(report.schema).toBe('shadowgate.drift/v1');
    // 54 of each week's 60 traces are refund-triage; the broken line and the undated trace are left out and said so.
    expect(report.windows.map((w) => w.figures.traces)).toEqual([54, 54, 54, 54]);
    expect(report.skipped).toEqual({ outside: 0, undated: 1, otherWorkflow: 24, invalid: 1 });
    expect(report.issues[0]).toMatchObject({ file: 'shifted.jsonl', line: 18 });
    const latest = report.windows[3]!;
    expect(latest.comparison!.perTool.issue_refund!.ratio).toBeCloseTo(3, 5);
    expect(latest.comparison!.perTool.get_order!.ratio).toBe(1);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['maxJsd', 'toolRatio.max']);
    // The earlier windows did not move.
    expect(report.windows.slice(1, 3).map((w) => w.comparison!.jsd)).toEqual([0, 0]);
  });

  it('exits 0 when nothing moved, with every figure per window; a line it could not read makes that inconclusive (exit 1), naming it', async () => {
    // steady.jsonl has its broken line: it may belong to a window judged.
    const loose = await cli(dir, 'drift', 'steady.jsonl', '--config', 'drift.yaml', '--json', 'steady-broken.json');
    expect(loose.code).toBe(1);
    expect(loose.stdout).toContain('thresholds: INCONCLUSIVE (1 trace line(s) could not be read (the first at steady.jsonl:18), and may belong to the windows judged: missing evidence; mend or remove them (`--strict` lists them all))');
    expect(readReport('steady-broken.json').checks.every((c) => c.status === 'pass')).toBe(true);
    writeFileSync(join(dir, 'steady-clean.jsonl'), traces(false).split('\n').filter((l) => !l.includes('"broken"')).join('\n'));
    const { code, stdout } = await cli(dir, 'drift', 'steady-clean.jsonl', '--config', 'drift.yaml', '--json', 'steady.json');
    expect(code).toBe(0);
    expect(stdout).toContain('thresholds: PASS (4 threshold(s), none crossed)');
    const f = readReport('steady.json').windows[3]!.figures;
    // Agreement on `action` only: the human escalated where i % 15 === 4 (2 of the 54); overrides: edited / reviewed.
    expect([f.agreement.successes, f.agreement.n]).toEqual([52, 54]);
    expect([f.overrideRate.successes, f.overrideRate.n]).toEqual([5, 18]);
    expect(f.escalationRate.successes).toBe(3);
    expect(f.errorRate.rate).toBe(0);
    expect(f.costPerCompletedUsd).toBeCloseTo(0.00056, 8);
    expect(f.tools).toEqual({ get_order: 54, issue_refund: 12, send_customer_email: 42 });
  });

  it('compares every window with a fixed range of dates', async () => {
    const { code } = await cli(dir, 'drift', 'shifted.jsonl', '--workflow', 'refund-triage', '--windows', '2', '--against', '2026-10-04..2026-10-11', '--json', 'range.json');
    expect(code).toBe(0); // no thresholds without a config
    const report = readReport('range.json');
    expect(report.against).toBe('range');
    expect(report.reference!.figures.traces).toBe(54);
    expect(report.windows.map((w) => w.comparison!.perTool.issue_refund!.ratio!.toFixed(2))).toEqual(['1.00', '3.00']);
  });

  it('rejects a bad config with its file, line and key, and a bad window length (exit 2)', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'window: 7d\nthresholds:\n  maxJsd: 2\n  agreemnt: { maxDrop: 0.05 }\n  errorRate: { max: 1 }\n');
    const bad = await cli(dir, 'drift', 'shifted.jsonl', '--config', 'bad.yaml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:3: thresholds\.maxJsd: .*1/);
    expect(bad.stderr).toContain('bad.yaml:4: thresholds.agreemnt: unknown key');
    // A threshold no window could cross is no threshold.
    expect(bad.stderr).toContain('bad.yaml:5: thresholds.errorRate.max: must be below 1: no window crosses it, and a threshold that cannot be crossed checks nothing (leave it out)');
    const length = await cli(dir, 'drift', 'shifted.jsonl', '--window', '7 days');
    expect([length.code, length.stderr]).toEqual([2, expect.stringContaining('not a window length')]);
  });

  it('writes report.md and a self-contained report.html whose figures and sparklines render in Chromium', async () => {
    const { code } = await cli(dir, 'drift', 'shifted.jsonl', '--config', 'drift.yaml', '--report', 'out');
    expect(code).toBe(1);
    const md = readFileSync(join(dir, 'out/report.md'), 'utf8');
    expect(md).toContain('## ❌ Drift of refund-triage: fail');
    expect(md).toMatch(/\| `issue_refund` \| 0\.22 \| 0\.22 \| 0\.22 \| 0\.67 \| `▁▁▁█` \| 3\.00× as often \|/);
    browser = await launchChromium();
    const { page, log } = await openFile(browser, join(dir, 'out/report.html'));
    expect(await page.locator('.banner b').textContent()).toBe('FAIL');
    // One sparkline per figure and per tool, each with a point per window.
    expect(await page.locator('table.figures').first().locator('svg.spark').count()).toBe(10);
    expect(await page.locator('svg.spark').first().locator('circle').count()).toBe(4);
    const refundRow = page.locator('table.figures').nth(1).locator('tr', { hasText: 'issue_refund' });
    expect(await refundRow.locator('td').allTextContents()).toEqual(['issue_refund', '0.22', '0.22', '0.22', '0.67', '', '3.00× as often']);
    const box = await page.locator('svg.spark').first().boundingBox();
    expect(box!.width).toBeGreaterThan(50);
    expect(await page.locator('span.status.fail').allTextContents()).toEqual(['fail', 'fail']);
    expect(log).toEqual({ console: [], pageErrors: [], otherRequests: [] });
  });

  it('leaves an invalid line out of the time windows too: a schema-invalid trace dated later does not move them', async () => {
    // Of the workflow, dated, but without input and steps: not a trace.
    const future = '{"schema":"shadowgate.trace/v1","id":"future","workflow":"refund-triage","recordedAt":"2027-06-01T00:00:00Z"}';
    writeFileSync(join(dir, 'future.jsonl'), `${traces(false)}${future}\n`);
    const { code, stdout } = await cli(dir, 'drift', 'future.jsonl', '--config', 'drift.yaml', '--json', 'future.json');
    expect(code).toBe(1); // the invalid lines are missing evidence: inconclusive
    const report = readReport('future.json');
    expect(report.windows.map((w) => w.figures.traces)).toEqual([54, 54, 54, 54]);
    expect(report.skipped).toMatchObject({ outside: 0, invalid: 2 });
    expect(stdout).toContain(`future.jsonl:${traces(false).split('\n').length}: `);
  });

  it('judges a single window against the window before it, read though not shown', async () => {
    const one = await cli(dir, 'drift', 'shifted.jsonl', '--config', 'drift.yaml', '--windows', '1', '--json', 'one.json');
    expect(one.code).toBe(1);
    expect(one.stdout).toContain('thresholds: FAIL (crossed: maxJsd, toolRatio.max)');
    expect(one.stdout).toMatch(/each against the window before it \(\S+ \S+ → \S+ \S+, 54 trace\(s\), not shown\)/);
    const report = readReport('one.json');
    expect([report.against, report.windows.length, report.reference!.figures.traces]).toEqual(['previous', 1, 54]);
    expect(report.windows[0]!.comparison!.perTool.issue_refund!.ratio).toBeCloseTo(3, 5);
    // The first week has nothing before it: no reference, so no verdict.
    writeFileSync(join(dir, 'jsd.yaml'), 'workflow: refund-triage\nthresholds: { maxJsd: 0.05 }\n');
    const first = await cli(dir, 'drift', 'shifted.jsonl', '--config', 'jsd.yaml', '--window', '1d', '--windows', '1', '--until', '2026-10-05T12:00:00Z');
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('thresholds: INCONCLUSIVE (its reference window has 0 run(s); thresholds need at least 1 (minTraces) on each side)');
  });

  it('reports a recordedAt that is not a date with its file, line and field, and --strict makes any bad line exit 2', async () => {
    const lines = traces(false).split('\n');
    lines[30] = lines[30]!.replace(/"recordedAt":"[^"]+"/, '"recordedAt":"garbage"');
    writeFileSync(join(dir, 'garbage.jsonl'), lines.join('\n'));
    const loose = await cli(dir, 'drift', 'garbage.jsonl', '--config', 'drift.yaml', '--json', 'garbage.json');
    expect(loose.code).toBe(1);
    expect(loose.stdout).toContain('garbage.jsonl:31: recordedAt: not a date: "garbage"');
    const report = readReport('garbage.json');
    expect(report.skipped).toMatchObject({ undated: 1, invalid: 2 });
    expect(report.issues).toContainEqual({ file: 'garbage.jsonl', line: 31, path: 'recordedAt', message: 'not a date: "garbage"' });

    const strict = await cli(dir, 'drift', 'garbage.jsonl', '--config', 'drift.yaml', '--strict');
    expect(strict.code).toBe(2);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toContain('garbage.jsonl:18: ');
    expect(strict.stderr).toContain('garbage.jsonl:31: recordedAt: not a date');
    expect(strict.stderr).toContain('drop --strict');
    const clean = await cli(dir, 'drift', 'steady.jsonl', '--workflow', 'refund-triage', '--strict');
    expect(clean.code).toBe(2); // steady.jsonl has its broken line too
    writeFileSync(join(dir, 'clean.jsonl'), traces(false).split('\n').filter((l) => !l.includes('"broken"')).join('\n'));
    expect((await cli(dir, 'drift', 'clean.jsonl', '--config', 'drift.yaml', '--strict')).code).toBe(0);
  });

  it('reads the files braces name as a suite does: a stepped range whole, and each name must be there', async () => {
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `part${n}.jsonl`), traces(false));
    const { code } = await cli(dir, 'drift', 'part{1..3..2}.jsonl', '--workflow', 'refund-triage', '--json', 'braces.json');
    expect(code).toBeLessThanOrEqual(1);
    expect(readReport('braces.json').source).toEqual({ kind: 'traces', files: ['part1.jsonl', 'part3.jsonl'] });
    // A file named twice, by braces, again, or through a link to it, is read once.
    symlinkSync(join(dir, 'part1.jsonl'), join(dir, 'part1-link.jsonl'));
    await cli(dir, 'drift', 'part{1,1}.jsonl', 'part1.jsonl', 'part1-link.jsonl', '--workflow', 'refund-triage', '--json', 'twice.json');
    expect(readReport('twice.json').source).toEqual({ kind: 'traces', files: ['part1.jsonl'] });
    const missing = await cli(dir, 'drift', 'part{1,9}.jsonl', '--workflow', 'refund-triage');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no trace file or folder matches part9.jsonl, which part{1,9}.jsonl names');
  });

  it('names the trace files as given, with no path of the machine in its reports', async () => {
    const { code } = await cli(dir, 'drift', '.', '--config', 'drift.yaml', '--windows', '2', '--report', 'paths');
    expect(code).toBeLessThanOrEqual(1);
    const report = JSON.parse(readFileSync(join(dir, 'paths/drift.json'), 'utf8')) as DriftReport;
    if (report.source.kind !== 'traces') throw new Error('expected trace files');
    expect(report.source.files).toContain('shifted.jsonl');
    for (const file of ['drift.json', 'report.md', 'report.html']) expect(readFileSync(join(dir, 'paths', file), 'utf8')).not.toContain(dir);
  });

  it('runs the nightly command over the bundled traces', async () => {
    // On a copy of the example: a user's own traces in traces/refund-triage/ are not the bundled three.
    const example = copyExample();
    try {
      const { code, stdout } = await cli(example.dir, 'drift', 'traces/refund-triage', '--config', 'fixtures/refund-triage/drift.yaml');
      expect(stdout).toContain('drift of refund-triage: 3 trace file(s), 3 window(s) of 7d');
      expect(code).toBe(0);
    } finally {
      example.cleanup();
    }
  });
});

describe('shadowgate drift over stored runs', () => {
  it('places each run at its start, with review-queue verdicts as the override rate of suggest runs stored without their settings, and says so', async () => {
    const db = join(dir, 'runs.db');
    const store = createSqliteStore(db);
    const meta = { suite: 'refund-triage', suiteFile: 's.yaml', suiteHash: 'h', candidateHash: 'c', model: null, promptVersion: null, phase: 'suggest', reference: 'human', gitCommit: null, gitRef: null, candidateSource: null };
    const days = ['2026-11-01T03:00:00Z', '2026-11-02T03:00:00Z', '2026-11-02T04:00:00Z'];
    days.forEach((startedAt, r) => {
      const runId = `run-${r}`;
      // The third is a noise floor's A/A replica: the flag on the run leaves it out, not its label.
      store.createRun({ ...meta, runId, candidate: 'module:v1.mjs', startedAt, replica: r === 2 ? 1 : 0 });
      for (let i = 0; i < 10; i++) {
        const escalates = r > 0 && i < 4;
        store.appendResult(runId, `t${i}#0`, aResult(`t${i}`, {
          status: i === 9 && r > 0 ? 'diverged' : escalates ? 'escalated' : 'completed',
          agree: i === 9 && r > 0 ? null : !escalates,
          costUsd: 0.01,
          latencyMs: 100,
          steps: [{ type: 'tool', name: escalates ? 'escalate_to_human' : 'issue_refund', args: {} }],
        }));
      }
      store.finishRun(runId, startedAt, {});
    });
    const item = store.enqueueReview({ runId: 'run-1', traceId: 't0', trial: 0, workflow: 'refund-triage', phase: 'suggest', input: {}, steps: [], suggestion: null, reference: null, enqueuedAt: days[1]! });
    store.addVerdict({ itemId: item, verdict: 'rejected', reviewer: 'ana', at: days[1]! });
    store.close();

    const { code, stdout } = await cli(dir, 'drift', '--db', db, '--window', '1d', '--windows', '2', '--workflow', 'refund-triage', '--json', 'runs.json');
    expect(code).toBe(0);
    expect(stdout).toContain('2 stored run(s)');
    // Each stored run holds one result per trace: the first row counts results, not runs.
    expect(stdout).toMatch(/\nresults +10 +10 /);
    const report = readReport('runs.json');
    // Stored without the settings runs keep now: their override rate counts the review queue alone, and the report says so.
    expect(report.source).toEqual({ kind: 'runs', db, runs: 2, queueOnly: 2 });
    expect(stdout).toContain("override rate: 2 suggest run(s) stored before runs kept their review settings count the review queue's verdicts alone");
    const [first, second] = report.windows.map((w) => w.figures);
    expect([first!.traces, second!.traces]).toEqual([10, 10]);
    expect([first!.agreement.rate, second!.agreement.rate]).toEqual([1, 5 / 9]);
    expect([first!.errorRate.rate, second!.errorRate.rate]).toEqual([0, 0.1]);
    expect([first!.overrideRate.rate, second!.overrideRate]).toEqual([null, expect.objectContaining({ rate: 1, n: 1 })]);
    expect(report.windows[1]!.comparison!.newTools).toEqual(['escalate_to_human']);
  });

  it("counts each case of a stored run once, by its first trial, so that a window's runs are cases (the unit of every floor)", async () => {
    // 40 cases × 5 trials: 200 results, 40 cases; the later trials all broke down.
    const db = join(dir, 'trials.db');
    const store = createSqliteStore(db);
    const meta = { suite: 'trials', suiteFile: 's.yaml', suiteHash: 'h', candidateHash: 'c', model: null, promptVersion: null, phase: 'shadow', reference: 'human', gitCommit: null, gitRef: null, candidateSource: null };
    store.createRun({ ...meta, runId: 'trials-1', candidate: 'module:v1.mjs', startedAt: '2026-11-02T03:00:00Z', replica: 0 });
    for (let c = 0; c < 40; c++) {
      for (let t = 0; t < 5; t++) store.appendResult('trials-1', `c${c}#${t}`, aResult(`c${c}`, { trial: t, ...(t > 0 ? { status: 'error', error: { code: 'CANDIDATE_THREW', message: 'x' } } : {}) }));
    }
    // A case whose only result is its recorded trial 3 counts (by that trial); a case of two traces, both trial 0, counts once.
    store.appendResult('trials-1', 'odd#3', aResult('odd', { trial: 3 }));
    store.appendResult('trials-1', 'pair-a#0', aResult('pair-a', { caseId: 'pair' }));
    store.appendResult('trials-1', 'pair-b#0', aResult('pair-b', { caseId: 'pair', status: 'error', error: { code: 'CANDIDATE_THREW', message: 'x' } }));
    store.finishRun('trials-1', '2026-11-02T03:00:00Z', {});
    store.close();
    const { stdout } = await cli(dir, 'drift', '--db', db, '--window', '1d', '--windows', '1', '--workflow', 'trials', '--json', 'trials.json');
    const report = readReport('trials.json');
    expect(report.source).toEqual({ kind: 'runs', db, runs: 1, laterTrials: 161 });
    expect(report.windows[0]!.figures.traces).toBe(42);
    expect(report.windows[0]!.figures.errorRate).toMatchObject({ n: 42, successes: 0 });
    expect(stdout).toContain('161 more result(s) of cases already counted left out: each case counts once, by its first result (lowest trial, then trace id)');
  });

  it('says so when the store has no finished run (exit 2)', async () => {
    const { code, stderr } = await cli(dir, 'drift', '--db', join(dir, 'empty.db'));
    expect(code).toBe(2);
    expect(stderr).toContain('no finished run in');
  });
});
