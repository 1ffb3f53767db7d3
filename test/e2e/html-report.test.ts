import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport, writeHtmlReport } from '../../src/report/html.js';
import type { TraceResult } from '../../src/replay/types.js';
import { runSuite, type RunOutcome } from '../../src/run/run-suite.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { loadSuite } from '../../src/suite/load.js';
import { launchChromium, openFile } from './chromium.js';
import { copyExampleInto } from '../example.js';

const HOSTILE = [
  '<script>window.__pwned=1</script>',
  '"><img src=x onerror="window.__pwned=2">',
  "{{constructor.constructor 'alert(1)'}}",
];
const NOW = () => new Date('2026-11-21T10:00:00.000Z');

let dir: string;
let regression: { outcome: RunOutcome; results: TraceResult[] };
let hostile: { outcome: RunOutcome; results: TraceResult[] };

async function run(suiteFile: string, cwd: string) {
  const store = createMemoryStore();
  const outcome = await runSuite(await loadSuite(suiteFile), { store, cwd, now: NOW });
  return { outcome, results: [...store.results(outcome.meta.runId)] };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-html-'));
  // Hostile text in trace ids, inputs, recorded tool arguments and decisions. The candidate
  // echoes the input into its decision and its tool call; on the second trace it makes an
  // extra, unrecorded call (answered by the stub), so that the trace diverges.
  const traces = HOSTILE.map((text, i) =>
    JSON.stringify({
      schema: 'shadowgate.trace/v1',
      id: i === 0 ? `t0-${text}` : `t${i}`,
      workflow: 'w',
      input: { i, text },
      steps: [{ type: 'tool', name: 'lookup', args: { q: text }, result: { found: text } }],
      human: { decision: `reference ${text}` },
    }),
  );
  writeFileSync(join(dir, 'traces.jsonl'), `${traces.join('\n')}\n`);
  writeFileSync(join(dir, 'tools.yaml'), 'tools:\n  - name: lookup\n    effect: read\n    stub: { found: nothing }\n');
  writeFileSync(
    join(dir, 'echo.mjs'),
    `export async function run(input, ctx) {
  await ctx.tools.lookup({ q: input.text });
  if (input.i === 1) await ctx.tools.lookup({ q: 'again ' + input.text });
  return { decision: 'echo ' + input.text };
}
`,
  );
  writeFileSync(join(dir, 'suite.yaml'), 'name: hostile\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: echo.mjs }\ngate:\n  agreement: { min: 0.5 }\n');
  hostile = await run(join(dir, 'suite.yaml'), dir);
  // On a copy of the example: a user's own traces beside the bundled ones are not the example's.
  copyExampleInto(join(dir, 'example'));
  regression = await run(join(dir, 'example/suites/refund-triage-regression.yaml'), join(dir, 'example'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('renderHtmlReport', () => {
  it('shows the verdict, every gate check and the traces worth a look first', () => {
    const { outcome, results } = regression;
    const html = renderHtmlReport(outcome, results);
    expect(outcome.gate.verdict).toBe('fail');
    expect(html).toContain('<section class="verdict fail">');
    expect(html).toContain('<span class="word">FAIL</span>');
    expect(outcome.gate.checks.map((c) => c.name)).toEqual(['agreement', 'errorRate', 'policyViolations', 'coverage']);
    for (const check of outcome.gate.checks) expect(html).toContain(`<tr><td>${check.name}</td>`);
    // The first trace shown is one that disagrees, open, its decision next to the reference's.
    const first = results.find((r) => r.agree === false)!;
    expect(html).toContain(`<span class="tid">${first.traceId}</span>`);
    expect(html.indexOf('class="badge bad">disagrees')).toBeLessThan(html.indexOf('class="badge ok">agrees'));
    expect(html).toMatch(/<details class="trace flagged" open>/);
    // 300 of the 480 traces are listed, and no script of any kind is in the page.
    expect(html.match(/<details class="trace/g)).toHaveLength(300);
    expect(html).toContain(`${results.length - 300} more trace(s) left out`);
    expect(html).not.toMatch(/<script|\son\w+=|javascript:|https?:\/\/(?!www\.w3\.org)/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('is pure: the same run renders the same page', () => {
    expect(renderHtmlReport(regression.outcome, regression.results)).toBe(renderHtmlReport(regression.outcome, regression.results));
  });

  it('draws the baseline next to this run and lists the flips', () => {
    const { outcome, results } = regression;
    const baselineIdentity = { suite: 'refund-triage', candidate: { label: 'module:policy-v1.mjs', hash: 'abcdef0123456789' }, sameCandidate: false };
    const paired = { baselineRunId: 'base-run', baselineIdentity, regressions: ['rt-00001', 'rt-00002'], fixes: ['rt-00003'], mcnemarMidP: 0.375, pairs: 10, lost: [], undecided: 0, unpaired: { baseline: 0, candidate: 0 } };
    const html = renderHtmlReport({ ...outcome, metrics: { ...outcome.metrics, paired } }, results, { baseline: outcome.metrics });
    expect(html).toContain('Flips against the baseline, run base-run (suite refund-triage, candidate module:policy-v1.mjs abcdef0123)');
    expect(html).toContain('2 regression(s) and 1 fix(es) over 10 paired trace(s); McNemar mid-p 0.38');
    expect(html).toContain('<li>rt-00003</li>');
    expect(html).toContain('>baseline</text>');
  });

  it('says so when no model call was priced, and caps the traces at 300', () => {
    const { outcome, results } = regression;
    expect(outcome.metrics.cost.perRunUsd).toBeNull();
    const many = Array.from({ length: 320 }, (_, i) => ({ ...results[i % results.length]!, traceId: `x${i}` }));
    const html = renderHtmlReport(outcome, many);
    expect(html).toContain('no priced model calls');
    expect(html.match(/<details class="trace/g)).toHaveLength(300);
    expect(html).toContain('20 more trace(s) left out');
  });

  it('escapes hostile trace content and never evaluates it as a template', () => {
    const html = renderHtmlReport(hostile.outcome, hostile.results);
    expect(hostile.results.map((r) => r.status).sort()).toEqual(['completed', 'completed', 'completed']);
    expect(hostile.results.filter((r) => r.divergence !== null)).toHaveLength(1);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;window.__pwned&#x3D;1&lt;/script&gt;');
    expect(html).toContain('{{constructor.constructor &#x27;alert(1)&#x27;}}');
  });

  it("keeps a tool call's string argument on its step's line, and shows bidi overrides as escapes", () => {
    // A newline in an argument would draw a step of its own (the steps keep line breaks); a right-to-left override would reorder the page's text after it.
    const forged = hostile.results.map((r, i) =>
      i === 0 ? { ...r, decision: `refund\u202e`, steps: r.steps.map((s) => (s.type === 'tool' ? { ...s, args: { q: 'CUS-1)\n4.  escalate_to_human(reason: fraud)' } } : s)) } : r,
    );
    const html = renderHtmlReport(hostile.outcome, forged);
    expect(html).toContain(String.raw`lookup(q: CUS-1)\n4.  escalate_to_human(reason: fraud))`);
    expect(html).toContain(String.raw`refund\u202e`);
    expect(html).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f]/);
  });
});

describe('the HTML report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('runs nothing and loads nothing from hostile traces, and shows them as text', async () => {
    const file = join(dir, 'out', 'hostile.html');
    writeHtmlReport(file, hostile.outcome, hostile.results);
    const { page, log } = await openFile(browser, file);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(log.console.filter((m) => m.type === 'error')).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.otherRequests).toEqual([]);
    const text = await page.locator('body').innerText();
    for (const h of HOSTILE) {
      expect(text).toContain(`echo ${h}`); // the candidate's decision
      expect(text).toContain(`reference ${h}`); // the human's
      expect(text).toContain(`lookup(q: ${h})`); // the recorded and the candidate's call
    }
    expect(text).toContain(`t0-${HOSTILE[0]}`);
    expect(await page.locator('li.divergence').count()).toBe(2);
    await page.close();
  });

  it('renders the regression suite as a full page', async () => {
    const file = join(dir, 'regression.html');
    writeHtmlReport(file, regression.outcome, regression.results);
    const { page, log } = await openFile(browser, file);
    expect(log.otherRequests).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(await page.locator('.verdict .word').innerText()).toBe('FAIL');
    const png = join(dir, 'screenshot.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(existsSync(png)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(10_000);
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    await page.close();
  });
});
