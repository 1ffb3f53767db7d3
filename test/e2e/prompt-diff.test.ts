import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeApis } from '../providers/fake-apis.js';
import { copyExample } from './helpers.js';
import { launchChromium, openFile } from './chromium.js';
import { runCli } from '../../src/cli/program.js';
import { pct } from '../../src/report/format.js';

// prompt diff end to end, offline: the OpenAI API emulated by the example's scripted model,
// which lets instructions injected into a ticket through when the system prompt does not tell
// it to treat the message as data (triage.v3 does not, triage.v4 does). One week of traces.
const apis = createFakeApis();
let dir: string;
let cleanup: () => void;
let browser: Browser | undefined;
const SUITE = 'suites/prompt-week.yaml';

beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  const openai = readFileSync(join(dir, 'suites/refund-triage-openai.yaml'), 'utf8')
    .replace('name: refund-triage-openai', 'name: prompt-week')
    .replace('traces: ["../traces/refund-triage/*.jsonl"]', 'traces: ["../traces/refund-triage/2026-w44.jsonl"]')
    .replace(/^ {2}limits: .*$/m, '  limits: { concurrency: 16 }')
    // One week is 152 traces: too few to show an error rate of at most 2% (189), enough for 5% (73).
    .replace('errorRate: { max: 0.02 }', 'errorRate: { max: 0.05 }');
  writeFileSync(join(dir, SUITE), openai);
  writeFileSync(join(dir, 'suites/prompt-week-v3.yaml'), openai.replace('name: prompt-week', 'name: prompt-week-v3').replace('triage.v4.hbs', 'triage.v3.hbs'));
  apis.server.listen({ onUnhandledRequest: 'error' });
});
afterAll(async () => {
  apis.server.close();
  await browser?.close();
  cleanup();
});

async function shadowgate(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CI: 'true', OPENAI_API_KEY: 'sk-test-e2e', GITHUB_STEP_SUMMARY: join(dir, 'step-summary.md') },
    cwd: dir,
  });
  return { code, stdout, stderr };
}
const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('prompt list', () => {
  it('lists the versions in natural order and the suites that run each', async () => {
    const { code, stdout } = await shadowgate('prompt', 'list', '--json', 'out/prompts.json');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^triage {2}\(2 versions, fixtures\/refund-triage\/prompts\)\n {2}v3 {2}fixtures\/refund-triage\/prompts\/triage\.v3\.hbs {2}used by .*suites\/refund-triage-replay\.yaml/);
    const list = readJson('out/prompts.json');
    expect(list.prompts[0].versions.map((v: { version: string }) => v.version)).toEqual(['v3', 'v4']);
    expect(list.prompts[0].versions[1].suites).toContain('suites/refund-triage-openai.yaml');
  });
});

describe('prompt diff without a suite', () => {
  it('shows the template diff and both versions rendered for the first trace of a suite that runs the prompt', async () => {
    const { code, stdout } = await shadowgate('prompt', 'diff', 'triage', 'v3', 'v4');
    expect(code).toBe(0);
    expect(stdout).toContain('--- triage.v3\n+++ triage.v4\n@@ -1,');
    expect(stdout).toContain('+{{{input.ticket_text}}}');
    const first = JSON.parse(readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n')[0]!);
    expect(stdout).toMatch(new RegExp(`rendered for trace ${first.id} of suites/[\\w-]+\\.yaml: \\d+ line\\(s\\) added`));
    // The rendered side has the trace's values where the template has placeholders.
    expect(stdout).toContain(`+- ticket: ${first.input.ticket_id}`);
    expect(stdout).toContain(`-Ticket ${first.input.ticket_id} from customer ${first.input.customer_id}`);
    expect(apis.seen).toHaveLength(0);
  });

  it('names the versions there are when one is not there (exit 2)', async () => {
    const { code, stderr } = await shadowgate('prompt', 'diff', 'triage', 'v3', 'v9');
    expect(code).toBe(2);
    expect(stderr).toBe('error: prompt triage has no version v9 in fixtures/refund-triage/prompts\nhint: its versions: v3, v4\n');
  });
});

describe('prompt diff --suite', () => {
  it('runs both versions, the unchanged one from the cache, and reports the flips the two runs show', async () => {
    // The suite as it is (triage.v4) has run before: its answers are in the cache.
    const before = await shadowgate('run', SUITE, '--db', 'db.sqlite', '--json', 'out/v4.json', '--concurrency', '16');
    expect(before.code).toBe(0);
    const afterV4 = apis.seen.length;
    expect(afterV4).toBeGreaterThan(0);

    const diff = await shadowgate('prompt', 'diff', 'triage', 'v3', 'v4', '--suite', SUITE, '--db', 'db.sqlite', '--concurrency', '16', '--json', 'out/diff.json', '--report', 'out/report');
    expect(diff.stderr).not.toContain('error');
    expect(diff.code).toBe(0);
    // As every report folder's Markdown, the diff's goes to the job summary too.
    expect(readFileSync(join(dir, 'step-summary.md'), 'utf8')).toBe(`${readFileSync(join(dir, 'out/report/prompt-diff.md'), 'utf8')}\n`);
    const doc = readJson('out/diff.json');
    expect(doc.schema).toBe('shadowgate.prompt-diff/v1');
    const { a, b } = doc.behaviour.runs;
    // v4 is free: every one of its model calls is a cache hit; v3's went to the (emulated) provider.
    expect(b.modelCalls).toMatchObject({ network: 0, cacheHits: b.modelCalls.requests });
    expect(b.metrics.cost.spentUsd).toBe(0);
    expect(a.modelCalls.network).toBe(apis.seen.length - afterV4);
    expect(a.modelCalls.network).toBeGreaterThan(0);
    expect(diff.stdout).toContain(`v4: ${b.modelCalls.requests} model call(s): ${b.modelCalls.requests} cache hit(s), 0 to the provider`);

    // The flips, computed apart from the two versions' own runs (from the cache: no new calls).
    const v3run = await shadowgate('run', 'suites/prompt-week-v3.yaml', '--db', 'db.sqlite', '--json', 'out/v3.json', '--concurrency', '16');
    expect(v3run.code).toBeLessThanOrEqual(1);
    const seen = apis.seen.length;
    const agree = (file: string) => new Map<string, boolean | null>(readJson(file).results.map((r: { traceId: string; agree: boolean | null }) => [r.traceId, r.agree]));
    const v3 = agree('out/v3.json');
    const v4 = agree('out/v4.json');
    const fixes = [...v4].filter(([id, ok]) => ok === true && v3.get(id) === false).map(([id]) => id).sort();
    const regressions = [...v4].filter(([id, ok]) => ok === false && v3.get(id) === true).map(([id]) => id).sort();
    const flips = doc.behaviour.flips as { traceId: string; kind: string; divergence: { candidate: { name: string } | null; recorded: { name: string } | null } | null }[];
    expect(flips.filter((f) => f.kind === 'fix').map((f) => f.traceId).sort()).toEqual(fixes);
    expect(flips.filter((f) => f.kind === 'regression').map((f) => f.traceId).sort()).toEqual(regressions);
    expect(fixes.length).toBeGreaterThan(0);
    // What v4 fixed are the tickets with an injected instruction, where v3 refunded instead.
    const tags = new Map(readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((t) => [t.id, t.tags ?? []]));
    for (const id of fixes) expect(tags.get(id)).toContain('injection');
    for (const f of flips) expect(f.divergence?.recorded?.name).toBe('issue_refund');

    // The figures come from the two runs.
    const agreement = doc.behaviour.deltas.find((d: { name: string }) => d.name === 'agreement');
    expect(agreement).toMatchObject({ a: readJson('out/v3.json').metrics.agreement.rate, b: readJson('out/v4.json').metrics.agreement.rate, pairs: v3.size });
    expect(agreement.delta).toBeCloseTo((fixes.length - regressions.length) / v3.size, 12);
    expect(agreement.p).toBeLessThan(0.05);
    expect(doc.behaviour.toolCallDrift.perTool.issue_refund.reference).toBeGreaterThan(doc.behaviour.toolCallDrift.perTool.issue_refund.candidate);

    // Terminal: the flips with their divergence points, the figures with intervals and significance.
    expect(diff.stdout).toContain(`${fixes.length} flipped (${fixes.length} fixed, 0 regressed)`);
    expect(diff.stdout).toMatch(new RegExp(`agreement +${pct(agreement.a).replace('.', '\\.')} \\[`));
    expect(diff.stdout).toMatch(/agreement .*significant/);
    expect(diff.stdout).toContain(`    ${fixes[0]}  fixed`);
    expect(diff.stdout).toMatch(/diverges at v4 step \d+ \/ v3 step \d+: v4 calls \w+\(.*\), v3 calls issue_refund\(/);

    // Markdown has the same flips.
    const md = readFileSync(join(dir, 'out/report/prompt-diff.md'), 'utf8');
    for (const id of fixes) expect(md).toContain(`| \`${id}\` | fixed |`);
    expect(md).toContain('| figure | v3 | v4 | v4 − v3 (95% CI, paired) | McNemar p | significance |');
    expect(diff.stdout).toMatch(/figure +v3 +v4 +v4 − v3 \(95% CI, paired\) +McNemar p +significance\n/);

    // No path of this machine in what may be published: the templates as the project names them.
    expect([doc.a.file, doc.b.file]).toEqual(['fixtures/refund-triage/prompts/triage.v3.hbs', 'fixtures/refund-triage/prompts/triage.v4.hbs']);
    for (const file of ['out/diff.json', 'out/report/prompt-diff.json', 'out/report/prompt-diff.html', 'out/report/prompt-diff.md']) {
      expect(readFileSync(join(dir, file), 'utf8')).not.toContain(dir);
    }

    // Run again: nothing new reaches the provider.
    const again = await shadowgate('prompt', 'diff', 'triage', 'v3', 'v4', '--suite', SUITE, '--db', 'db.sqlite', '--concurrency', '16', '--json', 'out/again.json');
    expect(again.code).toBe(0);
    expect(apis.seen.length).toBe(seen);
    const twice = readJson('out/again.json');
    expect(twice.behaviour.runs.a.modelCalls.network).toBe(0);
    expect(twice.behaviour.flips).toEqual(doc.behaviour.flips);
  });

  it('shows the figures and the flips in the HTML page, in Chromium', async () => {
    const doc = readJson('out/diff.json');
    browser = await launchChromium();
    const { page, log } = await openFile(browser, join(dir, 'out/report/prompt-diff.html'));
    expect(await page.title()).toBe('shadowgate · prompt triage v3 → v4');
    const rows = await page.locator('table').first().locator('tbody tr').allInnerTexts();
    const agreement = doc.behaviour.deltas.find((d: { name: string }) => d.name === 'agreement');
    expect(rows[0]).toContain('agreement');
    expect(rows[0]).toContain(pct(agreement.a));
    expect(rows[0]).toContain(pct(agreement.b));
    expect(rows[0]).toContain('significant');
    const flipIds = await page.locator('h2:has-text("Flipped traces") + table tbody tr td:first-child').allInnerTexts();
    expect(flipIds.sort()).toEqual(doc.behaviour.flips.map((f: { traceId: string }) => f.traceId).sort());
    expect(await page.locator('pre.diff span.add').count()).toBeGreaterThan(0);
    expect(await page.locator('svg circle').count()).toBeGreaterThan(0);
    expect(log).toEqual({ console: [], pageErrors: [], otherRequests: [] });
  });
});
